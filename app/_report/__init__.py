"""The Sicherheitsanalyse report: the document filled from an analysis and the survey findings.

:func:`report_document` writes every chapter from the numbers (what they say, with their
intervals, and in a sentence what they cannot say); :func:`render_report_file` lays it out as
PDF, HTML or DOCX (:mod:`reporting`). It computes no statistics itself: shares, intervals and
the dark figure are :func:`scoring.survey_findings`', rates and ranks :func:`scoring.analyse`'s.

Honesty rules, shared by every chapter:

* a share is stated in the text only with status ``ok`` (published and its interval at most
  40 points wide); charts show ``ok`` and ``imprecise`` shares with their intervals, and name
  the suppressed cells in a sentence;
* below :data:`scoring.MIN_EFFECTIVE_N` effective respondents the survey chapters say that
  the survey cannot carry a statement, and the ranking rests on police data only;
* a recommendation section shows the manager's text and the catalogue's typical measures, and
  nothing where there is neither: never a placeholder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Literal

import pandas as pd

from app._report import _closing, _police, _survey
from app._report._context import (
    Context,
    area_name,
    findings_of,
    incident_years,
    reference_name_of,
    survey_dates,
    survey_year,
)
from app._workspace import AnalysisInputs, is_demo, report_filename
from core import format_date, format_integer, t
from reporting import Document, Section, render_docx, render_html_document, render_pdf
from scoring import Analysis
from survey import ActionFieldCatalogue

ReportFormat = Literal["pdf", "html", "docx"]


#: The formats of :func:`render_report_file`, in the order the CLI lists them.
REPORT_FORMATS: tuple[ReportFormat, ...] = ("pdf", "html", "docx")
#: The media type of each format, for a download button.
REPORT_MIME_TYPES: dict[ReportFormat, str] = {
    "pdf": "application/pdf",
    "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
#: The chapters in reading order; each gives its sections (a chapter and its subsections).
CHAPTERS: tuple[Callable[[Context], list[Section]], ...] = (
    _survey.summary,
    _survey.method,
    _survey.safety,
    _survey.worry,
    _survey.victimisation,
    _police.police,
    _police.districts,
    _police.priorities,
    _police.recommendations,
    _closing.limitations,
    _closing.appendix,
)


def report_document(
    analysis: Analysis,
    inputs: AnalysisInputs,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    recommendations: Mapping[str, str] | None = None,
    municipality: str | None = None,
    publisher: str | None = None,
    rates: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> Document:
    """The whole Sicherheitsanalyse of ``analysis`` as a :class:`reporting.Document`.

    ``rates``: issued and used access codes per batch (:func:`app.response_rates`), for the
    response rate; ``publisher``: the Herausgeber (default: the municipality).
    """
    meta = inputs.questionnaire.meta
    name = municipality or meta.municipality or area_name(analysis, inputs)
    context = Context(
        analysis=analysis,
        inputs=inputs,
        catalogue=catalogue,
        findings=findings_of(analysis, inputs),
        lang=lang,
        municipality=name,
        reference_name=reference_name_of(analysis, inputs, lang),
        recommendations={k: v for k, v in (recommendations or {}).items() if v.strip()},
        rates=rates if rates is not None and len(rates) else None,
    )
    sections: list[Section] = []
    for chapter in CHAPTERS:
        sections += chapter(context)
    title = context.t("document.title", municipality=name, year=survey_year(inputs, today))
    return Document(
        lang=lang,
        title=title,
        subtitle=context.t("document.subtitle"),
        publisher=publisher or name,
        facts=_facts(context, publisher or name, today or dt.date.today()),
        sections=tuple(sections),
        banner=t("common.demo_label", lang) if is_demo(analysis.area, inputs.questionnaire) else "",
        contents_title=context.t("document.contents"),
        page_label=context.t("document.page"),
        keywords=(context.t("document.keyword"), name),
    )


def render_report_file(document: Document, report_format: ReportFormat) -> bytes:
    """``document`` as the bytes of a PDF, a self-contained HTML or a DOCX file."""
    if report_format == "pdf":
        return render_pdf(document)
    if report_format == "docx":
        return render_docx(document)
    return render_html_document(document).encode("utf-8")


def report_file(
    analysis: Analysis,
    inputs: AnalysisInputs,
    catalogue: ActionFieldCatalogue,
    lang: str,
    report_format: ReportFormat = "pdf",
    *,
    recommendations: Mapping[str, str] | None = None,
    municipality: str | None = None,
    rates: pd.DataFrame | None = None,
) -> bytes:
    """The report in ``report_format``: ``report_html``'s arguments, plus format and rates."""
    document = report_document(
        analysis,
        inputs,
        catalogue,
        lang,
        recommendations=recommendations,
        municipality=municipality,
        rates=rates,
    )
    return render_report_file(document, report_format)


def report_html(
    analysis: Analysis,
    inputs: AnalysisInputs,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    recommendations: Mapping[str, str] | None = None,
    municipality: str | None = None,
) -> str:
    """The new self-contained HTML report, with the signature of the old
    :func:`app._workspace.report_html`, so that it can take its place."""
    html = report_file(
        analysis,
        inputs,
        catalogue,
        lang,
        "html",
        recommendations=recommendations,
        municipality=municipality,
    )
    return html.decode("utf-8")


def report_file_name(
    analysis: Analysis,
    inputs: AnalysisInputs,
    report_format: ReportFormat,
    lang: str = "de",
    *,
    municipality: str | None = None,
) -> str:
    """``Sicherheitsanalyse_<Kommune>_<Befragungsjahr>.<format>``."""
    name = municipality or inputs.questionnaire.meta.municipality or area_name(analysis, inputs)
    stem = report_filename(name, survey_year(inputs, None), lang).removesuffix(".html")
    return f"{stem}.{report_format}"


def _facts(context: Context, publisher: str, today: dt.date) -> tuple[tuple[str, str], ...]:
    """The title page's lines: who, when, which survey period and which police years."""
    lang = context.lang
    facts = [(context.t("document.fact.publisher"), publisher)]
    facts.append((context.t("document.fact.date"), format_date(today, lang)))
    dates = survey_dates(context.inputs)
    if dates is not None:
        period = context.t(
            "document.period", start=format_date(dates[0], lang), end=format_date(dates[1], lang)
        )
        facts.append((context.t("document.fact.survey_period"), period))
    facts.append(
        (context.t("document.fact.responses"), format_integer(context.findings.n_responses, lang))
    )
    years = incident_years(context.inputs)
    if years and context.analysis.year is not None:
        span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
        facts.append(
            (
                context.t("document.fact.police_years"),
                context.t("document.police_years", span=span, year=context.analysis.year),
            )
        )
    facts.append((context.t("document.fact.reference"), context.reference_name))
    return tuple(facts)


__all__ = [
    "REPORT_FORMATS",
    "REPORT_MIME_TYPES",
    "ReportFormat",
    "render_report_file",
    "report_document",
    "report_file",
    "report_file_name",
    "report_html",
]
