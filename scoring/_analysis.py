"""``analyse()``: the whole scoring pipeline behind one call, for the dashboard and the CLI.

responses ─► weights (raking) ─► survey indicators ─┐
incidents ─► field counts ─► incident indicators ───┴► components ─► priority, rank, simulation,
                                                                      quadrant, sensitivity, reasons
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core import InvalidInput, Location, Problem
from scoring._incidents import field_counts
from scoring._intervals import beta_draws, gamma_rate_draws
from scoring._priority import (
    COMPONENTS,
    combine,
    normalise_weights,
    perceived_score,
    quadrants,
    rank_fields,
    rank_summary,
    registered_score,
    typical_share,
    weight_sensitivity,
)
from scoring._rates import incident_indicators
from scoring._reasons import reason
from scoring._schema import INCIDENT_COLUMNS, RANKING_COLUMNS
from scoring._survey import MIN_CELL, Measure, district_variable, survey_indicators, tagged_fields
from scoring._weights import Margin, population_margins, trim_and_rake
from survey import ActionFieldCatalogue, Design, Questionnaire, Variable

FloatArray = NDArray[np.float64]

PER = 100_000.0

#: Separators tried between a municipality key and a district code to find district areas in
#: the incident and population tables ("14713000-01", "14713000_01", ...), then the bare code.
DISTRICT_SEPARATORS: tuple[str, ...] = ("-", "_", ".", "/", ":", " ", "")


@dataclass(frozen=True)
class _Simulation:
    areas: list[str]
    fields: list[str]
    perceived: FloatArray  # (areas, fields)
    registered: FloatArray
    perceived_draws: FloatArray  # (areas, fields, draws)
    registered_draws: FloatArray
    sensitivity_seed: int


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyse`.

    ``ranking``: one row per area × field (:data:`RANKING_COLUMNS`), the municipality first,
    then its districts, each sorted by rank. ``survey_indicators``: the long table of
    :func:`scoring.survey_indicators` with an ``area`` column. ``incident_indicators``: the
    table of :func:`scoring.incident_indicators` for the analysed year. ``rank_shift``: mean
    absolute rank shift per area × field under plausible weights. ``weights``: the component
    weights used.
    """

    ranking: pd.DataFrame
    survey_indicators: pd.DataFrame
    incident_indicators: pd.DataFrame
    rank_shift: pd.DataFrame
    weights: Mapping[str, float]
    area: str
    year: int | None
    survey_weighted: bool
    _simulation: _Simulation = field(repr=False)


def match_district_areas(
    municipality: str, codes: Sequence[str], areas: set[str]
) -> dict[str, str]:
    """District code → area key of the incident/population tables.

    A code ``c`` matches the first area among ``<municipality><sep><c>`` for the separators in
    :data:`DISTRICT_SEPARATORS`, then the bare code ``c``. Unmatched codes are left out.
    """
    out: dict[str, str] = {}
    for code in codes:
        candidates = [f"{municipality}{sep}{code}" for sep in DISTRICT_SEPARATORS] + [code]
        match = next((c for c in candidates if c in areas and c != municipality), None)
        if match is not None:
            out[code] = match
    return out


def _is_district_of(candidate: str, municipality: str) -> bool:
    """Whether ``candidate`` looks like ``<municipality><separator><code>``."""
    return (
        len(candidate) > len(municipality) + 1
        and candidate.startswith(municipality)
        and candidate[len(municipality)] in {s for s in DISTRICT_SEPARATORS if s}
    )


def _split_population(
    population: pd.DataFrame | None, margins_table: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(totals, sex/age rows): accepts a totals table or one table holding both kinds of row."""
    if population is None:
        return None, margins_table
    frame = population.copy()
    frame["area"] = frame["area"].astype(str)
    has_detail = [c for c in ("sex", "age_group") if c in frame.columns]
    if not has_detail:
        return frame, margins_table
    detail = frame[has_detail].notna().any(axis=1)
    totals = frame[~detail].drop(columns=has_detail)
    return totals, margins_table if margins_table is not None else frame[detail]


def _design_variable(questionnaire: Questionnaire, design: Design) -> Variable | None:
    return next(
        (v for v in questionnaire.variables() if v.design == design and v.kind == "single"), None
    )


def _problem(key: str, field_name: str | None = None, **params: object) -> Problem:
    return Problem(Location(field=field_name), key, params)


def _sorted_join(values: Iterable[object]) -> str:
    return ", ".join(sorted({str(v) for v in values}))


def analyse(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    catalogue: ActionFieldCatalogue,
    incidents: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    area: str | None = None,
    reference: str | None = None,
    year: int | None = None,
    weights: Mapping[str, float] | None = None,
    margins: Sequence[Margin] | None = None,
    population_margins_table: pd.DataFrame | None = None,
    draws: int = 2000,
    rng: np.random.Generator | None = None,
    min_cell: int = MIN_CELL,
) -> Analysis:
    r"""Rank the action fields of a municipality (and of each of its districts).

    Parameters
    ----------
    questionnaire, responses
        The questionnaire and its responses in the codebook layout.
    catalogue
        The action fields; their order is the order of the ranking's ties.
    incidents
        Tidy incident counts (``area, year, key, count``, as :func:`survey.read_incidents`
        gives them), or ``None`` for a survey-only ranking.
    population
        Population totals ``area, year, population`` (rows with ``sex``/``age_group`` are taken
        as weighting margins), or a BKA table's derived populations.
    area
        The official key of the municipality the survey belongs to. Needed when the incident
        data holds several candidate areas.
    reference
        The reference area of the SIR; by default the outermost areas of the input, pooled
        (see :func:`scoring.incident_indicators`).
    year
        The incident year; by default the latest.
    weights
        Component weights ``{"perceived": w_p, "registered": w_r}``; default 0.5/0.5.
    margins, population_margins_table
        Raking margins given directly, or the ``sex``/``age_group`` rows of a population table
        (``ImportResult.margins``). Without any, the survey is unweighted.
    draws
        Simulation draws for the rank intervals (100 to 100,000).

    Every step is described in ``docs/method.md``: shares with Wilson intervals on Kish's
    effective n, SIR with exact Poisson intervals, components on a 0–1 scale (a ratio
    :math:`R` against typical mapped to :math:`R/(1+R)`: the odds ratio of the share against
    the median share of the area's fields, and the SIR), their weighted mean over the
    available components, the 2×2 class, rank intervals from Beta/Gamma posterior draws, and
    a Dirichlet weight sensitivity.

    Raises
    ------
    survey.InvalidInput
        With every problem found (unknown area, reference or year, missing population, invalid
        weights or draws, responses without a questionnaire column).
    """
    problems: list[Problem] = []
    component_weights: FloatArray | None = None
    try:
        component_weights = normalise_weights(weights)
    except ValueError:
        problems.append(_problem("scoring.bad_weights", "weights", weights=dict(weights or {})))
    if not 100 <= draws <= 100_000:
        problems.append(_problem("scoring.bad_draws", "draws", draws=draws))
    variables = questionnaire.variables()
    if len(responses.columns) and not any(v.id in responses.columns for v in variables):
        problems.append(
            _problem(
                "scoring.responses_no_items",
                questionnaire=questionnaire.id,
                expected=", ".join(v.id for v in variables[:3]),
            )
        )
    generator = rng if rng is not None else np.random.default_rng()
    fields = catalogue.ids() + [f for f in tagged_fields(questionnaire) if f not in catalogue]
    totals, margins_table = _split_population(population, population_margins_table)

    # --- incidents ---------------------------------------------------------------------------
    indicators = pd.DataFrame(columns=["area", "year", "field", *INCIDENT_COLUMNS])
    chosen_year: int | None = year
    incident_areas: set[str] = set()
    area_names: dict[str, str] = {}
    if incidents is not None and len(incidents):
        frame = incidents.copy()
        frame["area"] = frame["area"].astype(str)
        incident_areas = set(frame["area"])
        if "area_name" in frame.columns:
            named = frame.dropna(subset=["area_name"])
            area_names = dict(zip(named["area"], named["area_name"].astype(str), strict=True))
        counts = field_counts(frame, catalogue)
        years = sorted({int(y) for y in counts["year"]})
        if chosen_year is None and years:
            chosen_year = years[-1]
        elif chosen_year not in years:
            problems.append(
                _problem(
                    "scoring.year_unknown", "year", year=chosen_year, years=_sorted_join(years)
                )
            )
        if reference is not None and reference not in incident_areas:
            problems.append(
                _problem(
                    "scoring.reference_unknown",
                    "reference",
                    reference=reference,
                    areas=_sorted_join(list(incident_areas)),
                )
            )
        if totals is None or not len(totals):
            problems.append(
                _problem(
                    "scoring.population_missing", "population", areas=_sorted_join(incident_areas)
                )
            )
        if not problems:
            assert totals is not None
            indicators = incident_indicators(
                counts[counts["year"] == chosen_year], totals, reference=reference
            )
            indicators = indicators.assign(area=indicators["area"].astype(str))

    # --- the municipality and its districts --------------------------------------------------
    known_areas = incident_areas | (set(totals["area"]) if totals is not None else set())
    municipality = area
    if municipality is not None and incident_areas and municipality not in known_areas:
        problems.append(
            _problem(
                "scoring.area_unknown", "area", area=municipality, areas=_sorted_join(known_areas)
            )
        )
    if municipality is None and incident_areas:
        candidates = [
            a
            for a in incident_areas
            if a != reference
            and not any(_is_district_of(a, b) for b in incident_areas - {reference})
        ]
        if len(candidates) == 1:
            municipality = candidates[0]
        else:
            problems.append(
                _problem("scoring.area_required", "area", areas=_sorted_join(list(incident_areas)))
            )
    if problems:
        raise InvalidInput(problems)
    assert component_weights is not None
    municipality = municipality if municipality is not None else questionnaire.id
    district = district_variable(questionnaire)
    district_codes = (
        [str(c) for c in district.scale.substantive_codes()]
        if district is not None and district.scale is not None
        else []
    )
    matched = match_district_areas(municipality, district_codes, known_areas)
    district_areas = {code: matched.get(code, f"{municipality}-{code}") for code in district_codes}

    # --- weights and survey indicators ---------------------------------------------------------
    chosen_margins = list(margins) if margins is not None else []
    if margins is None:
        chosen_margins = population_margins(
            area=municipality,
            year=chosen_year,
            margins_table=margins_table,
            totals_table=totals,
            sex=_design_variable(questionnaire, Design.SEX),
            age_group=_design_variable(questionnaire, Design.AGE_GROUP),
            district=district,
            district_areas=matched,
        )
    chosen_margins = [m for m in chosen_margins if all(c in responses.columns for c in m.columns)]
    survey_weights = (
        trim_and_rake(responses, chosen_margins).weights
        if chosen_margins and len(responses)
        else None
    )
    survey = survey_indicators(
        questionnaire, responses, fields=fields, weights=survey_weights, min_cell=min_cell
    )
    survey.insert(
        0,
        "area",
        [
            municipality if pd.isna(d) else district_areas.get(str(d), str(d))
            for d in survey["district"]
        ],
    )

    # --- components per (area, field) --------------------------------------------------------
    areas = [municipality, *(district_areas[c] for c in district_codes)]
    area_district: dict[str, str | None] = {municipality: None}
    area_district.update({district_areas[c]: c for c in district_codes})
    grid = pd.MultiIndex.from_product([areas, fields], names=["area", "field"])
    problem_rows = survey[survey["measure"] == str(Measure.PROBLEM)].set_index(["area", "field"])
    problem_rows = problem_rows.reindex(grid)
    incident_rows = indicators.set_index(["area", "field"]).reindex(grid)
    shape = (len(areas), len(fields))

    def values(frame: pd.DataFrame, column: str) -> FloatArray:
        if column not in frame.columns:
            return np.full(shape, np.nan)
        array = pd.to_numeric(frame[column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return array.reshape(shape)

    share = values(problem_rows, "share")
    n_eff = values(problem_rows, "n_eff")
    cases = values(incident_rows, "cases")
    expected = values(incident_rows, "expected")
    fallback_expected = (
        values(incident_rows, "population") * values(incident_rows, "reference_rate") / PER
    )
    expected = np.where(np.isfinite(expected), expected, fallback_expected)
    sir = values(incident_rows, "sir")
    typical = typical_share(share)
    perceived = perceived_score(share, typical)
    registered = registered_score(sir)

    perceived_draws = perceived_score(
        beta_draws(share, n_eff, draws, generator), typical[..., None]
    )
    registered_draws = registered_score(gamma_rate_draws(cases, expected, draws, generator))
    sensitivity_seed = int(generator.integers(0, 2**63 - 1))
    simulation = _Simulation(
        areas, fields, perceived, registered, perceived_draws, registered_draws, sensitivity_seed
    )
    quadrant, felt_high, registered_high = quadrants(share, values(incident_rows, "sir_ci_low"))

    # --- the ranking table ---------------------------------------------------------------------
    ranking = pd.DataFrame(
        {
            "area": grid.get_level_values("area").astype(str),
            "district": pd.array(
                [area_district[a] for a in grid.get_level_values("area")], dtype="string"
            ),
            "field": grid.get_level_values("field").astype(str),
            "year": pd.array([chosen_year] * len(grid), dtype="Int64"),
        }
    )
    for column in INCIDENT_COLUMNS:
        ranking[column] = values(incident_rows, column).ravel()
    ranking["cases"] = pd.array(
        [None if not np.isfinite(c) else round(c) for c in ranking["cases"]], dtype="Int64"
    )
    ranking["share_problem"] = share.ravel()
    ranking["share_ci_low"] = values(problem_rows, "ci_low").ravel()
    ranking["share_ci_high"] = values(problem_rows, "ci_high").ravel()
    ranking["n_respondents"] = pd.array(
        np.nan_to_num(values(problem_rows, "n_respondents").ravel()).astype(np.int64), dtype="Int64"
    )
    ranking["n_eff"] = n_eff.ravel()
    ranking["suppressed"] = (
        problem_rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    )
    ranking["perceived_score"] = perceived.ravel()
    ranking["registered_score"] = registered.ravel()
    ranking["quadrant"] = pd.array(list(quadrant.ravel()), dtype="string")
    ranking["felt_high"] = pd.array(list(felt_high.ravel()), dtype="boolean")
    ranking["registered_high"] = pd.array(list(registered_high.ravel()), dtype="boolean")

    reference_name = area_names.get(reference, reference) if reference is not None else None
    numbers = {
        column: pd.to_numeric(ranking[column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        for column in (
            "sir",
            "sir_ci_low",
            "sir_ci_high",
            "rate_per_100k",
            "rate_ci_low",
            "rate_ci_high",
            "share_problem",
            "share_ci_low",
            "share_ci_high",
        )
    }
    suppressed_flags = ranking["suppressed"].to_numpy(dtype=bool)
    for lang, column in (("de", "reason"), ("en", "reason_en")):
        texts = []
        for i, field_id in enumerate(ranking["field"]):
            labels = catalogue.get(field_id).label if field_id in catalogue else {}
            texts.append(
                reason(
                    label=labels.get(lang) or labels.get("de") or str(field_id),
                    lang=lang,
                    sir=float(numbers["sir"][i]),
                    sir_ci_low=float(numbers["sir_ci_low"][i]),
                    sir_ci_high=float(numbers["sir_ci_high"][i]),
                    rate=float(numbers["rate_per_100k"][i]),
                    rate_ci_low=float(numbers["rate_ci_low"][i]),
                    rate_ci_high=float(numbers["rate_ci_high"][i]),
                    reference_name=reference_name,
                    share=float(numbers["share_problem"][i]),
                    share_ci_low=float(numbers["share_ci_low"][i]),
                    share_ci_high=float(numbers["share_ci_high"][i]),
                    suppressed=bool(suppressed_flags[i]),
                    min_cell=min_cell,
                )
            )
        ranking[column] = texts

    analysis = Analysis(
        ranking=ranking,
        survey_indicators=survey,
        incident_indicators=indicators,
        rank_shift=pd.DataFrame(columns=["area", "field", "rank_shift"]),
        weights={},
        area=municipality,
        year=chosen_year,
        survey_weighted=survey_weights is not None,
        _simulation=simulation,
    )
    return _apply_weights(analysis, component_weights)


def _apply_weights(analysis: Analysis, component_weights: FloatArray) -> Analysis:
    """Priority, rank, rank interval and sensitivity for ``component_weights``."""
    sim = analysis._simulation
    priority = combine(sim.perceived, sim.registered, component_weights)
    rank = rank_fields(priority, axis=1)
    summary = rank_summary(combine(sim.perceived_draws, sim.registered_draws, component_weights))
    shift = weight_sensitivity(
        sim.perceived,
        sim.registered,
        component_weights,
        np.random.default_rng(sim.sensitivity_seed),
    )
    # Back to the (area, field) grid order the arrays use; rerank gets a sorted table.
    grid = pd.MultiIndex.from_product([sim.areas, sim.fields], names=["area", "field"])
    ranking = analysis.ranking.set_index(["area", "field"]).reindex(grid).reset_index()
    ranking["priority"] = priority.ravel()
    for column, array in (
        ("rank", rank),
        ("rank_low", summary.low),
        ("rank_high", summary.high),
        ("rank_median", summary.median),
    ):
        flat = array.ravel()
        ranking[column] = (
            pd.array([None if not np.isfinite(v) else round(v) for v in flat], dtype="Int64")
            if column != "rank_median"
            else flat
        )
    ranking["rank_shift"] = shift.ravel()
    area_order = {a: i for i, a in enumerate(sim.areas)}
    field_order = {f: i for i, f in enumerate(sim.fields)}
    ranking = (
        ranking.assign(
            _area=ranking["area"].map(area_order),
            _rank=ranking["rank"].astype("Float64").fillna(np.inf),
            _field=ranking["field"].map(field_order),
        )
        .sort_values(["_area", "_rank", "_field"], kind="stable")
        .drop(columns=["_area", "_rank", "_field"])
        .reset_index(drop=True)
    )
    ranking = ranking[list(RANKING_COLUMNS)]
    rank_shift = ranking[["area", "field", "rank_shift"]].copy()
    weights = dict(zip(COMPONENTS, (float(w) for w in component_weights), strict=True))
    return dataclasses.replace(analysis, ranking=ranking, rank_shift=rank_shift, weights=weights)


def rerank(analysis: Analysis, weights: Mapping[str, float]) -> Analysis:
    """The same analysis under other component weights, without re-reading any data.

    Reuses the stored components and posterior draws, so it is cheap enough for live weight
    sliders. Raises :class:`survey.InvalidInput` for invalid weights.
    """
    try:
        component_weights = normalise_weights(weights)
    except ValueError:
        raise InvalidInput(
            [_problem("scoring.bad_weights", "weights", weights=dict(weights))]
        ) from None
    return _apply_weights(analysis, component_weights)
