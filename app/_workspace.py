"""The prevention manager's workspace: what the manager pages show, behind a few calls.

The pages (``views/``) stay thin: they call this facade, cache its results and draw them.
It reads the questionnaire, its responses and the saved datasets from storage, runs
:func:`scoring.analyse`, and shapes the results into display tables. It computes no statistics
itself (those are :mod:`scoring`'s) and imports no Streamlit.

Privacy: every survey figure based on fewer than :data:`core.MIN_CELL_SIZE` respondents is
shown as missing ("< 5"), and free-text answers come out HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from app._demo import DEMO
from app._inputs import (
    AnalysisChoice,
    AnalysisInputs,
    inputs_from_store,
    run_analysis,
    stored_questionnaire,
)
from app._installation import DEMO_QUESTIONNAIRE_ID
from core import (
    escape_free_text,
    format_integer,
    format_number,
    format_percent,
    is_small,
    suppress_small_cells,
    t,
)
from reporting import field_label
from scoring import (
    DEFAULT_WEIGHTS,
    Analysis,
    PerceivedReference,
    field_counts,
    funnel_limits,
    incident_indicators,
    match_district_areas,
    rerank,
    suppress_ranking,
)
from storage import Datasets, QuestionnaireRecord, Store
from survey import (
    ActionFieldCatalogue,
    Design,
    Questionnaire,
    load_action_fields,
)

#: Simulation draws of the rank intervals on the page (the CLI default; enough for ranks).
PAGE_DRAWS = 2000
#: The survey figures of :attr:`scoring.Analysis.survey_indicators` that rest on respondents.
SURVEY_INDICATOR_FIGURES: tuple[str, ...] = ("share", "ci_low", "ci_high", "n_eff")
#: The simulation seed of the page, so a reload shows the same rank intervals.
PAGE_SEED = 20260907


class Workspace:
    """The manager's view of one database: questionnaires, responses, datasets, analyses.

    Parameters
    ----------
    store
        The product's :class:`storage.Store`.
    catalogue
        The action fields (default: the configured catalogue).
    municipality
        The municipality (AGS) whose data the workspace shows: its store
        (:meth:`storage.Store.for_municipality`) and datasets. Default: the store's own
        municipality (``None`` for the installation's store: the administration's view).
    """

    def __init__(
        self,
        store: Store,
        catalogue: ActionFieldCatalogue | None = None,
        *,
        municipality: str | None = None,
    ) -> None:
        self.store = store.for_municipality(municipality) if municipality else store
        self.municipality = self.store.municipality
        self.datasets = Datasets(store.engine, self.municipality)
        self.catalogue = catalogue if catalogue is not None else load_action_fields()

    @property
    def cache_key(self) -> str:
        """The database and municipality: the part of every cache key the pages share."""
        return f"{self.store.engine.url}#{self.municipality or ''}"

    # -- what is there ----------------------------------------------------------------------

    def questionnaires(self) -> list[QuestionnaireRecord]:
        return self.store.questionnaires()

    def questionnaire(self, questionnaire_id: str) -> Questionnaire:
        """The current revision of a published questionnaire."""
        return stored_questionnaire(self.store, questionnaire_id, self.catalogue)

    def data_version(self, questionnaire_id: str) -> str:
        """Changes whenever the analysis of ``questionnaire_id`` would: a cache key.

        The revision, the number of responses per day and the saved datasets' ids.
        """
        record = self.store.questionnaire(questionnaire_id)
        counts = self.store.response_counts_by_day(questionnaire_id)
        datasets = ",".join(sorted(s.id for s in self.datasets.list()))
        total = int(counts["responses"].sum()) if len(counts) else 0
        days = len(counts)
        revision = record.revision if record is not None else ""
        return f"{revision}|{total}|{days}|{datasets}"

    def inputs(self, questionnaire_id: str) -> AnalysisInputs:
        """The questionnaire, its responses and the combined saved datasets
        (:func:`app.inputs_from_store`: the demo questionnaire sees only the demo's data)."""
        return inputs_from_store(self.store, self.datasets, questionnaire_id, self.catalogue)

    # -- analysis ---------------------------------------------------------------------------

    def analyse(
        self,
        inputs: AnalysisInputs,
        *,
        area: str | None = None,
        reference: str | None = None,
        year: int | None = None,
        draws: int = PAGE_DRAWS,
        perceived_reference: PerceivedReference | None = None,
    ) -> Analysis:
        """Run :func:`scoring.analyse` with the questionnaire's municipality and reference.

        ``area``/``reference`` default to ``meta.area``/``meta.reference_area``. Raises
        :class:`survey.InvalidInput` as :func:`scoring.analyse` does.
        """
        meta = inputs.questionnaire.meta
        choice = AnalysisChoice(
            area=area or meta.area,
            reference=reference or meta.reference_area,
            year=year,
            draws=draws,
            seed=PAGE_SEED,
            perceived_reference=perceived_reference,
        )
        return run_analysis(inputs, choice)


# -- choices on the priorities page ------------------------------------------------------------


def incident_areas(inputs: AnalysisInputs) -> list[str]:
    """Every area key of the incident and population tables, sorted."""
    areas: set[str] = set()
    for table in (inputs.incidents, inputs.population):
        if table is not None and "area" in table.columns:
            areas |= {str(a) for a in table["area"].dropna()}
    return sorted(areas)


def incident_years(inputs: AnalysisInputs) -> list[int]:
    """The years of the incident table, newest first."""
    if inputs.incidents is None or not len(inputs.incidents):
        return []
    return sorted({int(y) for y in inputs.incidents["year"].dropna()}, reverse=True)


def area_names(analysis: Analysis, inputs: AnalysisInputs, lang: str) -> dict[str, str]:
    """A readable name per area of the ranking: the municipality, then its districts."""
    names: dict[str, str] = {}
    for table in (inputs.incidents, inputs.population):
        if table is not None and "area_name" in table.columns:
            named = table.dropna(subset=["area_name"])
            names.update(
                zip(named["area"].astype(str), named["area_name"].astype(str), strict=True)
            )
    district = inputs.questionnaire.design_variable(Design.DISTRICT)
    labels: dict[str, str] = {}
    if district is not None:
        labels = {str(o.code): inputs.questionnaire.text(o.label, lang) for o in district.options}
    out: dict[str, str] = {}
    for area, code in analysis.ranking.groupby("area", sort=False)["district"].first().items():
        key = str(area)
        if key == analysis.area:
            municipality = inputs.questionnaire.meta.municipality or names.get(key, key)
            out[key] = t("manager.area_whole", lang, name=municipality)
        else:
            out[key] = labels.get(str(code), names.get(key, key))
    return out


def is_demo(analysis_area: str | None, questionnaire: Questionnaire | None = None) -> bool:
    """Whether the demo municipality is shown (its key, or a questionnaire that names it)."""
    if analysis_area is not None and analysis_area == DEMO.ags:
        return True
    return questionnaire is not None and (
        questionnaire.meta.area == DEMO.ags or questionnaire.id == DEMO_QUESTIONNAIRE_ID
    )


# -- display tables ----------------------------------------------------------------------------


def reweighted(analysis: Analysis, weights: Mapping[str, float]) -> Analysis:
    """The analysis re-ranked under ``weights`` (the default weights give it back as it is)."""
    if dict(weights) == dict(analysis.weights):
        return analysis
    return rerank(analysis, weights)


def ranking_view(
    analysis: Analysis,
    area: str,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    baseline: Analysis | None = None,
) -> pd.DataFrame:
    """The ranked table of one area as the page shows it, survey cells < 5 suppressed.

    Columns: rank, field, priority, rank interval, 2×2 class, share seeing a problem, SIR,
    respondents, reason, and, with ``baseline``, the rank shift against it (positive: the
    field moved up).
    """
    rows = suppress_ranking(analysis.ranking[analysis.ranking["area"] == area])
    out = pd.DataFrame(
        {
            t("manager.col.rank", lang): rows["rank"].astype("Int64"),
            t("manager.col.field", lang): [field_label(catalogue, f, lang) for f in rows["field"]],
            t("manager.col.priority", lang): [format_number(v, 2, lang) for v in rows["priority"]],
            t("manager.col.rank_interval", lang): [
                _interval(lo, hi)
                for lo, hi in zip(rows["rank_low"], rows["rank_high"], strict=True)
            ],
            t("manager.col.quadrant", lang): [
                t(f"chart.quadrant.{q}", lang) if isinstance(q, str) and q else ""
                for q in rows["quadrant"]
            ],
            t("manager.col.share", lang): [
                _share(s, suppressed, lang)
                for s, suppressed in zip(rows["share_problem"], rows["suppressed"], strict=True)
            ],
            t("manager.col.sir", lang): [format_number(v, 2, lang) for v in rows["sir"]],
            t("manager.col.excess", lang): [
                _signed_interval(v, lo, hi, lang)
                for v, lo, hi in zip(
                    rows["excess"], rows["excess_low"], rows["excess_high"], strict=True
                )
            ],
            t("manager.col.change", lang): [
                _ratio_interval(v, lo, hi, lang)
                for v, lo, hi in zip(
                    rows["change_ratio"], rows["change_low"], rows["change_high"], strict=True
                )
            ],
            t("manager.col.respondents", lang): [
                _respondents(n, suppressed, lang)
                for n, suppressed in zip(rows["n_respondents"], rows["suppressed"], strict=True)
            ],
            t("manager.col.reason", lang): rows["reason" if lang == "de" else "reason_en"],
        }
    )
    if baseline is not None:
        before = baseline.ranking[baseline.ranking["area"] == area].set_index("field")["rank"]
        shift = [_shift(before.get(f), r) for f, r in zip(rows["field"], rows["rank"], strict=True)]
        out.insert(1, t("manager.col.shift", lang), shift)
    return out.reset_index(drop=True)


def _signed_interval(value: object, low: object, high: object, lang: str) -> str:
    """Excess cases as ``+93 (61 bis 127)``; empty where there are none to show."""
    if any(pd.isna(v) for v in (value, low, high)):  # type: ignore[call-overload]
        return ""
    sign = "+" if float(value) >= 0 else "−"  # type: ignore[arg-type]
    return (
        f"{sign}{format_integer(abs(float(value)), lang)} "  # type: ignore[arg-type]
        f"({format_integer(low, lang)} {t('manager.to', lang)} {format_integer(high, lang)})"
    )


def _ratio_interval(value: object, low: object, high: object, lang: str) -> str:
    """A rate ratio with its interval, ``×3,0 (0,88–10,24)``; empty where there is none."""
    if any(pd.isna(v) for v in (value, low, high)):  # type: ignore[call-overload]
        return ""
    return (
        f"×{format_number(value, 2, lang)} "
        f"({format_number(low, 2, lang)}–{format_number(high, 2, lang)})"
    )


def _interval(low: object, high: object) -> str:
    if pd.isna(low) or pd.isna(high):  # type: ignore[call-overload]
        return ""
    return f"{int(low)}–{int(high)}"  # type: ignore[call-overload]


def _share(value: object, suppressed: object, lang: str) -> str:
    if _flag(suppressed):
        return t("report.suppressed_cell", lang)
    if pd.isna(value):  # type: ignore[call-overload]
        return ""
    return format_percent(float(value), 0, lang)  # type: ignore[arg-type]


def _flag(value: object) -> bool:
    """A nullable boolean cell as a plain bool (missing: not flagged)."""
    return False if pd.isna(value) else bool(value)  # type: ignore[call-overload]


def _respondents(value: object, suppressed: object, lang: str) -> str:
    """The number of respondents, "< 5" exactly where the row's share reads "< 5".

    ``suppressed`` is :func:`scoring.suppress_ranking`'s flag (1 to 4 respondents, or a cell
    scoring withheld). A field without any survey row reads 0: nothing to protect, and the
    ranking export shows 0 there too.
    """
    if pd.isna(value):  # type: ignore[call-overload]
        return ""
    if _flag(suppressed):
        return t("report.suppressed_cell", lang)
    return format_integer(int(float(value)), lang)  # type: ignore[arg-type]


def _shift(before: object, after: object) -> str:
    if before is None or pd.isna(before) or pd.isna(after):  # type: ignore[call-overload]
        return ""
    moved = int(before) - int(after)  # type: ignore[call-overload]
    if moved > 0:
        return f"▲ {moved}"
    if moved < 0:
        return f"▼ {-moved}"
    return "="


def suppressed_survey_indicators(analysis: Analysis) -> pd.DataFrame:
    """The survey indicators with every cell of < 5 respondents flagged as suppressed."""
    # Cells scoring already flagged (its ``min_cell`` rule, which also flags 0 respondents)
    # stay flagged, so the heatmap keeps showing them as "< 5" rather than as blank.
    table = suppress_small_cells(
        analysis.survey_indicators, SURVEY_INDICATOR_FIGURES, "n_respondents"
    )
    if "suppressed" in table.columns:
        table["suppressed"] = table["suppressed"].astype(bool)
    return table


def heatmap_indicators(analysis: Analysis) -> pd.DataFrame:
    """District × field rows of the share seeing a problem, in the layout of
    :func:`reporting.district_heatmap` (``area, field, share_problem, suppressed``)."""
    table = suppressed_survey_indicators(analysis)
    if "measure" in table.columns:
        table = table[table["measure"] == "problem"]
    table = table[table["area"] != analysis.area].rename(columns={"share": "share_problem"})
    return table.reset_index(drop=True)


def funnel_data(analysis: Analysis, field_id: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Points (areas of the analysed year) and the 95 % / 99.8 % limits for one field.

    ``None`` when the field has no incident rates. The limits are :func:`scoring.funnel_limits`
    around the field's reference rate, over the populations shown.
    """
    table = analysis.incident_indicators
    if not len(table) or "field" not in table.columns:
        return None
    rows = table[(table["field"] == field_id) & table["rate_per_100k"].notna()]
    if "breakdown" in rows.columns:
        rows = rows[rows["breakdown"].isna()]
    reference = rows["reference_rate"].dropna()
    if not len(rows) or not len(reference):
        return None
    # The municipality and its districts; the reference area is the funnel's centre line.
    points = rows[rows["area"].astype(str).isin(set(analysis.ranking["area"].astype(str)))]
    if not len(points):
        return None
    largest = float(points["population"].max())
    grid = np.geomspace(max(float(points["population"].min()) / 2, 100.0), largest * 1.5, 120)
    # Areas differ beyond chance where the dispersion test showed it: then the additive
    # random-effects limits (Spiegelhalter 2005, 3.3), else the exact Poisson ones.
    spread = analysis.dispersion.get(field_id)
    tau2 = 1.0 / spread.shape if spread is not None and spread.source == "estimated" else None
    limits = funnel_limits(float(reference.iloc[0]), grid, tau2=tau2)
    limits = limits.rename(
        columns={
            "lower_95": "low_95",
            "upper_95": "high_95",
            "lower_99_8": "low_998",
            "upper_99_8": "high_998",
        }
    )
    limits["reference_rate"] = float(reference.iloc[0])
    return points[["area", "population", "rate_per_100k"]], limits


def trend_data(
    inputs: AnalysisInputs, catalogue: ActionFieldCatalogue, area: str
) -> pd.DataFrame | None:
    """Rates per year of ``area`` for :func:`reporting.trend_chart`; ``None`` for one year."""
    if inputs.incidents is None or inputs.population is None:
        return None
    counts = field_counts(inputs.incidents, catalogue)
    if counts["year"].nunique() < 2:
        return None
    indicators = incident_indicators(counts, inputs.population)
    rows = indicators[
        (indicators["area"].astype(str) == area) & indicators["rate_per_100k"].notna()
    ]
    if "breakdown" in rows.columns:
        rows = rows[rows["breakdown"].isna()]
    return rows if rows["year"].nunique() >= 2 else None


def free_text_answers(inputs: AnalysisInputs, lang: str) -> list[tuple[str, list[str]]]:
    """Per free-text question, its non-empty answers, HTML-escaped.

    A question with fewer than :data:`core.MIN_CELL_SIZE` answers is left out, so a single
    answer cannot be traced back through its rarity.
    """
    out: list[tuple[str, list[str]]] = []
    for variable in inputs.questionnaire.variables():
        if variable.kind != "text" or variable.id not in inputs.responses.columns:
            continue
        answers = [
            escape_free_text(a) for a in inputs.responses[variable.id].dropna() if str(a).strip()
        ]
        # A question nobody answered has nothing to list; one of 1 to 4 answers is withheld.
        if answers and not is_small(pd.Series([len(answers)])).iloc[0]:
            out.append((inputs.questionnaire.text(variable.label, lang), answers))
    return out


# -- overview ----------------------------------------------------------------------------------


def response_rates(store: Store, questionnaire_id: str) -> pd.DataFrame:
    """Issued and used codes per batch and stratum, with the response rate."""
    batches = store.code_batches(questionnaire_id)
    frame = pd.DataFrame(
        {
            "batch": [b.id for b in batches],
            "stratum": [b.stratum or "" for b in batches],
            "created_on": [b.created_on for b in batches],
            "issued": [b.issued for b in batches],
            "used": [b.used for b in batches],
        }
    )
    frame["rate"] = frame["used"] / frame["issued"].where(frame["issued"] > 0)
    return frame


def stratum_rates(rates: pd.DataFrame) -> pd.DataFrame:
    """:func:`response_rates` summed per stratum (batches without a stratum together)."""
    totals = rates.groupby("stratum", as_index=False, sort=True)[["issued", "used"]].sum()
    totals["rate"] = totals["used"] / totals["issued"].where(totals["issued"] > 0)
    return totals


def sample_vs_population(inputs: AnalysisInputs, lang: str) -> pd.DataFrame | None:
    """The sample against the population by district × sex × age group.

    Needs population margins (sex × age group rows per district area). A display table:
    counts and percentages as text, sample cells below :data:`core.MIN_CELL_SIZE` shown as
    "< 5"; shares are within the whole sample / population of the cells shown. ``None``
    without margins or design variables.
    """
    q = inputs.questionnaire
    margins = inputs.margins
    variables = {d: q.design_variable(d) for d in (Design.DISTRICT, Design.SEX, Design.AGE_GROUP)}
    sex, age = variables[Design.SEX], variables[Design.AGE_GROUP]
    district = variables[Design.DISTRICT]
    if margins is None or not len(margins) or sex is None or age is None:
        return None
    joint = margins.dropna(subset=["sex", "age_group"])
    if not len(joint):
        return None
    joint = joint[joint["year"] == joint["year"].max()].assign(
        area=lambda f: f["area"].astype(str),
        sex=lambda f: f["sex"].astype(str),
        age_group=lambda f: f["age_group"].astype(str),
    )
    keys = [sex.id, age.id]
    population_keys = ["sex", "age_group"]
    responses = inputs.responses
    if district is not None and district.id in responses.columns:
        codes = [str(o.code) for o in district.options]
        areas = set(joint["area"])
        municipality = q.meta.area or ""
        matched = match_district_areas(municipality, codes, areas)
        by_area = {a: c for c, a in matched.items()}
        if by_area:
            joint = joint[joint["area"].isin(by_area)].assign(
                district=lambda f: f["area"].map(by_area)
            )
            keys = [district.id, *keys]
            population_keys = ["district", *population_keys]
    if not len(joint):
        return None
    sample = (
        responses[keys]
        .dropna()
        .astype(str)
        .value_counts()
        .rename("sample")
        .reset_index()
        .rename(columns=dict(zip(keys, population_keys, strict=True)))
    )
    population = joint.groupby(population_keys, as_index=False)["population"].sum()
    table = population.merge(sample, on=population_keys, how="left")
    table["sample"] = table["sample"].fillna(0).astype(int)
    table["sample_share"] = table["sample"] / max(int(table["sample"].sum()), 1)
    table["population_share"] = table["population"] / table["population"].sum()
    # Shown as text so that a suppressed cell reads "< 5", never as a number or a blank. Here
    # an empty cell reads "< 5" too: every number this table shows is at least 5, so a reader
    # cannot subtract small cells out of the shown ones and the totals.
    small = is_small(table["sample"]) | (table["sample"] == 0)
    hidden = t("report.suppressed_cell", lang)
    table["sample"] = [
        hidden if s else format_integer(n, lang)
        for n, s in zip(table["sample"], small, strict=True)
    ]
    table["sample_share"] = [
        hidden if s else format_percent(v, 1, lang)
        for v, s in zip(table["sample_share"], small, strict=True)
    ]
    table["population_share"] = [format_percent(v, 1, lang) for v in table["population_share"]]
    table["population"] = [format_integer(n, lang) for n in table["population"]]
    labels = {
        "district": district,
        "sex": sex,
        "age_group": age,
    }
    for column in population_keys:
        variable = labels[column]
        assert variable is not None
        names = {str(o.code): q.text(o.label, lang) for o in variable.options}
        table[column] = table[column].map(lambda c, n=names: n.get(c, c))
    renamed: pd.DataFrame = table.rename(
        columns={
            "district": t("manager.col.district", lang),
            "sex": t("manager.col.sex", lang),
            "age_group": t("manager.col.age_group", lang),
            "population": t("manager.col.population", lang),
            "sample": t("manager.col.sample", lang),
            "sample_share": t("manager.col.sample_share", lang),
            "population_share": t("manager.col.population_share", lang),
        }
    )
    return renamed


# -- the report --------------------------------------------------------------------------------


def sample_tables(inputs: AnalysisInputs, lang: str) -> dict[str, pd.DataFrame]:
    """Respondents per category of each design variable (``category, count``) for the report."""
    q = inputs.questionnaire
    out: dict[str, pd.DataFrame] = {}
    names_of = {
        Design.DISTRICT: t("manager.col.district", lang),
        Design.SEX: t("manager.col.sex", lang),
        Design.AGE_GROUP: t("manager.col.age_group", lang),
    }
    for design, title in names_of.items():
        variable = q.design_variable(design)
        if variable is None or variable.id not in inputs.responses.columns:
            continue
        counts = inputs.responses[variable.id].dropna().astype(str).value_counts()
        names = {str(o.code): q.text(o.label, lang) for o in variable.options}
        out[title] = pd.DataFrame(
            {
                "category": [names.get(str(c), str(c)) for c in counts.index],
                "count": counts.to_numpy(),
            }
        )
    return out


def _plain_name(analysis: Analysis, inputs: AnalysisInputs) -> str:
    for table in (inputs.incidents, inputs.population):
        if table is not None and "area_name" in table.columns:
            named = table[(table["area"].astype(str) == analysis.area) & table["area_name"].notna()]
            if len(named):
                return str(named["area_name"].iloc[0])
    return analysis.area


def report_filename(municipality: str, year: int | None, lang: str = "de") -> str:
    """``Sicherheitsanalyse_<Kommune>_<Jahr>.html`` (the title in ``lang``), file-name-safe."""
    parts = (t("common.app_title", lang), municipality, str(year or ""))
    safe = ("".join(c if c.isalnum() else "_" for c in part).strip("_") for part in parts)
    return "_".join(part for part in safe if part) + ".html"


def default_weights() -> dict[str, float]:
    return dict(DEFAULT_WEIGHTS)


__all__ = [
    "PAGE_DRAWS",
    "AnalysisInputs",
    "Workspace",
    "area_names",
    "default_weights",
    "free_text_answers",
    "funnel_data",
    "heatmap_indicators",
    "incident_areas",
    "incident_years",
    "is_demo",
    "ranking_view",
    "report_filename",
    "response_rates",
    "reweighted",
    "sample_tables",
    "sample_vs_population",
    "stratum_rates",
    "trend_data",
]
