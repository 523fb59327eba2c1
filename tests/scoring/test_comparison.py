"""The comparison building blocks against independent computations (scipy, statsmodels) and
the real PKS 2022 totals of the Saxon Kreise."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.rates import confint_poisson_2indep

from scoring._comparison import (
    FALLBACK_GAMMA_SHAPE,
    gamma_shape,
    poisson_gamma,
    rate_change,
    rate_ratio,
    three_state,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def saxon_kreise() -> pd.DataFrame:
    """The 13 Saxon Kreise, PKS 2022 "Straftaten insgesamt", with population = cases·10⁵/HZ."""
    frame = pd.read_csv(
        FIXTURES / "pks2022_sachsen_kreise_insgesamt.csv",
        sep=";",
        dtype={"Gemeindeschluessel": str},
    )
    frame["population"] = frame["erfasste Faelle"] * 100_000 / frame["HZ nach Zensus"]
    return frame


def test_the_fixture_derives_leipzigs_population() -> None:
    kreise = saxon_kreise()
    leipzig = kreise.loc[kreise["Gemeindeschluessel"] == "14713", "population"].item()
    assert abs(leipzig - 601_892) <= 30


def test_three_to_nine_cases_is_a_ratio_of_three_with_an_honest_interval() -> None:
    result = rate_ratio(9, 1000, 3, 1000)
    assert result.ratio == pytest.approx(3.0)
    assert result.ratio_low == pytest.approx(0.88, abs=0.005)
    assert result.ratio_high == pytest.approx(10.24, abs=0.01)


@pytest.mark.parametrize(
    ("o", "n", "r", "m"),
    [(9, 1000, 3, 1000), (1, 300, 46, 4_000_000), (120, 50_000, 8_000, 4_000_000), (5, 7, 2, 3)],
)
def test_rate_ratio_matches_statsmodels_and_the_exact_binomial_test(
    o: int, n: float, r: int, m: float
) -> None:
    result = rate_ratio(o, n, r, m)
    low, high = confint_poisson_2indep(o, n, r, m, method="score")
    assert result.ratio_low == pytest.approx(low, rel=1e-6)
    assert result.ratio_high == pytest.approx(high, rel=1e-6)
    pi0 = n / (n + m)
    tails = stats.binom.cdf(o, o + r, pi0), stats.binom.sf(o - 1, o + r, pi0)
    assert result.p_value == pytest.approx(min(1.0, 2 * min(tails)))
    assert result.expected == pytest.approx(n * r / m)
    assert result.excess == pytest.approx(o - n * r / m)
    assert result.excess_low <= result.excess <= result.excess_high


def test_leipzig_against_the_rest_of_saxony_is_not_diluted_by_itself() -> None:
    kreise = saxon_kreise()
    is_leipzig = kreise["Gemeindeschluessel"] == "14713"
    o = kreise.loc[is_leipzig, "erfasste Faelle"].item()
    n = kreise.loc[is_leipzig, "population"].item()
    land_cases, land_population = kreise["erfasste Faelle"].sum(), kreise["population"].sum()
    against_rest = rate_ratio(o, n, land_cases - o, land_population - n)
    against_land = o / (n * land_cases / land_population)
    # Leipzig is 15 % of Saxony: comparing with a Land that contains it understates its excess
    assert against_rest.ratio > against_land
    excess_vs_land = o - n * land_cases / land_population
    assert against_rest.excess > 1.1 * excess_vs_land
    assert against_rest.ratio_low > 1
    assert against_rest.p_value < 1e-10


def test_zero_cases_have_a_lower_limit_of_zero_and_a_finite_upper_limit() -> None:
    # (statsmodels' score interval misbehaves at a zero count, so this is checked directly)
    result = rate_ratio(0, 300, 46, 4_000_000)
    assert result.ratio == 0.0
    assert result.ratio_low == 0.0
    expected = 300 * 46 / 4_000_000
    assert 1 / expected < result.ratio_high < math.inf
    assert result.excess == pytest.approx(-expected)
    assert result.p_value == pytest.approx(1.0)


def test_no_cases_anywhere_or_no_population_is_missing_not_zero() -> None:
    result = rate_ratio([0, 3], [100, 0], [0, 5], [1000, 1000])
    assert np.isnan(result.ratio).all()
    assert np.isnan(result.p_value).all()


def test_a_village_with_no_arson_is_unclear_never_certainly_low() -> None:
    shrunk = poisson_gamma(0, 0.06, FALLBACK_GAMMA_SHAPE)
    assert 0.9 < shrunk.mean < 1.0  # pulled almost all the way to the reference level
    assert shrunk.weight < 0.05
    assert three_state(shrunk.low, shrunk.high, 1.0).item() == "unclear"


def test_many_expected_cases_keep_their_own_estimate() -> None:
    shrunk = poisson_gamma(1500, 1000.0, FALLBACK_GAMMA_SHAPE)
    assert shrunk.mean == pytest.approx(1.5, abs=0.01)
    assert three_state(shrunk.low, shrunk.high, 1.0).item() == "high"


def test_the_posterior_is_the_conjugate_gamma() -> None:
    shrunk = poisson_gamma(np.array([3.0]), np.array([1.2]), 4.0)
    assert shrunk.mean[0] == pytest.approx(7.0 / 5.2)
    assert shrunk.low[0] == pytest.approx(stats.gamma.ppf(0.025, 7.0, scale=1 / 5.2))
    assert shrunk.high[0] == pytest.approx(stats.gamma.ppf(0.975, 7.0, scale=1 / 5.2))


def test_no_heterogeneity_gives_the_exact_poisson_interval() -> None:
    shrunk = poisson_gamma(np.array([0.0, 4.0]), np.array([2.0, 2.0]), math.inf)
    assert shrunk.low[0] == 0.0
    assert shrunk.high[0] == pytest.approx(stats.chi2.ppf(0.975, 2) / 2 / 2.0)
    assert shrunk.mean[1] == pytest.approx(2.0)


def test_gamma_shape_recovers_a_known_heterogeneity(rng: np.random.Generator) -> None:
    expected = rng.uniform(20, 400, size=400)
    theta = rng.gamma(5.0, 1 / 5.0, size=expected.size)
    observed = rng.poisson(expected * theta)
    result = gamma_shape(observed, expected)
    assert result.source == "estimated"
    assert 3.5 < result.shape < 7.0
    assert result.phi > 1
    assert result.p_value < 0.05


def test_poisson_counts_show_no_overdispersion(rng: np.random.Generator) -> None:
    expected = rng.uniform(5, 50, size=30)
    observed = rng.poisson(expected)
    result = gamma_shape(observed, expected)
    assert result.source == "none"
    assert math.isinf(result.shape)


def test_too_few_areas_use_the_documented_prior() -> None:
    result = gamma_shape([3, 10, 40], [5.0, 9.0, 20.0])
    assert result.source == "fallback"
    assert result.shape == FALLBACK_GAMMA_SHAPE
    assert result.areas == 3


def test_three_states() -> None:
    states = three_state([1.2, 0.5, 0.8, np.nan], [2.0, 0.9, 1.3, 1.0], 1.0)
    assert states.tolist() == ["high", "not_high", "unclear", None]


def test_two_years_give_a_rate_ratio_and_no_pretended_trend() -> None:
    change = rate_change([2024, 2025], [3, 9], [1000, 1000])
    assert change is not None
    assert change.method == "rate_ratio"
    assert change.ratio == pytest.approx(3.0)
    assert change.ratio_low == pytest.approx(0.88, abs=0.005)
    assert math.isnan(change.yearly_pct)


def test_a_trend_from_four_years_is_quasi_poisson_with_t(rng: np.random.Generator) -> None:
    years = np.arange(2018, 2025, dtype=float)
    population = np.full(years.size, 50_000.0)
    cases = rng.negative_binomial(5, 5 / (5 + 200 * 1.05 ** (years - 2018)))
    change = rate_change(years, cases, population)
    assert change is not None
    assert change.method == "quasi_poisson"
    exog = sm.add_constant(years - years.mean())
    fit = sm.GLM(cases, exog, family=sm.families.Poisson(), offset=np.log(population)).fit(
        scale="X2"
    )
    se = float(fit.bse[1]) * (1.0 if fit.scale >= 1 else math.sqrt(1 / fit.scale))
    t = stats.t.ppf(0.975, years.size - 2)
    assert change.yearly_pct == pytest.approx(100 * math.expm1(fit.params[1]))
    assert change.yearly_low == pytest.approx(100 * math.expm1(fit.params[1] - t * se))
    assert change.latest_year == 2024
    assert change.earlier_years[0] == 2018


def test_one_year_is_no_change() -> None:
    assert rate_change([2025], [4], [1000]) is None


def test_changes_of_every_area_and_field_at_once_equal_rate_change_one_by_one(
    rng: np.random.Generator,
) -> None:
    """registered_side computes the change over time of all area × fields in one pass
    (changes_over_time); each row equals scoring's rate_change on that area × field alone:
    one year (no change), two and three years (rate ratio), five years (quasi-Poisson), a
    year with a missing count, a field without any case, derived (non-integer) populations."""
    from scoring._registered import CHANGE_COLUMNS, changes_over_time

    records = []
    plan = {"a": 1, "b": 2, "c": 3, "d": 5}
    for area, n_years in plan.items():
        for field in ("theft", "arson", "none"):
            for year in range(2025 - n_years + 1, 2026):
                cases = (
                    0.0 if field == "none" else float(rng.poisson(40 if field == "theft" else 3))
                )
                people = 12_345.6 + 1000 * rng.random()
                records.append((area, year, field, cases, people))
    records.append(("c", 2024, "arson", math.nan, 12_000.0))
    frame = pd.DataFrame(records, columns=["area", "year", "field", "cases", "population"])
    rows = pd.DataFrame(
        [(a, f) for a in [*plan, "missing"] for f in ("theft", "arson", "none")],
        columns=["area", "field"],
    )
    fast = changes_over_time(frame, rows, 0.05)
    assert list(fast.columns) == list(CHANGE_COLUMNS)
    assert fast["change_method"].tolist().count("quasi_poisson") == 2
    for position, (area, field) in enumerate(zip(rows["area"], rows["field"], strict=True)):
        part = frame[(frame["area"] == area) & (frame["field"] == field)]
        change = rate_change(part["year"], part["cases"], part["population"])
        got = fast.iloc[position]
        if change is None:
            assert pd.isna(got["change_method"])
            assert math.isnan(got["change_ratio"])
            continue
        years = change.earlier_years
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        assert got["change_years"] == f"{change.latest_year} / {span}"
        assert got["change_method"] == change.method
        for column, value in (
            ("change_ratio", change.ratio),
            ("change_low", change.ratio_low),
            ("change_high", change.ratio_high),
            ("change_p", change.p_value),
            ("yearly_pct", change.yearly_pct),
            ("yearly_low", change.yearly_low),
            ("yearly_high", change.yearly_high),
        ):
            assert got[column] == pytest.approx(value, rel=1e-12, nan_ok=True), (area, field)
