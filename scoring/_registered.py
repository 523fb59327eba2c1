r"""The registered side of the ranking: each analysed area (the municipality and its districts)
against the *rest* of its reference, shrunk where few cases are expected, judged against the
spread between areas.

For an area :math:`a` with :math:`O` cases among :math:`n` inhabitants and a reference whose
other areas have :math:`R` cases among :math:`m` inhabitants (the reference *minus* the area
where the area lies inside it):

1. rate ratio :math:`\mathrm{SIR} = (O/n)/(R/m)`, its score interval and the exact conditional
   test (:func:`scoring._comparison.rate_ratio`); expected cases :math:`E = nR/m`; excess
   cases :math:`O - E` with interval;
2. the spread between the reference's areas (:func:`scoring._comparison.gamma_shape`): a
   tested overdispersion, as the shape :math:`\alpha` of a gamma prior on the SIR;
3. the shrunken SIR, :math:`(\alpha + O)/(\alpha + E)` with its posterior interval
   (:func:`scoring._comparison.poisson_gamma`): the registered score, the rank and its
   simulation use it, so 3 cases in a village do not outrank 1,200 excess cases in a city;
4. the state: *high* where the overdispersion-aware interval
   :math:`\mathrm{SIR} \pm z\sqrt{E + E^2/\alpha}/E` (Spiegelhalter 2005; where no
   overdispersion was shown, or too few areas to test it, the exact interval of step 1) lies
   above 1, *not high* where it lies at or
   below 1, else *unclear*. Zero cases with few expected are therefore unclear, never
   "certainly low".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from core import Location, Problem
from scoring._areas import contains, innermost, outermost
from scoring._comparison import (
    MIN_YEARS_FOR_TREND,
    Dispersion,
    gamma_shape,
    poisson_gamma,
    rate_change,
    rate_ratio,
    three_state,
)
from scoring._rates import garwood_interval
from scoring._schema import INCIDENT_COLUMNS

FloatArray = NDArray[np.float64]

PER = 100_000.0

#: Columns of :func:`registered_side`, one row per analysed area × field (the ranking's
#: registered columns, :data:`scoring._schema.INCIDENT_COLUMNS`).
REGISTERED_COLUMNS: tuple[str, ...] = INCIDENT_COLUMNS


@dataclass(frozen=True)
class ReferenceChoice:
    """What the analysed areas are compared with."""

    #: The reference areas pooled (one when named, the outermost areas by default).
    areas: tuple[str, ...]
    #: A name for reasons: the named reference's name, else ``None`` (the other areas).
    name: str | None
    #: Whether the municipality lies inside the reference (then it is subtracted).
    contains_area: bool


def choose_reference(
    areas: set[str],
    names: dict[str, str],
    municipality: str,
    reference: tuple[str, ...] | None,
) -> tuple[ReferenceChoice | None, list[Problem]]:
    """The reference of the comparison, or the problem that makes a comparison impossible.

    A named reference (one area, or a chosen set of areas) must not be the municipality
    itself. By default the outermost areas of the incident data are pooled; if they are only
    the municipality (and its districts), there is nothing to compare with.
    """
    if reference:
        if municipality in reference:
            return None, [
                Problem(
                    Location(field="reference"),
                    "scoring.reference_is_area",
                    {"area": municipality},
                )
            ]
        return (
            ReferenceChoice(
                tuple(reference),
                names.get(reference[0], reference[0]) if len(reference) == 1 else None,
                any(contains(r, municipality, names) for r in reference),
            ),
            [],
        )
    pool = outermost(areas, names)
    others = {a for a in pool if a != municipality and not contains(municipality, a, names)}
    if not others:
        return None, [
            Problem(
                Location(field="reference"),
                "scoring.reference_only_area",
                {"area": municipality},
            )
        ]
    inside = any(contains(a, municipality, names) or a == municipality for a in pool)
    return ReferenceChoice(tuple(sorted(pool)), None, inside), []


def _totals(frame: pd.DataFrame, areas: tuple[str, ...]) -> pd.DataFrame:
    """Cases and population of ``areas`` summed per field."""
    rows = frame[frame["area"].isin(areas)]
    return rows.groupby("field")[["cases", "population"]].sum(min_count=1)


def registered_side(
    counts: pd.DataFrame,
    population: pd.DataFrame,
    *,
    year: int,
    analysed: list[str],
    choice: ReferenceChoice,
    names: dict[str, str],
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, dict[str, Dispersion]]:
    """The registered figures of each analysed area × field for ``year`` (see the module).

    Parameters
    ----------
    counts
        ``area, year, field, cases`` of every year (change over time uses them all).
    population
        ``area, year, population`` totals.
    analysed
        The municipality, then its districts.

    Returns
    -------
    The table (``area, field`` and :data:`REGISTERED_COLUMNS`) and the dispersion per field.
    """
    people = population[["area", "year", "population"]].assign(area=lambda f: f["area"].astype(str))
    frame = counts.assign(area=counts["area"].astype(str)).merge(
        people, on=["area", "year"], how="left"
    )
    frame = frame[frame["population"] > 0]
    this_year = frame[frame["year"] == year]
    pooled = _totals(this_year, choice.areas)
    pooled_cases = {str(k): float(v) for k, v in pooled["cases"].items()}
    pooled_people = {str(k): float(v) for k, v in pooled["population"].items()}
    spread_areas = innermost(set(this_year["area"]), names) - set(analysed)
    spread_areas = {a for a in spread_areas if not any(contains(a, b, names) for b in analysed)}
    dispersion: dict[str, Dispersion] = {}
    spread_rows = this_year[this_year["area"].isin(spread_areas)]
    by_field = {str(f): part for f, part in spread_rows.groupby(spread_rows["field"].astype(str))}
    empty = spread_rows.iloc[:0]
    for field_id in sorted(set(this_year["field"].astype(str))):
        spread = by_field.get(field_id, empty)
        people_total = spread["population"].sum()
        rate = spread["cases"].sum() / people_total if people_total > 0 else 0.0
        dispersion[field_id] = gamma_shape(spread["cases"], spread["population"] * rate)
    rows: list[tuple[str, str, float, float, float, float]] = []
    by_area = {str(a): part for a, part in this_year.groupby("area")}
    for area in analysed:
        own = by_area.get(area)
        if own is None:
            continue
        inside = choice.contains_area or area in choice.areas
        inside = inside or any(contains(r, area, names) for r in choice.areas)
        for key, o, n in zip(
            own["field"].astype(str),
            own["cases"].astype(float),
            own["population"].astype(float),
            strict=True,
        ):
            if key not in pooled_cases:
                continue
            ref_x, ref_n = pooled_cases[key], pooled_people[key]
            rest_x, rest_n = (ref_x - o, ref_n - n) if inside else (ref_x, ref_n)
            rows.append((area, key, o, n, rest_x, rest_n))
    columns = ["area", "field", *REGISTERED_COLUMNS]
    if not rows:
        return pd.DataFrame(columns=columns), dispersion
    table = pd.DataFrame(rows, columns=["area", "field", "o", "n", "rest_x", "rest_n"])
    figures = _figures(table, dispersion, alpha)
    changes = changes_over_time(frame, table[["area", "field"]], alpha)
    out = pd.concat([table[["area", "field"]], figures, changes], axis=1)
    return out[columns], dispersion


def _figures(table: pd.DataFrame, dispersion: dict[str, Dispersion], alpha: float) -> pd.DataFrame:
    """The registered figures of every row at once (arrays, not a loop over rows)."""
    o, n = table["o"].to_numpy(float), table["n"].to_numpy(float)
    rest_x, rest_n = table["rest_x"].to_numpy(float), table["rest_n"].to_numpy(float)
    fallback = gamma_shape([], [])
    spreads = [dispersion.get(f, fallback) for f in table["field"]]
    shape = np.array([d.shape for d in spreads], dtype=float)
    estimated = np.array([d.source == "estimated" for d in spreads])
    low, high = garwood_interval(o, alpha)
    ratio = rate_ratio(o, n, rest_x, rest_n, alpha=alpha)
    expected = ratio.expected
    shrunk = _shrink(o, expected, shape, alpha)
    z = float(stats.norm.ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Where the data showed a spread, the overdispersion-aware interval; else the exact
        # one: the fallback prior only shrinks the estimate, it does not widen the state.
        half = z * np.sqrt(expected + expected**2 / np.where(estimated, shape, np.inf)) / expected
        state_low = np.where(estimated, np.maximum(0.0, ratio.ratio - half), ratio.ratio_low)
        state_high = np.where(estimated, ratio.ratio + half, ratio.ratio_high)
        reference_rate = np.where(rest_n > 0, PER * rest_x / rest_n, np.nan)
    return pd.DataFrame(
        {
            "cases": o,
            "population": n,
            "rate_per_100k": PER * o / n,
            "rate_ci_low": PER * low / n,
            "rate_ci_high": PER * high / n,
            "reference_rate": reference_rate,
            "reference_population": rest_n,
            "expected": expected,
            "sir": ratio.ratio,
            "sir_ci_low": ratio.ratio_low,
            "sir_ci_high": ratio.ratio_high,
            "sir_p": ratio.p_value,
            "excess": ratio.excess,
            "excess_low": ratio.excess_low,
            "excess_high": ratio.excess_high,
            "sir_shrunk": shrunk[0],
            "sir_shrunk_low": shrunk[1],
            "sir_shrunk_high": shrunk[2],
            "shrinkage_weight": shrunk[3],
            "registered_low": state_low,
            "registered_high_limit": state_high,
            "registered_state": list(three_state(state_low, state_high, 1.0)),
            "prior_shape": shape,
            "prior_source": [d.source for d in spreads],
            "phi": [d.phi for d in spreads],
            "phi_p": [d.p_value for d in spreads],
        }
    )


def _shrink(
    o: FloatArray, expected: FloatArray, shape: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`poisson_gamma` per row, with each row's own prior shape."""
    out = np.full((4, o.size), np.nan)
    for value in np.unique(shape):
        rows = shape == value
        post = poisson_gamma(o[rows], expected[rows], float(value), alpha=alpha)
        out[:, rows] = (post.mean, post.low, post.high, post.weight)
    return out[0], out[1], out[2], out[3]


#: The change-over-time columns of :func:`registered_side`, as :func:`changes_over_time` fills them.
CHANGE_COLUMNS: tuple[str, ...] = (
    "change_ratio",
    "change_low",
    "change_high",
    "change_p",
    "change_method",
    "change_years",
    "yearly_pct",
    "yearly_low",
    "yearly_high",
)


def changes_over_time(frame: pd.DataFrame, rows: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """:func:`scoring._comparison.rate_change` for every ``area, field`` of ``rows`` at once.

    The latest year against the pooled earlier years of each area × field (``frame``: ``area,
    year, field, cases, population`` of every year) in one :func:`rate_ratio` over arrays;
    only the area × fields with :data:`MIN_YEARS_FOR_TREND` years or more get their yearly
    quasi-Poisson trend one by one. Missing where fewer than two years have a population.
    """
    keys = [(str(a), str(f)) for a, f in zip(rows["area"], rows["field"], strict=True)]
    position_of = {key: i for i, key in enumerate(keys)}
    size = len(keys)
    group = np.array(
        [
            position_of.get((str(a), str(f)), -1)
            for a, f in zip(frame["area"], frame["field"], strict=True)
        ],
        dtype=np.int64,
    )
    years = pd.to_numeric(frame["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    cases = pd.to_numeric(frame["cases"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    people = pd.to_numeric(frame["population"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    keep = (group >= 0) & np.isfinite(years) & np.isfinite(cases) & np.isfinite(people)
    keep &= (people > 0) & (cases >= 0)
    group, years, cases, people = group[keep], years[keep], cases[keep], people[keep]
    latest_year = np.full(size, -np.inf)
    np.maximum.at(latest_year, group, years)
    latest = years == latest_year[group]

    def summed(values: FloatArray) -> FloatArray:
        return np.asarray(np.bincount(group, weights=values, minlength=size), dtype=np.float64)

    total_cases = summed(cases)
    ratio = rate_ratio(
        summed(np.where(latest, cases, 0.0)),
        summed(np.where(latest, people, 0.0)),
        summed(np.where(latest, 0.0, cases)),
        summed(np.where(latest, 0.0, people)),
        alpha=alpha,
    )
    distinct = sorted({(int(g), int(y)) for g, y in zip(group, years, strict=True)})
    n_years = np.bincount([g for g, _ in distinct], minlength=size).astype(np.int64)
    earlier: dict[int, list[int]] = {}
    for g, y in distinct:
        if y != latest_year[g]:
            earlier.setdefault(g, []).append(y)
    changed = n_years >= 2
    nan = np.full(len(rows), np.nan)
    methods: list[str | None] = ["rate_ratio" if c else None for c in changed]
    spans: list[str | None] = [None] * len(rows)
    yearly = np.full((3, len(rows)), np.nan)
    for position in np.flatnonzero(changed):
        span = earlier[int(position)]
        years_text = f"{span[0]}–{span[-1]}" if len(span) > 1 else str(span[0])
        spans[position] = f"{int(latest_year[position])} / {years_text}"
        if n_years[position] >= MIN_YEARS_FOR_TREND and total_cases[position] > 0:
            mine = group == position
            change = rate_change(years[mine], cases[mine], people[mine], alpha=alpha)
            assert change is not None
            methods[position] = change.method
            yearly[:, position] = (change.yearly_pct, change.yearly_low, change.yearly_high)
    out = pd.DataFrame(
        {
            "change_ratio": np.where(changed, ratio.ratio, nan),
            "change_low": np.where(changed, ratio.ratio_low, nan),
            "change_high": np.where(changed, ratio.ratio_high, nan),
            "change_p": np.where(changed, ratio.p_value, nan),
            "change_method": methods,
            "change_years": spans,
            "yearly_pct": yearly[0],
            "yearly_low": yearly[1],
            "yearly_high": yearly[2],
        }
    )
    return out
