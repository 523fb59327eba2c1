"""The survey findings of one questionnaire, as the "Befragungsergebnisse" page shows them.

:func:`findings_of` gathers the inputs (weights as in the analysis, the municipality's police
counts for the dark figure) and calls :func:`scoring.survey_findings`; the other functions turn
its tables into display tables (text cells: "38 %", "< 5", never ``None`` or ``nan``) and chart
rows with readable labels. No statistics are computed here and no Streamlit is imported.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app._workspace import AnalysisInputs, Workspace
from core import InvalidInput, Problem, format_integer, format_number, format_percent, t
from reporting import field_label
from scoring import (
    FindingStatus,
    SurveyFindings,
    Topic,
    raking_weights,
    ranked,
    survey_findings,
)
from survey import ActionFieldCatalogue, Design, Questionnaire

#: Simulation draws for the analysis behind the findings: only its area, year and police
#: counts are used, not its rank intervals, so the minimum the analysis accepts is enough.
FINDINGS_DRAWS = 100
#: The whole municipality in the district filter.
WHOLE_TOWN = ""


@dataclass(frozen=True)
class FindingsResult:
    """The findings with the context the page states: the municipality key and incident year
    of the police counts, and why there are none (``police_problems``)."""

    findings: SurveyFindings
    area: str | None
    year: int | None
    police_problems: tuple[Problem, ...]
    #: The municipality as people name it (``meta.municipality``, else the incident or
    #: population table's ``area_name``, else the key).
    area_name: str | None = None


def findings_of(workspace: Workspace, inputs: AnalysisInputs) -> FindingsResult:
    """All survey findings of ``inputs``, weighted like the analysis, with police counts.

    The analysis (:meth:`Workspace.analyse`) resolves the municipality, the incident year and
    the registered cases per field; when it cannot (e.g. several candidate areas), the findings
    come without the dark-figure ratio and ``police_problems`` says why.
    """
    q = inputs.questionnaire
    area: str | None = q.meta.area
    year: int | None = None
    police: pd.DataFrame | None = None
    problems: tuple[Problem, ...] = ()
    try:
        analysis = workspace.analyse(inputs, draws=FINDINGS_DRAWS)
    except InvalidInput as error:
        problems = tuple(error.problems)
    else:
        area, year = analysis.area, analysis.year
        police = _police_counts(analysis.incident_indicators, analysis.area)
    weights = raking_weights(
        q,
        inputs.responses,
        area=area,
        year=year,
        population=inputs.population,
        margins_table=inputs.margins,
    )
    findings = survey_findings(q, inputs.responses, weights=weights, police=police)
    return FindingsResult(findings, area, year, problems, _area_name(inputs, area))


def _area_name(inputs: AnalysisInputs, area: str | None) -> str | None:
    if inputs.questionnaire.meta.municipality:
        return inputs.questionnaire.meta.municipality
    for table in (inputs.incidents, inputs.population):
        if area is not None and table is not None and "area_name" in table.columns:
            named = table[(table["area"].astype(str) == area) & table["area_name"].notna()]
            if len(named):
                return str(named["area_name"].iloc[0])
    return area


def _police_counts(indicators: pd.DataFrame, area: str) -> pd.DataFrame | None:
    """``field, cases, population`` of ``area`` (no breakdown rows), or ``None``."""
    if not len(indicators) or "cases" not in indicators.columns:
        return None
    rows = indicators[indicators["area"].astype(str) == area]
    if "breakdown" in rows.columns:
        rows = rows[rows["breakdown"].isna()]
    rows = rows.dropna(subset=["cases", "population"])
    return rows[["field", "cases", "population"]] if len(rows) else None


# -- labels ------------------------------------------------------------------------------------


def category_labels(questionnaire: Questionnaire, design: Design, lang: str) -> dict[str, str]:
    """Code (as text) → label of the design variable's options."""
    variable = next((v for v in questionnaire.variables() if v.design == design), None)
    if variable is None:
        return {}
    return {str(o.code): questionnaire.text(o.label, lang) for o in variable.options}


def district_choices(
    result: FindingsResult, questionnaire: Questionnaire, lang: str
) -> dict[str, str]:
    """The district filter: the whole town first, then each district of the questionnaire."""
    labels = category_labels(questionnaire, Design.DISTRICT, lang)
    codes = result.findings.categories.get(str(Design.DISTRICT), ())
    return {WHOLE_TOWN: t("findings.whole_town", lang), **{c: labels.get(c, c) for c in codes}}


def row_label(
    row: Mapping[Hashable, Any],
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    lang: str,
) -> str:
    """What a findings row is about: the field for field-level rows, else the item's text
    (a measure's option label, a statement's label)."""
    item, field_id = row.get("item"), row.get("field")
    topic = str(row.get("topic"))
    by_field = topic in (Topic.WORRY, Topic.VICTIMISATION, Topic.REPORTED)
    if by_field and isinstance(field_id, str):
        return field_label(catalogue, field_id, lang)
    if isinstance(item, str):
        variable = next((v for v in questionnaire.variables() if v.id == item), None)
        if variable is not None:
            if variable.kind == "multi_option" and variable.options:
                return questionnaire.text(variable.options[0].label, lang)
            return questionnaire.text(variable.label, lang)
        return item
    return field_label(catalogue, field_id, lang) if isinstance(field_id, str) else ""


# -- display tables ------------------------------------------------------------------------------


def _rows(findings: SurveyFindings, topic: Topic, district: str) -> pd.DataFrame:
    """The rows of ``topic`` for the whole town or one district."""
    shares = findings.shares
    if district == WHOLE_TOWN:
        return ranked(shares, topic) if topic == Topic.MEASURE else _select(shares, topic, "all")
    if topic == Topic.MEASURE:
        return ranked(shares, topic, str(Design.DISTRICT), district)
    return _select(shares, topic, str(Design.DISTRICT), district)


def _select(
    shares: pd.DataFrame, topic: Topic, group: str, category: str | None = None
) -> pd.DataFrame:
    rows = shares[(shares["topic"] == str(topic)) & (shares["group"] == group)]
    if category is not None:
        rows = rows[rows["category"] == category]
    return rows.reset_index(drop=True)


def status_text(status: object, lang: str) -> str:
    """Why a cell shows no share, or that its share is imprecise; empty for a plain share."""
    if status == FindingStatus.OK:
        return ""
    if status == FindingStatus.SUPPRESSED:
        return t("report.suppressed_cell", lang)
    return t(f"findings.status.{status}", lang)


def _interval(low: object, high: object, lang: str) -> str:
    """``51–58 %``: one unit for both limits keeps the cell short (a phone shows it)."""
    if pd.isna(low) or pd.isna(high):  # type: ignore[call-overload]
        return ""
    upper = format_percent(high, 0, lang)
    return f"{format_number(100 * float(low), 0, lang)}–{upper}"  # type: ignore[arg-type]


def _count(value: object, lang: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return t("report.suppressed_cell", lang)
    return format_integer(value, lang)


def _share_cell(share: object, status: object, lang: str) -> str:
    if pd.isna(share):  # type: ignore[call-overload]
        return status_text(status, lang)
    return format_percent(share, 0, lang)


def share_table(
    result: FindingsResult,
    topic: Topic,
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    district: str = WHOLE_TOWN,
) -> pd.DataFrame:
    """One display row per item/field of ``topic``: label, share, 95 % interval, respondents,
    note. Every cell is text; a suppressed share reads "< 5", a share without substantive
    answers says so."""
    rows = _rows(result.findings, topic, district)
    records = rows.to_dict("records")
    columns = table_columns(lang)
    return pd.DataFrame(
        {
            columns["label"]: [row_label(r, questionnaire, catalogue, lang) for r in records],
            columns["share"]: [_share_cell(r["share"], r["status"], lang) for r in records],
            columns["interval"]: [_interval(r["ci_low"], r["ci_high"], lang) for r in records],
            columns["respondents"]: [_count(r["n_respondents"], lang) for r in records],
            columns["note"]: [
                status_text(r["status"], lang) if pd.notna(r["share"]) else "" for r in records
            ],
        },
        columns=list(columns.values()),
    )


def table_columns(lang: str) -> dict[str, str]:
    """The headers of :func:`share_table` (the page attaches a tooltip to each)."""
    return {
        key: t(f"findings.col.{key}", lang)
        for key in ("label", "share", "interval", "respondents", "note")
    }


def chart_rows(
    result: FindingsResult,
    topic: Topic,
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    district: str = WHOLE_TOWN,
) -> pd.DataFrame:
    """The published shares of ``topic`` for a bar chart: ``label, share, ci_low, ci_high,
    imprecise``; empty when no share can be shown (the page then says why, see
    :func:`empty_reason`)."""
    rows = _rows(result.findings, topic, district)
    rows = rows[rows["share"].notna()]
    records = rows.to_dict("records")
    return pd.DataFrame(
        {
            "label": [row_label(r, questionnaire, catalogue, lang) for r in records],
            "share": rows["share"].to_numpy(dtype=float),
            "ci_low": rows["ci_low"].to_numpy(dtype=float),
            "ci_high": rows["ci_high"].to_numpy(dtype=float),
            "imprecise": (rows["status"] == FindingStatus.IMPRECISE).to_numpy(dtype=bool),
        }
    )


def missing_bars(
    result: FindingsResult,
    topic: Topic,
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    district: str = WHOLE_TOWN,
) -> str | None:
    """The rows of ``topic`` a chart leaves out, with why ("Gewalt (< 5)"); ``None`` when
    every row has a bar."""
    rows = _rows(result.findings, topic, district)
    records = rows[rows["share"].isna()].to_dict("records")
    if not records:
        return None
    parts = [
        f"{row_label(r, questionnaire, catalogue, lang)} ({status_text(r['status'], lang)})"
        for r in records
    ]
    return t("findings.chart.missing", lang, rows="; ".join(parts))


def empty_reason(
    result: FindingsResult, topic: Topic, lang: str, *, district: str = WHOLE_TOWN
) -> str:
    """Why ``topic`` has no share to draw: not asked, no answers, only "weiß nicht", or
    too few answers (privacy)."""
    rows = _rows(result.findings, topic, district)
    if not len(rows):
        return t("findings.empty.not_asked", lang)
    statuses = set(rows["status"])
    if statuses <= {FindingStatus.NO_ANSWERS}:
        return t("findings.empty.no_answers", lang)
    if FindingStatus.SUPPRESSED in statuses:
        return t("findings.empty.suppressed", lang)
    return t("findings.empty.no_substantive", lang)


def breakdown_table(
    result: FindingsResult,
    topic: Topic,
    design: Design,
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    lang: str,
) -> pd.DataFrame | None:
    """Rows: the items of ``topic``; columns: the whole town and each category of ``design``
    (sex or age group); cells "54 % (51–58 %)" or why there is none. ``None`` when the
    questionnaire has no such design variable."""
    shares = result.findings.shares
    codes = result.findings.categories.get(str(design))
    if not codes:
        return None
    labels = category_labels(questionnaire, design, lang)
    whole = _select(shares, topic, "all")
    if not len(whole):
        return None
    out = pd.DataFrame(
        {
            t("findings.col.label", lang): [
                row_label(r, questionnaire, catalogue, lang) for r in whole.to_dict("records")
            ],
            t("findings.whole_town", lang): [_cell(r, lang) for r in whole.to_dict("records")],
        }
    )
    for code in codes:
        part = _select(shares, topic, str(design), code)
        cells = {(r["field"], r["item"]): _cell(r, lang) for r in part.to_dict("records")}
        out[labels.get(code, code)] = [
            cells.get((r["field"], r["item"]), "") for r in whole.to_dict("records")
        ]
    return out


def _cell(row: Mapping[Hashable, Any], lang: str) -> str:
    share = row["share"]
    if pd.isna(share):
        return status_text(row["status"], lang)
    interval = _interval(row["ci_low"], row["ci_high"], lang)
    return f"{format_percent(share, 0, lang)} ({interval})"


#: The share column of each interval prefix of :data:`scoring.DARK_FIGURE_COLUMNS`.
_DARK_SHARES = {
    "victims": "victims_share",
    "reporting": "reporting_rate",
    "unreported": "unreported_share",
}


def dark_figure_table(
    result: FindingsResult, catalogue: ActionFieldCatalogue, lang: str
) -> pd.DataFrame:
    """Per field: victims, reporting rate, not reported, registered cases and the victims per
    registered case, each with its interval, or why a figure is missing."""
    records = result.findings.dark_figure.to_dict("records")
    columns: dict[str, list[str]] = {
        t("findings.col.field", lang): [
            field_label(catalogue, str(r["field"]), lang) for r in records
        ],
    }
    # The answer first (victims per registered case), then what it is made of.
    columns[t("findings.dark.col.ratio", lang)] = [_ratio(r, lang) for r in records]
    columns[t("findings.dark.col.cases", lang)] = [
        format_integer(r["cases"], lang)
        if pd.notna(r["cases"])
        else t("findings.dark.no_cases_known", lang)
        for r in records
    ]
    for prefix in _DARK_SHARES:
        columns[t(f"findings.dark.col.{prefix}", lang)] = [
            _dark_share(r, prefix, lang) for r in records
        ]
    return pd.DataFrame(columns)


def _dark_share(row: Mapping[Hashable, Any], prefix: str, lang: str) -> str:
    value = row[_DARK_SHARES[prefix]]
    if pd.isna(value):
        return t("findings.dark.no_share", lang)
    interval = _interval(row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"], lang)
    return f"{format_percent(value, 0, lang)} ({interval})"


def dark_figure_chart_rows(
    result: FindingsResult, catalogue: ActionFieldCatalogue, lang: str
) -> pd.DataFrame:
    """``label, ratio, ci_low, ci_high`` of the fields with a dark-figure ratio (may be empty:
    the table then says per field why)."""
    frame = result.findings.dark_figure
    rows = frame[frame["status"] == "ok"]
    return pd.DataFrame(
        {
            "label": [field_label(catalogue, str(f), lang) for f in rows["field"]],
            "ratio": rows["ratio"].to_numpy(dtype=float),
            "ci_low": rows["ratio_ci_low"].to_numpy(dtype=float),
            "ci_high": rows["ratio_ci_high"].to_numpy(dtype=float),
        }
    )


def dark_figure_columns(lang: str) -> dict[str, str]:
    """Header → tooltip of :func:`dark_figure_table`."""
    return {
        t(f"findings.dark.col.{key}", lang): t(f"findings.dark.help.{key}", lang)
        for key in ("ratio", "cases", "victims", "reporting", "unreported")
    }


def _ratio(row: Mapping[Hashable, Any], lang: str) -> str:
    if row["status"] != "ok":
        return t(f"findings.dark.status.{row['status']}", lang)
    high = float(row["ratio_ci_high"])
    top = "∞" if not np.isfinite(high) else format_number(high, 1, lang)
    low = format_number(row["ratio_ci_low"], 1, lang)
    return f"{format_number(row['ratio'], 1, lang)} ({low}–{top})"


def caveats(result: FindingsResult, lang: str) -> list[str]:
    """The dark figure's caveats as sentences (the same for every field)."""
    frame = result.findings.dark_figure
    keys: Sequence[str] = frame["caveats"].iloc[0] if len(frame) else ()
    return [t(f"findings.caveat.{key}", lang) for key in keys]


def places_table(result: FindingsResult, lang: str) -> pd.DataFrame:
    """Avoided places named by at least 5 respondents, ranked (names already escaped)."""
    places = result.findings.places
    return pd.DataFrame(
        {
            t("findings.col.rank", lang): places["rank"].astype(int).tolist(),
            t("findings.col.place", lang): places["place"].tolist(),
            t("findings.col.mentions", lang): [format_integer(m, lang) for m in places["mentions"]],
        }
    )


def free_text_groups(
    result: FindingsResult, questionnaire: Questionnaire, lang: str
) -> list[tuple[str, list[str]]]:
    """Per free-text question its answers (escaped), in questionnaire order."""
    texts = result.findings.free_text
    out: list[tuple[str, list[str]]] = []
    for item, group in texts.groupby("item", sort=False):
        variable = next((v for v in questionnaire.variables() if v.id == item), None)
        label = questionnaire.text(variable.label, lang) if variable is not None else str(item)
        out.append((label, group["text"].tolist()))
    return out


def banner(result: FindingsResult, lang: str) -> str | None:
    """The sentence at the top of the page when the survey cannot carry a statement."""
    findings = result.findings
    if findings.n_responses == 0:
        return t("findings.banner.empty", lang)
    if findings.analysable:
        return None
    return t(
        "findings.banner.not_analysable",
        lang,
        n=format_integer(findings.n_responses, lang),
        n_eff=format_number(findings.n_eff, 0, lang),
    )
