"""The analysis report: one self-contained HTML file that opens offline and prints to PDF.

"Sicherheitsanalyse <Kommune> <Jahr>" holds the method summary, the sample description, the
results per action field with charts, the ranking with reasons and a recommendations section
per priority field. Plotly's JavaScript is embedded once, so the file needs no network.
Every text that comes from data (names, reasons, the manager's recommendations) is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import pandas as pd
import plotly.graph_objects as go

from core import format_date, format_integer, format_short, is_small, t
from reporting._charts import district_heatmap, field_label, quadrant_chart, rank_chart, trend_chart
from survey import ActionFieldCatalogue

CSS = """
body { font-family: "Source Sans Pro", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 2rem; border-bottom: 3px solid #b2182b; padding-bottom: .3rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95rem; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
.demo { background: #fff3cd; border: 2px solid #e0a800; padding: .5rem 1rem; font-weight: bold; }
.recommendation { border: 1px dashed #888; padding: .75rem; min-height: 4rem; background: #fafafa; }
.hint { color: #555; font-size: .9rem; }
.chart { page-break-inside: avoid; break-inside: avoid; }
@media print {
  body { max-width: none; margin: 0; }
  .hint { display: none; }
  h2 { page-break-before: auto; page-break-after: avoid; }
  section.field { page-break-inside: avoid; }
}
"""


@dataclass(frozen=True)
class ReportInput:
    """Everything the report shows; built by the caller from an analysis."""

    municipality: str
    year: int
    ranking: pd.DataFrame
    catalogue: ActionFieldCatalogue
    n_respondents: int
    #: One table per design variable (e.g. district, sex, age group): ``category, count``.
    sample: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    survey_indicators: pd.DataFrame | None = None
    incident_trend: pd.DataFrame | None = None
    #: The manager's recommendation text per field id; a placeholder where none is given.
    recommendations: Mapping[str, str] = field(default_factory=dict)
    demo: bool = False
    district_labels: Mapping[str, str] = field(default_factory=dict)


def render_report(data: ReportInput, lang: str = "de") -> str:
    """The whole report as one HTML document."""
    title = t("report.title", lang, municipality=data.municipality, year=data.year)
    figures = _Figures()
    parts: list[str] = [
        f'<!DOCTYPE html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    if data.demo:
        parts.append(f'<p class="demo">{_e(t("common.demo_label", lang))}</p>')
    parts.append(
        f'<p class="hint">{_e(t("report.generated_on", lang, date=format_date(dt.date.today(), lang), version=_version()))}'
        f"<br>{_e(t('report.print_hint', lang))}</p>"
    )
    parts += _method(lang)
    parts += _sample(data, lang)
    parts += _ranking(data, lang, figures)
    parts += _results(data, lang, figures)
    parts += _recommendations(data, lang)
    parts.append("</body></html>")
    return "\n".join(parts)


class _Figures:
    """Embeds plotly.js with the first figure only, so the file carries it once."""

    def __init__(self) -> None:
        self._first = True

    def html(self, figure: go.Figure) -> str:
        include = "inline" if self._first else False
        self._first = False
        body = figure.to_html(
            full_html=False, include_plotlyjs=include, config={"displaylogo": False}
        )
        return f'<div class="chart">{body}</div>'


def _method(lang: str) -> list[str]:
    return [
        f"<h2>{_e(t('report.method_heading', lang))}</h2>",
        f"<p>{_e(t('report.method_text', lang))}</p>",
    ]


def _sample(data: ReportInput, lang: str) -> list[str]:
    parts = [
        f"<h2>{_e(t('report.sample_heading', lang))}</h2>",
        f"<p>{_e(t('report.sample_text', lang, n=format_integer(data.n_respondents, lang)))}</p>",
    ]
    for variable, table in data.sample.items():
        parts.append(f"<h3>{_e(t('report.sample_by', lang, variable=variable))}</h3>")
        rows = []
        small = is_small(table["count"])
        for category, count, hidden in zip(table["category"], table["count"], small, strict=True):
            shown = (
                t("report.suppressed_cell", lang) if hidden else format_integer(int(count), lang)
            )
            rows.append(f'<tr><td>{_e(str(category))}</td><td class="num">{_e(shown)}</td></tr>')
        parts.append(
            f"<table><tr><th>{_e(t('report.category', lang))}</th>"
            f"<th>{_e(t('report.count', lang))}</th></tr>{''.join(rows)}</table>"
        )
    return parts


def _ranking(data: ReportInput, lang: str, figures: _Figures) -> list[str]:
    reason_column = "reason" if lang == "de" or "reason_en" not in data.ranking else "reason_en"
    rows = []
    for record in data.ranking.sort_values("rank").to_dict("records"):
        quadrant = record["quadrant"]  # missing where a component is (no police data, < 5)
        interval = (
            f"{format_short(record['rank_low'], lang)}–{format_short(record['rank_high'], lang)}"
        )
        rows.append(
            "<tr>"
            f'<td class="num">{_e(format_short(record["rank"], lang))}</td>'
            f"<td>{_e(field_label(data.catalogue, str(record['field']), lang))}</td>"
            f'<td class="num">{_e(interval)}</td>'
            f"<td>{_e(t('chart.quadrant.' + quadrant, lang) if isinstance(quadrant, str) else '')}</td>"
            f"<td>{_e(str(record.get(reason_column) or ''))}</td>"
            "</tr>"
        )
    header = "".join(
        f"<th>{_e(t(key, lang))}</th>"
        for key in (
            "chart.rank",
            "chart.field",
            "report.rank_interval",
            "report.quadrant",
            "report.reason",
        )
    )
    return [
        f"<h2>{_e(t('report.ranking_heading', lang))}</h2>",
        f"<table><tr>{header}</tr>{''.join(rows)}</table>",
        figures.html(rank_chart(data.ranking, data.catalogue, lang)),
        figures.html(quadrant_chart(data.ranking, data.catalogue, lang)),
    ]


def _results(data: ReportInput, lang: str, figures: _Figures) -> list[str]:
    parts = [f"<h2>{_e(t('report.results_heading', lang))}</h2>"]
    if data.survey_indicators is not None and not data.survey_indicators.empty:
        parts.append(
            figures.html(
                district_heatmap(
                    data.survey_indicators,
                    data.catalogue,
                    lang,
                    district_labels=data.district_labels,
                )
            )
        )
    if data.incident_trend is not None and data.incident_trend["year"].nunique() > 1:
        parts.append(figures.html(trend_chart(data.incident_trend, data.catalogue, lang)))
    reason_column = "reason" if lang == "de" or "reason_en" not in data.ranking else "reason_en"
    for record in data.ranking.sort_values("rank").to_dict("records"):
        field_id = str(record["field"])
        parts.append(
            f'<section class="field"><h3>{_e(field_label(data.catalogue, field_id, lang))}</h3>'
            f"<p>{_e(str(record.get(reason_column) or ''))}</p></section>"
        )
    return parts


def _recommendations(data: ReportInput, lang: str, top: int = 3) -> list[str]:
    parts = [f"<h2>{_e(t('report.recommendations_heading', lang))}</h2>"]
    for record in data.ranking.sort_values("rank").head(top).to_dict("records"):
        field_id = str(record["field"])
        text = data.recommendations.get(field_id, "").strip()
        body = (
            _e(text).replace("\n", "<br>")
            if text
            else _e(t("report.recommendation_placeholder", lang))
        )
        parts.append(
            f'<section class="field"><h3>{_e(field_label(data.catalogue, field_id, lang))}</h3>'
            f'<div class="recommendation">{body}</div>'
        )
        measures = _typical_measures(data.catalogue, field_id, lang)
        if measures:
            items = "".join(f"<li>{_e(m)}</li>" for m in measures)
            parts.append(f"<h4>{_e(t('report.typical_measures', lang))}</h4><ul>{items}</ul>")
        parts.append("</section>")
    return parts


def _typical_measures(catalogue: ActionFieldCatalogue, field_id: str, lang: str) -> Sequence[str]:
    if field_id not in catalogue:
        return ()
    measures = catalogue.get(field_id).typical_measures
    return measures.get(lang) or measures.get("de") or ()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _version() -> str:
    try:
        return version("sicherheitsanalyse")
    except PackageNotFoundError:
        return "dev"
