"""What every chapter of the report shares: the bound context and the honesty rules.

A share is stated in the text only with status ``ok`` (published, interval at most 40 points
wide); charts show ``ok`` and ``imprecise`` shares with their intervals and name the cells
left out in a sentence; below :data:`scoring.MIN_EFFECTIVE_N` effective respondents a survey
chapter says that the survey cannot carry a statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from app._workspace import AnalysisInputs
from core import (
    MIN_CELL_SIZE,
    format_integer,
    format_number,
    format_percent,
    t,
)
from reporting import (
    Bar,
    Figure,
    Paragraph,
    field_label,
    share_figure,
)
from scoring import (
    MIN_EFFECTIVE_N,
    Analysis,
    FindingStatus,
    SurveyFindings,
    Topic,
    raking_weights,
    ranked,
    survey_findings,
)
from survey import ActionFieldCatalogue, Design, Questionnaire, Variable

#: Free-text answers listed per question in the appendix; the rest are in the exports.
MAX_FREE_TEXTS = 40


#: Shares stated in the text: published and precise enough.
STATED = {str(FindingStatus.OK)}


#: Shares drawn in charts and tables (with their interval).
SHOWN = {str(FindingStatus.OK), str(FindingStatus.IMPRECISE)}


@dataclass(frozen=True)
class Context:
    """Everything a chapter needs, with the language bound."""

    analysis: Analysis
    inputs: AnalysisInputs
    catalogue: ActionFieldCatalogue
    findings: SurveyFindings
    lang: str
    municipality: str
    reference_name: str
    recommendations: Mapping[str, str]
    rates: pd.DataFrame | None

    def t(self, key: str, **params: object) -> str:
        """``core.t`` in the report's language."""
        return t(key, self.lang, **params)

    @property
    def q(self) -> Questionnaire:
        return self.inputs.questionnaire

    def field(self, field_id: object) -> str:
        return field_label(self.catalogue, str(field_id), self.lang)

    def pct(self, value: object) -> str:
        return format_percent(value, 0, self.lang)

    def with_interval(self, value: object, low: object, high: object, digits: int = 0) -> str:
        """``54 % (95-%-KI 51–58 %)``: a share with its interval, never broken before "%"."""
        text = self.t(
            "document.share_interval",
            value=format_percent(value, digits, self.lang),
            low=format_number(100 * float(low), digits, self.lang),  # type: ignore[arg-type]
            high=format_percent(high, digits, self.lang),
        )
        return text.replace(" %", "\u00a0%")

    def ratio_interval(self, value: object, low: object, high: object, digits: int = 2) -> str:
        """``1,40 (1,22–1,60)``: a ratio with its interval."""
        return self.t(
            "document.ratio_interval",
            value=format_number(value, digits, self.lang),
            low=format_number(low, digits, self.lang),
            high=format_number(high, digits, self.lang),
        )

    def rows(self, topic: Topic, group: str = "all", category: str | None = None) -> pd.DataFrame:
        """The findings of ``topic`` in one category, highest share first."""
        return ranked(self.findings.shares, topic, group, category)

    def label(self, item: object) -> str:
        """The question or statement text of a variable, or its id."""
        if not isinstance(item, str):
            return ""
        variable = next((v for v in self.q.variables() if v.id == item), None)
        if variable is None:
            return item
        if variable.kind == "multi_option" and variable.options:
            # A wished measure reads as its option, not as the question before it.
            return self.q.text(variable.options[0].label, self.lang)
        return self.q.text(variable.label, self.lang)

    def ranking_basis(self) -> str:
        """What the town's ranking rests on: ``both``, ``police`` (no survey share entered
        it), ``survey`` (no police data) or ``none``, as the sentences about it must say."""
        rows = self.municipality_rows()
        survey = bool(rows["perceived_score"].notna().any())
        police = bool(rows["registered_score"].notna().any())
        if survey and police:
            return "both"
        return "survey" if survey else "police" if police else "none"

    def has_police(self) -> bool:
        """Whether police counts of the analysed year entered the analysis."""
        return self.analysis.year is not None and bool(len(self.analysis.incident_indicators))

    def top_fields(self, count: int = 3) -> list[str]:
        """The labels of the ``count`` highest-ranked fields (none without a ranking)."""
        rows = self.municipality_rows()
        return [self.field(f) for f in rows[rows["rank"].notna()]["field"].head(count)]

    def municipality_rows(self) -> pd.DataFrame:
        ranking = self.analysis.ranking
        return ranking[ranking["area"] == self.analysis.area].sort_values("rank")


def findings_of(analysis: Analysis, inputs: AnalysisInputs) -> SurveyFindings:
    """The survey findings under the weights the ranking used, with the town's police counts."""
    weights = raking_weights(
        inputs.questionnaire,
        inputs.responses,
        area=analysis.area,
        year=analysis.year,
        population=inputs.population,
        margins_table=inputs.margins,
    )
    rows = analysis.ranking[analysis.ranking["area"] == analysis.area]
    police = rows[["field", "cases", "population"]].dropna()
    police = police.astype({"cases": "float64", "population": "float64"})
    return survey_findings(
        inputs.questionnaire,
        inputs.responses,
        weights=weights,
        police=police if len(police) else None,
    )


def area_name(analysis: Analysis, inputs: AnalysisInputs, area: str | None = None) -> str:
    key = area or analysis.area
    for table in (inputs.incidents, inputs.population):
        if table is not None and "area_name" in table.columns:
            named = table[(table["area"].astype(str) == key) & table["area_name"].notna()]
            if len(named):
                return str(named["area_name"].iloc[0])
    return key


def reference_name_of(analysis: Analysis, inputs: AnalysisInputs, lang: str) -> str:
    reference = inputs.questionnaire.meta.reference_area
    if reference is None:
        return t("document.reference_default", lang)
    return area_name(analysis, inputs, reference)


def survey_dates(inputs: AnalysisInputs) -> tuple[dt.date, dt.date] | None:
    if "submitted_on" not in inputs.responses.columns:
        return None
    dates = pd.to_datetime(inputs.responses["submitted_on"], errors="coerce").dropna()
    if not len(dates):
        return None
    return dates.min().date(), dates.max().date()


def survey_year(inputs: AnalysisInputs, today: dt.date | None) -> int:
    """The survey's year (its last answer), never the police data's."""
    dates = survey_dates(inputs)
    return dates[1].year if dates is not None else (today or dt.date.today()).year


def incident_years(inputs: AnalysisInputs) -> list[int]:
    if inputs.incidents is None or not len(inputs.incidents):
        return []
    return sorted({int(y) for y in inputs.incidents["year"].dropna()})


def share_bars(
    context: Context, rows: pd.DataFrame, label: Callable[[pd.Series], str]
) -> list[Bar]:
    shown = rows[rows["status"].isin(SHOWN)]
    return [
        Bar(label(row), float(row["share"]), float(row["ci_low"]), float(row["ci_high"]))
        for _, row in shown.iterrows()
    ]


def chart_or_nothing(
    context: Context, bars: Sequence[Bar], caption: str, axis: str
) -> list[Figure]:
    """A share chart, or nothing when there is no bar (the caller's sentence says why)."""
    if not bars:
        return []
    alt = "; ".join(f"{b.label}: {context.pct(b.value)}" for b in bars)
    return [share_figure(bars, caption=caption, alt=alt, axis_label=axis, lang=context.lang)]


def left_out(
    context: Context, rows: pd.DataFrame, label: Callable[[pd.Series], str]
) -> list[Paragraph]:
    """One sentence naming the cells that are not shown, and why."""
    out: list[Paragraph] = []
    hidden = rows[rows["status"] == str(FindingStatus.SUPPRESSED)]
    if len(hidden):
        names = ", ".join(label(r) for _, r in hidden.iterrows())
        out.append(
            Paragraph(context.t("document.suppressed", names=names, n=MIN_CELL_SIZE), "note")
        )
    empty = rows[~rows["status"].isin(SHOWN) & (rows["status"] != str(FindingStatus.SUPPRESSED))]
    if len(empty):
        names = ", ".join(label(r) for _, r in empty.iterrows())
        out.append(Paragraph(context.t("document.no_answers", names=names), "note"))
    imprecise = rows[rows["status"] == str(FindingStatus.IMPRECISE)]
    if len(imprecise):
        names = ", ".join(label(r) for _, r in imprecise.iterrows())
        out.append(Paragraph(context.t("document.imprecise", names=names), "note"))
    return out


def not_analysable(context: Context) -> list[Paragraph]:
    """The sentence every survey chapter shows when the survey cannot carry a statement."""
    if context.findings.analysable:
        return []
    return [
        Paragraph(
            context.t(
                "document.not_analysable",
                n=format_integer(context.findings.n_responses, context.lang),
                n_eff=format_number(context.findings.n_eff, 0, context.lang),
                minimum=MIN_EFFECTIVE_N,
            ),
            "caution",
        )
    ]


def stated(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["status"].isin(STATED)]


def design_variable(questionnaire: Questionnaire, design: Design) -> Variable | None:
    """The single-choice variable tagged ``design`` (district, sex, age group), if any."""
    return next(
        (v for v in questionnaire.variables() if v.design == design and v.kind == "single"), None
    )


def category_names(context: Context, design: Design) -> dict[str, str]:
    """Code → label of the categories of a design variable, in questionnaire order."""
    variable = design_variable(context.q, design)
    if variable is None:
        return {}
    return {str(o.code): context.q.text(o.label, context.lang) for o in variable.options}


__all__ = [
    "MAX_FREE_TEXTS",
    "SHOWN",
    "STATED",
    "Context",
    "area_name",
    "category_names",
    "chart_or_nothing",
    "design_variable",
    "findings_of",
    "incident_years",
    "left_out",
    "not_analysable",
    "reference_name_of",
    "share_bars",
    "stated",
    "survey_dates",
    "survey_year",
]
