"""Incident indicators against reference implementations and hand-computed formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.rates import confint_poisson
from statsmodels.stats.rates import test_poisson as poisson_test

from core import InvalidInput
from scoring import funnel_limits, incident_indicators

AREAS = [f"14{i:03d}" for i in range(20)]
FIELDS = ["graffiti", "gewalt", "drogen"]


def synthetic(rng: np.random.Generator, *, dispersion: float = 0.0) -> tuple[pd.DataFrame, ...]:
    """Counts ~ Poisson(n·θ_f·u) with u ~ Gamma(1/dispersion) (u = 1 without dispersion)."""
    pops = rng.integers(800, 300_000, size=len(AREAS))
    population = pd.DataFrame({"area": AREAS, "year": 2023, "population": pops})
    rows = []
    for field, theta in zip(FIELDS, [4e-4, 2e-3, 1e-3], strict=True):
        shape = np.ones(len(AREAS))
        if dispersion:
            shape = rng.gamma(1 / dispersion, dispersion, size=len(AREAS))
        counts = rng.poisson(pops * theta * shape)
        rows += [(a, 2023, field, int(c)) for a, c in zip(AREAS, counts, strict=True)]
    counts = pd.DataFrame(rows, columns=["area", "year", "field", "cases"])
    return counts, population


def test_rate_interval_equals_statsmodels_exact_poisson(rng: np.random.Generator) -> None:
    counts, population = synthetic(rng)
    counts.loc[0, "cases"] = 0  # the zero case has a lower limit of 0
    result = incident_indicators(counts, population)
    for row in result.itertuples(index=False):
        low, high = confint_poisson(row.cases, row.population, method="exact-c", alpha=0.05)
        assert row.rate_per_100k == pytest.approx(1e5 * row.cases / row.population)
        assert row.rate_ci_low == pytest.approx(1e5 * low, rel=1e-9, abs=1e-12)
        assert row.rate_ci_high == pytest.approx(1e5 * high, rel=1e-9)


def test_sir_interval_and_p_equal_statsmodels(rng: np.random.Generator) -> None:
    counts, population = synthetic(rng)
    result = incident_indicators(counts, population, alpha=0.1)
    for row in result.itertuples(index=False):
        low, high = confint_poisson(row.cases, row.expected, method="exact-c", alpha=0.1)
        assert row.sir == pytest.approx(row.cases / row.expected)
        assert row.sir_ci_low == pytest.approx(low, rel=1e-9, abs=1e-12)
        assert row.sir_ci_high == pytest.approx(high, rel=1e-9)
        reference = poisson_test(row.cases, row.expected, 1.0, method="exact-c").pvalue
        assert row.sir_p == pytest.approx(min(1.0, reference), rel=1e-8, abs=1e-12)


def test_default_reference_is_the_pooled_input(rng: np.random.Generator) -> None:
    counts, population = synthetic(rng)
    result = incident_indicators(counts, population)
    merged = counts.merge(population, on=["area", "year"])
    for field, part in merged.groupby("field"):
        pooled = 1e5 * part["cases"].sum() / part["population"].sum()
        got = result.loc[result["field"] == field, "reference_rate"]
        assert np.allclose(got, pooled)
        # observed = expected in total against the pooled rate
        assert result.loc[result["field"] == field, "expected"].sum() == pytest.approx(
            part["cases"].sum()
        )


def test_named_reference_and_the_outermost_areas() -> None:
    counts = pd.DataFrame(
        {
            "area": ["14", "14713", "14729", "14713000-01"],
            "area_name": ["Sachsen", "Leipzig", "Leipzig", "Mitte"],
            "year": 2023,
            "field": "graffiti",
            "cases": [8000, 1200, 100, 400],
        }
    )
    population = pd.DataFrame(
        {
            "area": ["14", "14713", "14729", "14713000-01"],
            "year": 2023,
            "population": [4_000_000, 600_000, 260_000, 60_000],
        }
    )
    # Default: only the outermost area (the Land) is pooled, its districts are not added.
    default = incident_indicators(counts, population)
    assert np.allclose(default["reference_rate"], 200.0)
    by_name = incident_indicators(counts, population, reference="Sachsen")
    assert np.allclose(by_name["sir"], default["sir"])
    by_key = incident_indicators(counts, population, reference="14713")
    assert np.allclose(by_key["reference_rate"], 200.0)  # Leipzig's rate is 1,200/600,000
    with pytest.raises(InvalidInput) as error:
        incident_indicators(counts, population, reference="Leipzig")  # ambiguous name
    assert error.value.problems[0].key == "tables.unknown_reference"


def test_marshall_empirical_bayes_by_hand(rng: np.random.Generator) -> None:
    counts, population = synthetic(rng, dispersion=0.3)
    result = incident_indicators(counts, population)
    for field in FIELDS:
        part = result[result["field"] == field]
        x = part["cases"].to_numpy(float)
        n = part["population"].to_numpy(float)
        k = len(x)
        m = x.sum() / n.sum()
        r = x / n
        s2 = sum(n[i] * (r[i] - m) ** 2 for i in range(k)) / n.sum()
        a = max(0.0, s2 - m / (n.sum() / k))
        expected = [1e5 * (m + a / (a + m / n[i]) * (r[i] - m)) for i in range(k)]
        assert part["eb_rate"].to_numpy() == pytest.approx(expected, rel=1e-10)
        # shrinkage: the smoothed rates spread less than the raw ones
        assert np.var(part["eb_rate"]) < np.var(part["rate_per_100k"])


def test_eb_with_no_excess_variance_is_the_pooled_rate() -> None:
    counts = pd.DataFrame(
        {"area": ["a", "b", "c"], "year": 2023, "field": "f", "cases": [18, 20, 22]}
    )
    population = pd.DataFrame({"area": ["a", "b", "c"], "year": 2023, "population": [1e4] * 3})
    result = incident_indicators(counts, population)
    # s² = 2.7e-8 < m/n̄ = 20e-8, so A = 0 and every area gets the pooled rate.
    assert np.allclose(result["eb_rate"], 200.0)


def test_scaling_counts_and_populations_leaves_rates_unchanged(
    rng: np.random.Generator,
) -> None:
    counts, population = synthetic(rng)
    base = incident_indicators(counts, population)
    scaled = incident_indicators(
        counts.assign(cases=counts["cases"] * 7),
        population.assign(population=population["population"] * 7),
    )
    for column in ["rate_per_100k", "reference_rate", "sir"]:
        assert np.allclose(base[column], scaled[column], equal_nan=True)


def test_row_order_does_not_matter(rng: np.random.Generator) -> None:
    counts, population = synthetic(rng, dispersion=0.2)
    base = incident_indicators(counts, population).sort_values(["field", "area"])
    shuffled = counts.sample(frac=1, random_state=3).reset_index(drop=True)
    other = incident_indicators(shuffled, population.iloc[::-1]).sort_values(["field", "area"])
    pd.testing.assert_frame_equal(base.reset_index(drop=True), other.reset_index(drop=True))


def test_overdispersion_is_detected_and_z_adjusted(rng: np.random.Generator) -> None:
    plain = incident_indicators(*synthetic(rng))
    assert plain.groupby("field")["phi"].first().between(0.2, 2.5).all()
    over = incident_indicators(*synthetic(rng, dispersion=0.5))
    phi = over.groupby("field")["phi"].first()
    assert (phi > 3).all()
    expected = over["funnel_z"] / np.sqrt(over["phi"])
    assert np.allclose(over["funnel_z_adjusted"], expected)
    assert np.allclose(
        over["funnel_z"], (over["cases"] - over["expected"]) / np.sqrt(over["expected"])
    )


def test_missing_population_gives_nan_not_zero() -> None:
    counts = pd.DataFrame({"area": ["a", "b"], "year": 2023, "field": "f", "cases": [5, 6]})
    population = pd.DataFrame({"area": ["a"], "year": [2023], "population": [1000]})
    result = incident_indicators(counts, population).set_index("area")
    assert np.isnan(result.loc["b", "rate_per_100k"])
    assert result.loc["a", "rate_per_100k"] == pytest.approx(500.0)


def test_derived_population_is_flagged() -> None:
    counts = pd.DataFrame({"area": ["a"], "year": 2023, "field": "f", "cases": [5]})
    population = pd.DataFrame(
        {"area": ["a"], "year": [2023], "population": [1000], "derived": [True]}
    )
    assert incident_indicators(counts, population)["population_derived"].tolist() == [True]


def test_funnel_limits() -> None:
    grid = [1_000, 10_000, 1_000_000]
    limits = funnel_limits(200.0, grid)
    assert list(limits.columns) == [
        "population",
        "lower_95",
        "upper_95",
        "lower_99_8",
        "upper_99_8",
    ]
    assert (limits["lower_99_8"] <= limits["lower_95"]).all()
    assert (limits["upper_95"] <= limits["upper_99_8"]).all()
    assert (limits["lower_95"] < 200).all()
    assert (limits["upper_95"] > 200).all()
    # for a large population the exact limits approach the normal ones
    big = limits.iloc[-1]
    half_width = 1.959964 * np.sqrt(200e-5 / 1_000_000) * 1e5
    assert big["upper_95"] - 200 == pytest.approx(half_width, rel=0.02)
    wider = funnel_limits(200.0, grid, phi=4.0)
    assert (wider["upper_95"] > limits["upper_95"]).all()


def test_margin_rows_of_a_population_table_are_not_totals() -> None:
    counts = pd.DataFrame({"area": ["a"], "year": 2023, "field": "f", "cases": [5]})
    population = pd.DataFrame(
        {
            "area": ["a", "a", "a"],
            "year": 2023,
            "sex": ["m", "f", None],
            "age_group": [None, None, None],
            "population": [480, 520, 1000],
        }
    )
    result = incident_indicators(counts, population)
    assert result["population"].tolist() == [1000]


def test_additive_funnel_limits_do_not_narrow_to_nothing_for_large_areas() -> None:
    from scoring import funnel_limits

    populations = np.array([1_000.0, 100_000.0, 10_000_000.0])
    poisson = funnel_limits(500.0, populations)
    additive = funnel_limits(500.0, populations, tau2=0.04)
    width_poisson = poisson["upper_95"] - poisson["lower_95"]
    width_additive = additive["upper_95"] - additive["lower_95"]
    assert (width_additive >= width_poisson - 1e-9).all()
    # ±1.96·sqrt(τ²)·θ0 is what remains for a huge area
    assert width_additive.iloc[-1] == pytest.approx(2 * 1.96 * 0.2 * 500.0, rel=0.01)
