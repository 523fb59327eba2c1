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

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from core import Location, Problem
from scoring._areas import contains, innermost, outermost
from scoring._comparison import (
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
    for field_id in sorted(set(this_year["field"].astype(str))):
        rows = spread_rows[spread_rows["field"].astype(str) == field_id]
        people_total = rows["population"].sum()
        rate = rows["cases"].sum() / people_total if people_total > 0 else 0.0
        dispersion[field_id] = gamma_shape(rows["cases"], rows["population"] * rate)
    out: list[dict[str, object]] = []
    for area in analysed:
        own = this_year[this_year["area"] == area]
        for key, o, n in zip(
            own["field"].astype(str),
            own["cases"].astype(float),
            own["population"].astype(float),
            strict=True,
        ):
            if key not in pooled_cases:
                continue
            ref_x, ref_n = pooled_cases[key], pooled_people[key]
            inside = choice.contains_area or area in choice.areas
            inside = inside or any(contains(r, area, names) for r in choice.areas)
            rest_x, rest_n = (ref_x - o, ref_n - n) if inside else (ref_x, ref_n)
            spread = dispersion.get(key) or gamma_shape([], [])
            out.append(
                {
                    "area": area,
                    "field": key,
                    **_figures(o, n, rest_x, rest_n, spread, alpha),
                    **_change(frame, area, key),
                }
            )
    columns = ["area", "field", *REGISTERED_COLUMNS]
    return pd.DataFrame(out, columns=columns), dispersion


def _figures(
    o: float, n: float, rest_x: float, rest_n: float, spread: Dispersion, alpha: float
) -> dict[str, object]:
    low, high = garwood_interval(np.array([o]), alpha)
    ratio = rate_ratio(o, n, rest_x, rest_n, alpha=alpha)
    expected = float(ratio.expected)
    shrunk = poisson_gamma(o, expected, spread.shape, alpha=alpha)
    sir = float(ratio.ratio)
    if spread.source != "estimated":
        # No spread shown by the data (or too few areas to test it): the exact interval; the
        # fallback prior only shrinks the estimate, it does not widen the state's interval.
        state_low, state_high = float(ratio.ratio_low), float(ratio.ratio_high)
    else:
        z = float(stats.norm.ppf(1 - alpha / 2))
        half = (
            z * math.sqrt(expected + expected**2 / spread.shape) / expected
            if expected
            else math.nan
        )
        state_low, state_high = max(0.0, sir - half), sir + half
    return {
        "cases": o,
        "population": n,
        "rate_per_100k": PER * o / n,
        "rate_ci_low": PER * float(low[0]) / n,
        "rate_ci_high": PER * float(high[0]) / n,
        "reference_rate": PER * rest_x / rest_n if rest_n > 0 else math.nan,
        "reference_population": rest_n,
        "expected": expected,
        "sir": sir,
        "sir_ci_low": float(ratio.ratio_low),
        "sir_ci_high": float(ratio.ratio_high),
        "sir_p": float(ratio.p_value),
        "excess": float(ratio.excess),
        "excess_low": float(ratio.excess_low),
        "excess_high": float(ratio.excess_high),
        "sir_shrunk": float(shrunk.mean),
        "sir_shrunk_low": float(shrunk.low),
        "sir_shrunk_high": float(shrunk.high),
        "shrinkage_weight": float(shrunk.weight),
        "registered_low": state_low,
        "registered_high_limit": state_high,
        "registered_state": three_state(state_low, state_high, 1.0).item(),
        "prior_shape": spread.shape,
        "prior_source": spread.source,
        "phi": spread.phi,
        "phi_p": spread.p_value,
    }


def _change(frame: pd.DataFrame, area: str, field_id: str) -> dict[str, object]:
    rows = frame[(frame["area"] == area) & (frame["field"] == field_id)]
    change = rate_change(rows["year"], rows["cases"], rows["population"])
    if change is None:
        return {
            "change_ratio": math.nan,
            "change_low": math.nan,
            "change_high": math.nan,
            "change_p": math.nan,
            "change_method": None,
            "change_years": None,
            "yearly_pct": math.nan,
            "yearly_low": math.nan,
            "yearly_high": math.nan,
        }
    years = change.earlier_years
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    return {
        "change_ratio": change.ratio,
        "change_low": change.ratio_low,
        "change_high": change.ratio_high,
        "change_p": change.p_value,
        "change_method": change.method,
        "change_years": f"{change.latest_year} / {span}",
        "yearly_pct": change.yearly_pct,
        "yearly_low": change.yearly_low,
        "yearly_high": change.yearly_high,
    }
