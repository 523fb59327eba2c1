from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from scoring import beta_draws, gamma_rate_draws, wilson_interval


@pytest.mark.parametrize(("x", "n"), [(0, 10), (1, 10), (7, 20), (38, 100), (100, 100), (3, 5)])
def test_wilson_equals_statsmodels(x: int, n: int) -> None:
    low, high = wilson_interval(x, n)
    expected_low, expected_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert float(low) == pytest.approx(expected_low, abs=1e-12)
    assert float(high) == pytest.approx(expected_high, abs=1e-12)


def test_wilson_vectorised_with_fractional_n() -> None:
    low, high = wilson_interval(np.array([3.3, 40.0]), np.array([10.5, 80.0]))
    assert low.shape == (2,)
    assert np.all(low < np.array([3.3 / 10.5, 0.5]))
    assert np.all(high > np.array([3.3 / 10.5, 0.5]))


def test_wilson_empty_cell_is_nan() -> None:
    low, high = wilson_interval(0, 0)
    assert np.isnan(low)
    assert np.isnan(high)


def test_beta_draws_centre_and_nan(rng: np.random.Generator) -> None:
    draws = beta_draws(np.array([0.3, np.nan]), np.array([400.0, 10.0]), 4000, rng)
    assert draws.shape == (2, 4000)
    assert np.mean(draws[0]) == pytest.approx(0.3, abs=0.01)
    assert np.all(np.isnan(draws[1]))


def test_gamma_draws_centre(rng: np.random.Generator) -> None:
    draws = gamma_rate_draws(np.array([200.0, 0.0]), np.array([100.0, 5.0]), 4000, rng)
    assert np.mean(draws[0]) == pytest.approx(2.005, rel=0.02)
    assert np.all(draws[1] > 0)
