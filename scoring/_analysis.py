"""``analyse()``: the whole scoring pipeline behind one call, for the dashboard and the CLI.

responses ─► weights (raking) ─► survey indicators ─┐
incidents ─► field counts ─► incident indicators ───┴► components ─► priority, rank, simulation,
                                                                      quadrant, sensitivity, reasons

:func:`analyse` is a sequence of named, pure steps: :func:`check_arguments`;
:func:`read_incident_data`, :func:`choose_year`, :func:`check_reference_and_population`,
:func:`incident_side`; :func:`choose_area`, :func:`district_areas`; :func:`weight_responses`,
:func:`survey_side`; :func:`combine_sides`, :func:`component_scores`, :func:`simulate`;
:func:`ranking_table` (with the 2×2 quadrants), :func:`add_reasons`; then, as :func:`rerank`
does, priority and rank, :func:`rank_intervals`, :func:`sensitivity` and :func:`in_rank_order`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core import InvalidInput, Location, Problem, localized, t
from scoring._areas import area_label
from scoring._comparison import (
    FALLBACK_GAMMA_SHAPE,
    MIN_AREAS_FOR_SHAPE,
    Dispersion,
    three_state,
)
from scoring._data_checks import missing_field_keys, unknown_keys
from scoring._incidents import field_counts
from scoring._intervals import beta_draws
from scoring._priority import (
    COMPONENTS,
    MISSING_SHARE_PRIOR_N,
    PERCEIVED_THRESHOLD,
    PerceivedReference,
    RankSummary,
    combine,
    normalise_weights,
    perceived_score,
    quadrants,
    rank_fields,
    rank_summary,
    registered_score,
    weight_sensitivity,
    with_neutral,
)
from scoring._rates import _population_totals, incident_indicators
from scoring._reasons import (
    PerceivedFigures,
    Reference,
    RegisteredFigures,
    reason,
    unranked_reason,
)
from scoring._registered import (
    REGISTERED_COLUMNS,
    ReferenceChoice,
    choose_reference,
    registered_side,
)
from scoring._schema import INCIDENT_COLUMNS, RANKING_COLUMNS
from scoring._survey import MIN_CELL, Measure, district_variable, survey_indicators, tagged_fields
from scoring._weights import Margin, MarginGap, population_margins, trim_and_rake
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
    #: Cells with at least one component: the others stay unranked.
    ranked: NDArray[np.bool_]


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyse`.

    ``ranking``: one row per area × field (:data:`RANKING_COLUMNS`), the municipality first,
    then its districts, each sorted by rank. ``survey_indicators``: the long table of
    :func:`scoring.survey_indicators` with an ``area`` column. ``incident_indicators``: the
    table of :func:`scoring.incident_indicators` for the analysed year (every area: the
    funnel plot). ``rank_shift``: mean absolute rank shift per area × field under plausible
    weights. ``weights``: the component weights used. ``warnings``: located warnings about
    the data (missing keys, unreachable margins, few reference areas …) to show wherever the
    ranking is shown. ``reference``: what the registered side was compared with;
    ``dispersion``: the tested spread between the reference's areas per field.
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
    warnings: list[Problem] = field(default_factory=list)
    reference: ReferenceChoice | None = None
    dispersion: Mapping[str, Dispersion] = field(default_factory=dict)
    perceived_threshold: float = PERCEIVED_THRESHOLD
    #: The perceived reference the shares were compared with (``None``: the threshold).
    perceived_reference: PerceivedReference | None = None


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


def _problem(key: str, field_name: str | None = None, **params: object) -> Problem:
    """A problem with an argument of :func:`analyse` (``field_name``), message ``key``."""
    return Problem(Location(field=field_name), key, params)


def _sorted_join(values: Iterable[object]) -> str:
    """Distinct values, sorted, comma-separated: the "present: ..." part of a message."""
    return ", ".join(sorted({str(v) for v in values}))


# -- step 1: the arguments -----------------------------------------------------------------------


def check_arguments(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    weights: Mapping[str, float] | None,
    draws: int,
) -> tuple[FloatArray | None, list[Problem]]:
    """The normalised component weights (``None`` if invalid) and the problems of the arguments.

    Checks the weights (:func:`scoring.normalise_weights`), the number of draws (100 to
    100,000) and that the responses hold at least one column of the questionnaire.
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
    return component_weights, problems


# -- step 2: the incident data, year, reference and population ------------------------------------


@dataclass(frozen=True)
class IncidentData:
    """The incident table reduced to what the choices need: field counts, areas and names."""

    counts: pd.DataFrame | None  # ``area, year, field, count`` of every year; None: no data
    areas: set[str]
    names: dict[str, str]

    @property
    def years(self) -> list[int]:
        """The years of the counts, oldest first."""
        return [] if self.counts is None else sorted({int(y) for y in self.counts["year"]})


def read_incident_data(
    incidents: pd.DataFrame | None, catalogue: ActionFieldCatalogue
) -> IncidentData:
    """Counts per area, year and action field (:func:`scoring.field_counts`), area keys and names."""
    if incidents is None or not len(incidents):
        return IncidentData(None, set(), {})
    frame = incidents.copy()
    frame["area"] = frame["area"].astype(str)
    names: dict[str, str] = {}
    if "area_name" in frame.columns:
        named = frame.dropna(subset=["area_name"])
        names = dict(zip(named["area"], named["area_name"].astype(str), strict=True))
    return IncidentData(field_counts(frame, catalogue), set(frame["area"]), names)


def choose_year(data: IncidentData, year: int | None) -> tuple[int | None, list[Problem]]:
    """The analysed year: ``year`` if the counts have it, by default the latest."""
    if data.counts is None:
        return year, []
    years = data.years
    if year is None and years:
        return years[-1], []
    if year not in years:
        return year, [
            _problem("scoring.year_unknown", "year", year=year, years=_sorted_join(years))
        ]
    return year, []


def reference_areas(reference: str | Sequence[str] | None) -> tuple[str, ...]:
    """The reference as a tuple of area keys or names: one area, or a chosen set of areas
    ("14521,14522,14523" or a sequence: e.g. the other municipalities of the Kreis)."""
    if reference is None:
        return ()
    parts = reference.split(",") if isinstance(reference, str) else list(reference)
    return tuple(p.strip() for p in parts if p.strip())


def check_reference_and_population(
    data: IncidentData, reference: str | Sequence[str] | None, totals: pd.DataFrame | None
) -> list[Problem]:
    """Problems of the incident side: an unknown reference area, no population at all."""
    if data.counts is None:
        return []
    problems: list[Problem] = []
    for unknown in [r for r in reference_areas(reference) if r not in data.areas]:
        problems.append(
            _problem(
                "scoring.reference_unknown",
                "reference",
                reference=unknown,
                areas=_sorted_join(list(data.areas)),
            )
        )
    if totals is None or not len(totals):
        problems.append(
            _problem("scoring.population_missing", "population", areas=_sorted_join(data.areas))
        )
    return problems


def incident_side(
    data: IncidentData,
    year: int | None,
    totals: pd.DataFrame,
    reference: str | Sequence[str] | None,
) -> pd.DataFrame:
    """Rates, SIR and their intervals per area × field of ``year``
    (:func:`scoring.incident_indicators`); an empty table without incident data."""
    if data.counts is None:
        return _no_incident_indicators()
    indicators = incident_indicators(
        data.counts[data.counts["year"] == year],
        totals,
        # the funnel's centre: a single named reference, else the pooled areas
        reference=refs[0] if len(refs := reference_areas(reference)) == 1 else None,
    )
    return indicators.assign(area=indicators["area"].astype(str))


def _no_incident_indicators() -> pd.DataFrame:
    """The incident indicators of an analysis without incident data: no rows."""
    return pd.DataFrame(columns=["area", "year", "field", *INCIDENT_COLUMNS])


# -- step 3: the municipality and its districts ----------------------------------------------------


def choose_area(
    area: str | None,
    reference: str | Sequence[str] | None,
    incident_areas: set[str],
    known_areas: set[str],
) -> tuple[str | None, list[Problem]]:
    """The municipality: ``area`` if the data know it, else the one outermost incident area.

    Without ``area``, the candidates are the incident areas other than the reference(s) that are
    no district (``<key><separator><code>``) of another; exactly one must remain.
    """
    if area is not None:
        if incident_areas and area not in known_areas:
            return area, [
                _problem("scoring.area_unknown", "area", area=area, areas=_sorted_join(known_areas))
            ]
        return area, []
    if not incident_areas:
        return None, []
    chosen = reference_areas(reference)
    candidates = [
        a
        for a in incident_areas
        if a not in chosen and not any(_is_district_of(a, b) for b in incident_areas - set(chosen))
    ]
    if len(candidates) == 1:
        return candidates[0], []
    return None, [
        _problem("scoring.area_required", "area", areas=_sorted_join(list(incident_areas)))
    ]


@dataclass(frozen=True)
class Districts:
    """The questionnaire's district variable and the area key of each of its codes."""

    variable: Variable | None
    codes: list[str]
    matched: dict[str, str]  # codes found in the incident/population tables
    areas: dict[str, str]  # every code: its matched key, else ``<municipality>-<code>``


def district_areas(
    questionnaire: Questionnaire, municipality: str, known_areas: set[str]
) -> Districts:
    """The districts of the survey and their area keys (:func:`match_district_areas`)."""
    variable = district_variable(questionnaire)
    codes = (
        [str(c) for c in variable.scale.substantive_codes()]
        if variable is not None and variable.scale is not None
        else []
    )
    matched = match_district_areas(municipality, codes, known_areas)
    areas = {code: matched.get(code, f"{municipality}-{code}") for code in codes}
    return Districts(variable, codes, matched, areas)


# -- step 4: the survey side ---------------------------------------------------------------------


def weight_responses(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    margins: Sequence[Margin] | None,
    municipality: str,
    year: int | None,
    margins_table: pd.DataFrame | None,
    totals: pd.DataFrame | None,
    districts: Districts,
) -> tuple[NDArray[np.float64] | None, list[Margin], list[MarginGap]]:
    """Raking weights of the responses (``None`` for an unweighted survey), the margins
    they were raked to and the margin categories the weights did not reach.

    The margins given, else those of the population table (sex, age group, district;
    :func:`scoring.population_margins`); margins on columns the responses lack are dropped.
    Weights are :func:`scoring.trim_and_rake` (iterative proportional fitting, Deming &
    Stephan 1940, with trimming).
    """
    chosen = list(margins) if margins is not None else []
    if margins is None:
        chosen = population_margins(
            area=municipality,
            year=year,
            margins_table=margins_table,
            totals_table=totals,
            sex=questionnaire.design_variable(Design.SEX),
            age_group=questionnaire.design_variable(Design.AGE_GROUP),
            district=districts.variable,
            district_areas=districts.matched,
        )
    chosen = [m for m in chosen if all(c in responses.columns for c in m.columns)]
    if not chosen or not len(responses):
        return None, [], []
    raked = trim_and_rake(responses, chosen)
    weights: NDArray[np.float64] = raked.weights
    return weights, chosen, raked.gaps


def survey_side(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    fields: list[str],
    weights: NDArray[np.float64] | None,
    min_cell: int,
    municipality: str,
    districts: Districts,
) -> pd.DataFrame:
    """The survey indicators (:func:`scoring.survey_indicators`) with an ``area`` column:
    the municipality for whole-survey rows, a district's area key for its rows."""
    survey = survey_indicators(
        questionnaire, responses, fields=fields, weights=weights, min_cell=min_cell
    )
    survey.insert(
        0,
        "area",
        [
            municipality if pd.isna(d) else districts.areas.get(str(d), str(d))
            for d in survey["district"]
        ],
    )
    return survey


# -- step 5: both sides on one (area, field) grid --------------------------------------------------


@dataclass(frozen=True)
class AnalysisGrid:
    """The survey's problem rows and the incident rows on the (area, field) grid."""

    areas: list[str]
    fields: list[str]
    area_district: dict[str, str | None]
    index: pd.MultiIndex
    problem_rows: pd.DataFrame
    incident_rows: pd.DataFrame

    def values(self, frame: pd.DataFrame, column: str) -> FloatArray:
        """``column`` of ``frame`` as an (areas, fields) array; all NaN if it is absent."""
        shape = (len(self.areas), len(self.fields))
        if column not in frame.columns:
            return np.full(shape, np.nan)
        array = pd.to_numeric(frame[column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return array.reshape(shape)

    def survey(self, column: str) -> FloatArray:
        """A column of the survey's problem rows as an (areas, fields) array."""
        return self.values(self.problem_rows, column)

    def incidents(self, column: str) -> FloatArray:
        """A column of the incident indicators as an (areas, fields) array."""
        return self.values(self.incident_rows, column)


def combine_sides(
    survey: pd.DataFrame,
    registered: pd.DataFrame,
    municipality: str,
    districts: Districts,
    fields: list[str],
) -> AnalysisGrid:
    """The municipality, then its districts, × the fields: one row per cell from each side."""
    areas = [municipality, *(districts.areas[c] for c in districts.codes)]
    area_district: dict[str, str | None] = {municipality: None}
    area_district.update({districts.areas[c]: c for c in districts.codes})
    index = pd.MultiIndex.from_product([areas, fields], names=["area", "field"])
    problem_rows = survey[survey["measure"] == str(Measure.PROBLEM)].set_index(["area", "field"])
    incident_rows = registered.set_index(["area", "field"]).reindex(index)
    return AnalysisGrid(
        areas, fields, area_district, index, problem_rows.reindex(index), incident_rows
    )


def perceived_reference_shares(
    fields: list[str],
    reference: Mapping[str, float] | PerceivedReference | None,
    threshold: float,
) -> FloatArray:
    """The share each field's perceived share is compared with: the field's perceived
    reference (an earlier wave, pooled municipalities) where given, else ``threshold``."""
    given = _reference_map(reference)
    return np.array([float(given.get(f, threshold)) for f in fields], dtype=np.float64)


def _reference_map(reference: Mapping[str, float] | PerceivedReference | None) -> dict[str, float]:
    if reference is None:
        return {}
    if isinstance(reference, PerceivedReference):
        return reference.share_map()
    return {str(k): float(v) for k, v in reference.items()}


def _as_perceived_reference(
    reference: Mapping[str, float] | PerceivedReference | None,
) -> PerceivedReference | None:
    """A plain ``field → share`` mapping is a table without a name."""
    if reference is None or isinstance(reference, PerceivedReference):
        return reference
    return PerceivedReference.of(reference, "table", "")


def component_scores(
    grid: AnalysisGrid, reference_shares: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Both components on a 0–1 scale, (areas, fields) each; ``NaN`` where missing.

    Perceived: the odds ratio :math:`R` of the share against the field's reference share,
    mapped to :math:`R/(1+R)`; registered: the shrunken SIR mapped the same way
    (:func:`scoring.perceived_score`, :func:`scoring.registered_score`; ``docs/method.md``).
    Neither depends on which other fields are analysed.
    """
    share = grid.survey("share")
    return (
        perceived_score(share, reference_shares[None, :]),
        registered_score(grid.incidents("sir_shrunk")),
    )


def simulate(
    grid: AnalysisGrid,
    perceived: FloatArray,
    registered: FloatArray,
    reference_shares: FloatArray,
    draws: int,
    generator: np.random.Generator,
) -> _Simulation:
    r"""The components with their posterior draws and the seed of the weight sensitivity.

    Perceived draws: :math:`p \sim \mathrm{Beta}(x + 0.5, n_{eff} - x + 0.5)` scored against
    the reference share; registered: the posterior of the shrunken SIR,
    :math:`\mathrm{Gamma}(\alpha + O, \alpha + E)` (:math:`\mathrm{Gamma}(O + 0.5, E)`
    without shown overdispersion). A missing component is neutral (0.5) with draws from its
    prior — a share :math:`\mathrm{Beta}(4 p_0, 4 (1 - p_0))` around the reference share, an
    SIR :math:`\mathrm{Gamma}(2, 2)` — so its rank interval widens instead of the present
    component counting double. The order of the draws is fixed, so one seed gives the same
    intervals.
    """
    shape = (len(grid.areas), len(grid.fields))
    has_share = np.isfinite(perceived)
    has_sir = np.isfinite(registered)
    reference = np.broadcast_to(reference_shares[None, :], shape)
    share_draws = beta_draws(grid.survey("share"), grid.survey("n_eff"), draws, generator)
    prior_shares = generator.beta(
        MISSING_SHARE_PRIOR_N * reference[..., None] * np.ones(draws),
        MISSING_SHARE_PRIOR_N * (1 - reference[..., None]) * np.ones(draws),
    )
    share_draws = np.where(has_share[..., None], share_draws, prior_shares)
    perceived_draws = perceived_score(share_draws, reference[..., None])
    posterior_shape = grid.incidents("shape_posterior")
    posterior_rate = grid.incidents("rate_posterior")
    known = np.isfinite(posterior_shape) & np.isfinite(posterior_rate) & (posterior_rate > 0)
    gamma_shape_ = np.where(known, posterior_shape, FALLBACK_GAMMA_SHAPE)
    gamma_rate_ = np.where(known, posterior_rate, FALLBACK_GAMMA_SHAPE)
    sir_draws = (
        generator.standard_gamma(np.broadcast_to(gamma_shape_[..., None], (*shape, draws)))
        / gamma_rate_[..., None]
    )
    registered_draws = registered_score(sir_draws)
    sensitivity_seed = int(generator.integers(0, 2**63 - 1))
    ranked = has_share | has_sir
    perceived_draws[~ranked] = np.nan
    registered_draws[~ranked] = np.nan
    return _Simulation(
        grid.areas,
        grid.fields,
        np.where(ranked, with_neutral(perceived), np.nan),
        np.where(ranked, with_neutral(registered), np.nan),
        perceived_draws,
        registered_draws,
        sensitivity_seed,
        ranked,
    )


# -- step 6: the ranking table and its reasons -----------------------------------------------------


def ranking_table(
    grid: AnalysisGrid,
    year: int | None,
    perceived: FloatArray,
    registered: FloatArray,
    reference_shares: FloatArray,
    perceived_reference: PerceivedReference | None = None,
) -> pd.DataFrame:
    """One row per area × field with both sides' figures, components and states, and the
    2×2 class (with "unclear").

    Priority and rank are added by :func:`_apply_weights`; the reasons by :func:`add_reasons`.
    """
    share_reference = np.broadcast_to(reference_shares[None, :], perceived.shape)
    felt_state = three_state(grid.survey("ci_low"), grid.survey("ci_high"), share_reference)
    registered_state = np.array(
        [v if isinstance(v, str) else None for v in grid.incident_rows["registered_state"]],
        dtype=object,
    ).reshape(perceived.shape)
    quadrant = quadrants(felt_state, registered_state)
    ranking = pd.DataFrame(
        {
            "area": grid.index.get_level_values("area").astype(str),
            "district": pd.array(
                [grid.area_district[a] for a in grid.index.get_level_values("area")],
                dtype="string",
            ),
            "field": grid.index.get_level_values("field").astype(str),
            "year": pd.array([year] * len(grid.index), dtype="Int64"),
        }
    )
    for column in INCIDENT_COLUMNS:
        values = grid.incident_rows[column].to_numpy() if column in grid.incident_rows else None
        if column in TEXT_INCIDENT_COLUMNS:
            ranking[column] = pd.array(
                [v if isinstance(v, str) else None for v in values]
                if values is not None
                else [None] * len(ranking),
                dtype="string",
            )
        else:
            ranking[column] = grid.incidents(column).ravel()
    ranking["cases"] = pd.array(
        [None if not np.isfinite(c) else round(c) for c in ranking["cases"]], dtype="Int64"
    )
    ranking["share_problem"] = grid.survey("share").ravel()
    ranking["share_ci_low"] = grid.survey("ci_low").ravel()
    ranking["share_ci_high"] = grid.survey("ci_high").ravel()
    ranking["n_respondents"] = pd.array(
        np.nan_to_num(grid.survey("n_respondents").ravel()).astype(np.int64), dtype="Int64"
    )
    ranking["n_eff"] = grid.survey("n_eff").ravel()
    ranking["suppressed"] = (
        grid.problem_rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    )
    ranking["share_reference"] = share_reference.ravel()
    ranking["felt_state"] = pd.array(list(felt_state.ravel()), dtype="string")
    ranking["perceived_score"] = perceived.ravel()
    ranking["registered_score"] = registered.ravel()
    ranking["quadrant"] = pd.array(list(quadrant.ravel()), dtype="string")
    ranking["_answered"] = np.nan_to_num(grid.survey("n_answered").ravel())
    given = perceived_reference.share_map() if perceived_reference is not None else {}
    ranking["_reference_source"] = [
        perceived_reference.source
        if perceived_reference is not None and f in given
        else "threshold"
        for f in ranking["field"]
    ]
    ranking["_reference_label"] = perceived_reference.label if perceived_reference else ""
    return ranking


#: Registered columns that hold text, not numbers.
TEXT_INCIDENT_COLUMNS: frozenset[str] = frozenset(
    {"registered_state", "prior_source", "change_method", "change_years"}
)


def _number(row: Mapping[Hashable, object], column: str) -> float:
    """A row's figure as a float, ``NaN`` where it is missing or not a number."""
    try:
        value = float(row[column])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return value


def add_reasons(
    ranking: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    reference: Reference,
    min_cell: int,
) -> None:
    """Add ``reason`` (German) and ``reason_en``, and ``unranked_reason(_en)`` where a field
    has neither component: one sentence per row (:func:`scoring.reason`)."""
    columns: dict[str, list[str | None]] = {
        "reason": [],
        "reason_en": [],
        "unranked_reason": [],
        "unranked_reason_en": [],
    }
    for row in ranking.to_dict("records"):  # plain dicts: far cheaper than iterrows
        field_id = str(row["field"])
        labels = catalogue.get(field_id).label if field_id in catalogue else {}
        registered = RegisteredFigures(
            cases=_number(row, "cases"),
            expected=_number(row, "expected"),
            sir=_number(row, "sir"),
            sir_low=_number(row, "sir_ci_low"),
            sir_high=_number(row, "sir_ci_high"),
            excess=_number(row, "excess"),
            excess_low=_number(row, "excess_low"),
            excess_high=_number(row, "excess_high"),
            sir_shrunk=_number(row, "sir_shrunk"),
            weight=_number(row, "shrinkage_weight"),
            state=row["registered_state"] if isinstance(row["registered_state"], str) else None,
            rate=_number(row, "rate_per_100k"),
            rate_low=_number(row, "rate_ci_low"),
            rate_high=_number(row, "rate_ci_high"),
        )
        perceived = PerceivedFigures(
            share=_number(row, "share_problem"),
            share_low=_number(row, "share_ci_low"),
            share_high=_number(row, "share_ci_high"),
            state=row["felt_state"] if isinstance(row["felt_state"], str) else None,
            threshold=_number(row, "share_reference"),
            suppressed=bool(row["suppressed"]),
            no_substantive=_number(row, "_answered") > 0 and not _number(row, "n_respondents") > 0,
            reference_source=str(row.get("_reference_source", "threshold")),
            reference_label=str(row.get("_reference_label", "")),
        )
        population = _number(row, "reference_population")
        row_reference = dataclasses.replace(reference, population=population)
        for lang, column, unranked_column in (
            ("de", "reason", "unranked_reason"),
            ("en", "reason_en", "unranked_reason_en"),
        ):
            label = localized(labels, lang, default=field_id)
            columns[column].append(
                reason(
                    label=label,
                    lang=lang,
                    registered=registered,
                    reference=row_reference,
                    perceived=perceived,
                    min_cell=min_cell,
                )
            )
            columns[unranked_column].append(unranked_reason(registered, perceived, lang, min_cell))
    for column, texts in columns.items():
        ranking[column] = pd.array(texts, dtype="string")


def population_sources(totals: pd.DataFrame | None, year: int | None) -> list[Problem]:
    """A note of where the populations of ``year`` came from, when some were derived from a
    BKA table (cases × 100,000 / HZ) rather than uploaded: which areas from which source."""
    if totals is None or "derived" not in totals.columns or year is None:
        return []
    rows = totals[totals["year"].astype(int) == year]
    derived = rows["derived"].astype(bool)
    if not derived.any():
        return []
    return [
        Problem(
            Location(field="population"),
            "scoring.warning.population_sources",
            {
                "uploaded": ", ".join(sorted(rows.loc[~derived, "area"].astype(str))) or "–",
                "derived": ", ".join(sorted(rows.loc[derived, "area"].astype(str))),
                "year": year,
            },
            severity="warning",
        )
    ]


def data_warnings(
    incidents: pd.DataFrame | None,
    catalogue: ActionFieldCatalogue,
    municipality: str,
    year: int | None,
    dispersion: Mapping[str, Dispersion],
    gaps: list[Problem],
) -> list[Problem]:
    """Located warnings about the data the ranking rests on (see :mod:`scoring._data_checks`):
    keys nobody uses, fields without police figures, margins weighting could not reach, and
    fields whose spread between areas rests on too few areas (a documented prior instead)."""
    warnings: list[Problem] = []
    if incidents is not None and len(incidents):
        warnings += unknown_keys(incidents, catalogue)
        if year is not None:
            warnings += missing_field_keys(incidents, catalogue, area=municipality, year=year)
    few = [f for f in catalogue.ids() if f in dispersion and dispersion[f].source == "fallback"]
    if few:
        every = len(few) == len(dispersion)
        labels = ", ".join(localized(catalogue.get(f).label, "de", default=f) for f in few)
        warnings.append(
            Problem(
                Location(field="reference"),
                "scoring.warning.few_reference_areas_all"
                if every
                else "scoring.warning.few_reference_areas",
                {"fields": labels, "minimum": MIN_AREAS_FOR_SHAPE},
                severity="warning",
            )
        )
    return warnings + gaps


#: Below this many respondents the survey side cannot carry a statement of its own: the
#: page, the report and the command line say so first (the findings page uses the same
#: threshold on the effective sample size).
SMALL_SURVEY = 20


def weighting_warnings(questionnaire: Questionnaire, gaps: Sequence[MarginGap]) -> list[Problem]:
    """One located warning per margin (sex, age group, district …) whose categories the
    weighting could not reach (:func:`scoring.margin_gaps`, as :func:`scoring.trim_and_rake`
    reports them): how many groups, and the one furthest off with its achieved and target
    share, named as the questionnaire names it."""
    by_margin: dict[tuple[str, ...], list[MarginGap]] = {}
    for gap in gaps:
        by_margin.setdefault(gap.columns, []).append(gap)
    warnings = []
    for columns, gaps in by_margin.items():
        worst = max(gaps, key=lambda g: abs(g.achieved - g.target))
        warnings.append(
            Problem(
                Location(field="/".join(columns)),
                "scoring.warning.margin_not_reached",
                {
                    "margin": " × ".join(_variable_label(questionnaire, c) for c in columns),
                    "count": len(gaps),
                    "category": _category_label(questionnaire, columns, worst.category),
                    "achieved": round(100 * worst.achieved),
                    "target": round(100 * worst.target),
                },
                severity="warning",
            )
        )
    return warnings


def _variable_label(questionnaire: Questionnaire, variable_id: str) -> str:
    """A weighting variable by what it is ("Geschlecht"), not by its question text."""
    variable = next((v for v in questionnaire.variables() if v.id == variable_id), None)
    if variable is None:
        return variable_id
    language = questionnaire.meta.default_language
    if variable.design is not None:
        return t(f"scoring.design.{variable.design}", language)
    return questionnaire.text(variable.label, language)


def _category_label(
    questionnaire: Questionnaire, columns: tuple[str, ...], category: object
) -> str:
    """A margin category as the questionnaire's option labels ("weiblich, 65 Jahre und älter")."""
    codes = category if isinstance(category, tuple) else (category,)
    labels = []
    for column, code in zip(columns, codes, strict=False):
        variable = next((v for v in questionnaire.variables() if v.id == column), None)
        options = variable.scale.options if variable is not None and variable.scale else []
        label = next((o.label for o in options if str(o.code) == str(code)), None)
        language = questionnaire.meta.default_language
        labels.append(questionnaire.text(label, language) if label else str(code))
    return ", ".join(labels)


def survey_size_warning(survey: pd.DataFrame, responses: pd.DataFrame) -> list[Problem]:
    """A warning, shown first, when the survey has fewer than :data:`SMALL_SURVEY` responses."""
    if len(responses) >= SMALL_SURVEY:
        return []
    return [
        Problem(
            Location(field="responses"),
            "scoring.warning.small_survey",
            {"n": len(responses), "minimum": SMALL_SURVEY},
            severity="warning",
        )
    ]


# -- the pipeline --------------------------------------------------------------------------------


def analyse(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    catalogue: ActionFieldCatalogue,
    incidents: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    area: str | None = None,
    reference: str | Sequence[str] | None = None,
    year: int | None = None,
    weights: Mapping[str, float] | None = None,
    margins: Sequence[Margin] | None = None,
    population_margins_table: pd.DataFrame | None = None,
    draws: int = 2000,
    rng: np.random.Generator | None = None,
    min_cell: int = MIN_CELL,
    perceived_reference: Mapping[str, float] | PerceivedReference | None = None,
    perceived_threshold: float = PERCEIVED_THRESHOLD,
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
        The reference area (key or name), or a chosen set of areas (a sequence, or keys
        separated by commas: e.g. the other municipalities of the Kreis, or those of the same
        size class); the municipality is compared with the reference *minus* itself where it
        lies inside it. By default the outermost areas of the input
        other than the municipality, pooled. An error when the reference is the municipality
        or the input holds nothing else.
    year
        The incident year; by default the latest.
    weights
        Component weights ``{"perceived": w_p, "registered": w_r}``; default 0.5/0.5.
    margins, population_margins_table
        Raking margins given directly, or the ``sex``/``age_group`` rows of a population table
        (``ImportResult.margins``). Without any, the survey is unweighted.
    draws
        Simulation draws for the rank intervals (100 to 100,000).
    perceived_reference, perceived_threshold
        The share each field's perceived share is compared with: a perceived reference per
        field (:class:`scoring.PerceivedReference`: an earlier wave or a given table; a plain
        ``field → share`` mapping counts as an unnamed table), else the threshold (default
        25 %). The reasons name which one each field was compared with.

    Every step is described in ``docs/method.md``: shares with Wilson intervals on Kish's
    effective n; rate ratios against the rest of the reference (conditional binomial), shrunk
    by a Poisson–gamma model whose strength is estimated across the reference's areas, with an
    overdispersion-aware state; components on a 0–1 scale (a ratio :math:`R` mapped to
    :math:`R/(1+R)`: the odds ratio of the share against its reference share, and the shrunken
    SIR), a missing component neutral with widened uncertainty; three states per component and
    the 2×2 class with "unclear"; rank intervals from posterior draws; a Dirichlet weight
    sensitivity; located warnings about the data.

    Raises
    ------
    survey.InvalidInput
        With every problem found (unknown area, reference or year, missing population, invalid
        weights or draws, responses without a questionnaire column).
    """
    # 1. The arguments, then every choice; all problems are reported together.
    component_weights, problems = check_arguments(questionnaire, responses, weights, draws)
    generator = rng if rng is not None else np.random.default_rng()
    fields = catalogue.ids() + [f for f in tagged_fields(questionnaire) if f not in catalogue]
    totals, margins_table = _split_population(population, population_margins_table)
    data = read_incident_data(incidents, catalogue)
    chosen_year, year_problems = choose_year(data, year)
    problems += year_problems
    problems += check_reference_and_population(data, reference, totals)
    # 2. The municipality, its districts and what it is compared with.
    known_areas = data.areas | (set(totals["area"]) if totals is not None else set())
    chosen_area, area_problems = choose_area(area, reference, data.areas, known_areas)
    problems += area_problems
    municipality = chosen_area if chosen_area is not None else questionnaire.id
    choice: ReferenceChoice | None = None
    if data.counts is not None and not problems:
        choice, reference_problems = choose_reference(
            data.areas, data.names, municipality, reference_areas(reference) or None
        )
        problems += reference_problems
    if problems:
        raise InvalidInput(problems)
    assert component_weights is not None
    districts = district_areas(questionnaire, municipality, known_areas)
    analysed = [municipality, *(districts.areas[c] for c in districts.codes)]
    # 3. The registered side: every area for the funnel plot; the analysed areas against the
    #    rest of the reference, shrunk and judged against the spread between areas.
    indicators = _no_incident_indicators()
    registered = pd.DataFrame(columns=["area", "field", *REGISTERED_COLUMNS])
    dispersion: dict[str, Dispersion] = {}
    if data.counts is not None and choice is not None and chosen_year is not None:
        assert totals is not None
        indicators = incident_side(data, chosen_year, totals, reference)
        registered, dispersion = registered_side(
            data.counts,
            _population_totals(totals),
            year=chosen_year,
            analysed=analysed,
            choice=choice,
            names=data.names,
        )
        registered = _with_posterior(registered)
    # 4. The survey side: raking weights, then shares with their intervals.
    survey_weights, _, gaps = weight_responses(
        questionnaire,
        responses,
        margins=margins,
        municipality=municipality,
        year=chosen_year,
        margins_table=margins_table,
        totals=totals,
        districts=districts,
    )
    survey = survey_side(
        questionnaire,
        responses,
        fields=fields,
        weights=survey_weights,
        min_cell=min_cell,
        municipality=municipality,
        districts=districts,
    )
    # 5. Both sides on one grid: components and their posterior draws.
    grid = combine_sides(survey, registered, municipality, districts, fields)
    reference_shares = perceived_reference_shares(fields, perceived_reference, perceived_threshold)
    perceived, registered_scores = component_scores(grid, reference_shares)
    simulation = simulate(grid, perceived, registered_scores, reference_shares, draws, generator)
    # 6. The ranking table with its reasons and warnings; 7. priority, rank, interval, sensitivity.
    compared_with = _as_perceived_reference(perceived_reference)
    ranking = ranking_table(
        grid, chosen_year, perceived, registered_scores, reference_shares, compared_with
    )
    reference_words = Reference(
        name=(
            area_label(choice.areas[0], data.names)
            if choice is not None and choice.name is not None
            else None
        ),
        rest_of=choice.contains_area if choice is not None else False,
        population=float("nan"),
    )
    add_reasons(ranking, catalogue, reference_words, min_cell)
    warnings = data_warnings(
        incidents,
        catalogue,
        municipality,
        chosen_year,
        dispersion,
        weighting_warnings(questionnaire, gaps),
    ) + population_sources(totals, chosen_year)
    warnings = survey_size_warning(survey, responses) + warnings
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
        warnings=warnings,
        reference=choice,
        dispersion=dispersion,
        perceived_threshold=perceived_threshold,
        perceived_reference=compared_with,
    )
    return _apply_weights(analysis, component_weights)


def _with_posterior(registered: pd.DataFrame) -> pd.DataFrame:
    """The gamma posterior of each shrunken SIR for the rank simulation: shape
    :math:`\alpha + O` and rate :math:`\alpha + E` (:math:`O + 0.5` and :math:`E` without
    shown overdispersion)."""
    shape = pd.to_numeric(registered["prior_shape"], errors="coerce").astype(float)
    cases = pd.to_numeric(registered["cases"], errors="coerce").astype(float)
    expected = pd.to_numeric(registered["expected"], errors="coerce").astype(float)
    finite = np.isfinite(shape)
    return registered.assign(
        shape_posterior=np.where(finite, shape + cases, cases + 0.5),
        rate_posterior=np.where(finite, shape + expected, expected),
    )


def _apply_weights(analysis: Analysis, component_weights: FloatArray) -> Analysis:
    """Priority, rank, rank interval and sensitivity for ``component_weights``."""
    sim = analysis._simulation
    priority = np.where(
        sim.ranked, combine(sim.perceived, sim.registered, component_weights), np.nan
    )
    rank = rank_fields(priority, axis=1)
    summary = rank_intervals(sim, component_weights)
    shift = sensitivity(sim, component_weights)
    # Back to the (area, field) grid order the arrays use; rerank gets a sorted table.
    grid = pd.MultiIndex.from_product([sim.areas, sim.fields], names=["area", "field"])
    ranking = analysis.ranking.set_index(["area", "field"]).reindex(grid).reset_index()
    ranking["priority"] = priority.ravel()
    for column, array in (
        ("rank", rank),
        ("rank_low", summary.low),
        ("rank_high", summary.high),
    ):
        ranking[column] = _whole_numbers(array.ravel())
    ranking["rank_median"] = summary.median.ravel()
    ranking["rank_shift"] = shift.ravel()
    ranking = in_rank_order(ranking, sim.areas, sim.fields)
    ranking = ranking[[c for c in RANKING_COLUMNS if c in ranking.columns]]
    rank_shift = ranking[["area", "field", "rank_shift"]].copy()
    weights = dict(zip(COMPONENTS, (float(w) for w in component_weights), strict=True))
    return dataclasses.replace(analysis, ranking=ranking, rank_shift=rank_shift, weights=weights)


def rank_intervals(sim: _Simulation, component_weights: FloatArray) -> RankSummary:
    r"""The 95 % rank interval and median rank per area × field over the posterior draws:
    each draw's priority :math:`w_p C_p + w_r C_r` ranked within its area
    (:func:`scoring.rank_summary`; Goldstein & Spiegelhalter 1996)."""
    return rank_summary(combine(sim.perceived_draws, sim.registered_draws, component_weights))


def sensitivity(sim: _Simulation, component_weights: FloatArray) -> FloatArray:
    """Mean absolute rank shift under plausible other weights (Dirichlet around the chosen
    ones, :func:`scoring.weight_sensitivity`), from the analysis's own seed."""
    return weight_sensitivity(
        sim.perceived,
        sim.registered,
        component_weights,
        np.random.default_rng(sim.sensitivity_seed),
    )


def _whole_numbers(values: FloatArray) -> pd.arrays.IntegerArray:
    """Ranks as nullable integers (missing where not finite)."""
    return pd.array([None if not np.isfinite(v) else round(v) for v in values], dtype="Int64")


def in_rank_order(ranking: pd.DataFrame, areas: list[str], fields: list[str]) -> pd.DataFrame:
    """Rows by area (municipality first), then rank (unranked last), then catalogue order."""
    area_order = {a: i for i, a in enumerate(areas)}
    field_order = {f: i for i, f in enumerate(fields)}
    return (
        ranking.assign(
            _area=ranking["area"].map(area_order),
            _rank=ranking["rank"].astype("Float64").fillna(np.inf),
            _field=ranking["field"].map(field_order),
        )
        .sort_values(["_area", "_rank", "_field"], kind="stable")
        .drop(columns=["_area", "_rank", "_field"])
        .reset_index(drop=True)
    )


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
