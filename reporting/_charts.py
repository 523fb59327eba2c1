"""Plotly figures of an analysis, shared by the priorities page and the HTML report.

The figures only draw what :mod:`scoring` computed; they compute no statistics. Suppressed
cells (fewer than 5 respondents) carry no value in the tables and are drawn as empty cells
marked "< 5", never as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import format_percent, format_short, localized, number_separators, t
from survey import ActionFieldCatalogue

QUADRANT_COLOURS: Mapping[str, str] = {
    "both_high": "#b2182b",
    "felt_only": "#ef8a62",
    "registered_only": "#67a9cf",
    "both_low": "#999999",
    "unclear": "#d9d9d9",
}
FONT = {"family": "Source Sans Pro, Arial, sans-serif", "size": 14}


def field_label(catalogue: ActionFieldCatalogue, field_id: str, lang: str) -> str:
    """The field's label in ``lang``; unknown ids are shown as they are."""
    if field_id not in catalogue:
        return field_id
    label = catalogue.get(field_id).label
    return localized(label, lang, default=field_id)


def _layout(fig: go.Figure, title: str, height: int, lang: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        separators=number_separators(lang),
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        template="plotly_white",
        showlegend=False,
    )
    return fig


def rank_chart(ranking: pd.DataFrame, catalogue: ActionFieldCatalogue, lang: str) -> go.Figure:
    """Fields in rank order: priority as bars, median rank with its 95 % interval beside."""
    rows = ranking.sort_values("rank", ascending=False)
    labels = [field_label(catalogue, f, lang) for f in rows["field"]]
    colours = [QUADRANT_COLOURS.get(str(q), "#999999") for q in rows["quadrant"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.03,
        subplot_titles=(t("chart.priority", lang), t("chart.rank", lang)),
    )
    fig.add_trace(
        go.Bar(x=rows["priority"], y=labels, orientation="h", marker_color=colours),
        row=1,
        col=1,
    )
    hover = [
        t(
            "chart.rank_hover",
            lang,
            rank=format_short(r, lang),
            low=format_short(lo, lang),
            high=format_short(hi, lang),
        )
        for r, lo, hi in zip(rows["rank"], rows["rank_low"], rows["rank_high"], strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=rows["rank"],
            y=labels,
            mode="markers",
            marker={"size": 11, "color": colours},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": rows["rank_high"] - rows["rank"],
                "arrayminus": rows["rank"] - rows["rank_low"],
            },
            hovertext=hover,
            hoverinfo="text",
        ),
        row=1,
        col=2,
    )
    n_fields = max(len(rows), 1)
    fig.update_xaxes(range=[n_fields + 0.5, 0.5], dtick=1, row=1, col=2)
    return _layout(fig, t("chart.rank_title", lang), 120 + 42 * n_fields, lang)


def quadrant_chart(
    ranking: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    share_threshold: float | None = None,
) -> go.Figure:
    """Felt (share of "problem") against registered (SIR, log scale), with both intervals.

    Fields without one of the two components cannot be placed and are listed underneath.
    """
    placeable = ranking["sir"].notna() & ranking["share_problem"].notna() & (ranking["sir"] > 0)
    shown = ranking[placeable]
    missing = [field_label(catalogue, f, lang) for f in ranking.loc[~placeable, "field"]]
    fig = go.Figure()
    for quadrant, group in shown.groupby("quadrant", sort=False):
        fig.add_trace(
            go.Scatter(
                x=group["sir"],
                y=group["share_problem"],
                mode="markers+text",
                text=[field_label(catalogue, f, lang) for f in group["field"]],
                textposition="top center",
                marker={"size": 12, "color": QUADRANT_COLOURS.get(str(quadrant), "#999999")},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": group["sir_ci_high"] - group["sir"],
                    "arrayminus": group["sir"] - group["sir_ci_low"],
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": group["share_ci_high"] - group["share_problem"],
                    "arrayminus": group["share_problem"] - group["share_ci_low"],
                },
                name=t(f"chart.quadrant.{quadrant}", lang),
            )
        )
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555555")
    if share_threshold is not None:
        fig.add_hline(y=share_threshold, line_dash="dash", line_color="#555555")
    fig.update_xaxes(type="log", title=t("chart.sir_axis", lang))
    fig.update_yaxes(title=t("chart.share_axis", lang), tickformat=".0%", rangemode="tozero")
    if missing:
        fig.add_annotation(
            text=t("chart.quadrant_missing", lang, fields=", ".join(missing)),
            xref="paper",
            yref="paper",
            x=0,
            y=-0.22,
            showarrow=False,
            align="left",
        )
    _layout(fig, t("chart.quadrant_title", lang), 520, lang)
    fig.update_layout(showlegend=True, margin={"b": 90})
    return fig


def district_heatmap(
    survey_indicators: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    lang: str,
    *,
    district_labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """District × field of the share seeing a problem; suppressed cells show "< 5"."""
    table = survey_indicators.pivot_table(
        index="area", columns="field", values="share_problem", aggfunc="first", dropna=False
    )
    suppressed = survey_indicators.pivot_table(
        index="area", columns="field", values="suppressed", aggfunc="first", dropna=False
    ).reindex_like(table)
    values = table.to_numpy(dtype=float)
    flags = suppressed.fillna(True).to_numpy(dtype=bool)
    values = np.where(flags, np.nan, values)
    text = np.where(
        flags,
        t("report.suppressed_cell", lang),
        np.vectorize(lambda v: format_percent(v, 0, lang), otypes=[object])(values),
    )
    names = district_labels or {}
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=[field_label(catalogue, f, lang) for f in table.columns],
            y=[names.get(str(a), str(a)) for a in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Reds",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%"},
            hoverongaps=False,
        )
    )
    fig.update_xaxes(title=t("chart.field", lang))
    fig.update_yaxes(title=t("chart.district", lang), autorange="reversed")
    return _layout(fig, t("chart.heatmap_title", lang), 160 + 40 * max(len(table.index), 1), lang)


def funnel_chart(
    indicators: pd.DataFrame,
    limits: pd.DataFrame,
    field_name: str,
    lang: str,
    *,
    area_labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Rates against population with the 95 % and 99.8 % control limits around the reference.

    ``indicators`` holds one row per area (``area, population, rate_per_100k``); ``limits``
    is the grid computed by :mod:`scoring` (``population, reference_rate, low_95, high_95,
    low_998, high_998``, rates per 100,000).
    """
    names = area_labels or {}
    fig = go.Figure()
    for column, dash, key in (
        ("low_998", "dot", "chart.limit_998"),
        ("high_998", "dot", "chart.limit_998"),
        ("low_95", "dash", "chart.limit_95"),
        ("high_95", "dash", "chart.limit_95"),
    ):
        fig.add_trace(
            go.Scatter(
                x=limits["population"],
                y=limits[column],
                mode="lines",
                line={"dash": dash, "color": "#555555", "width": 1},
                name=t(key, lang),
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=limits["population"],
            y=limits["reference_rate"],
            mode="lines",
            line={"color": "#222222", "width": 1},
            name=t("chart.reference_rate", lang),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=indicators["population"],
            y=indicators["rate_per_100k"],
            mode="markers+text",
            text=[names.get(str(a), str(a)) for a in indicators["area"]],
            textposition="top center",
            marker={"size": 10, "color": "#b2182b"},
        )
    )
    fig.update_xaxes(title=t("chart.population", lang))
    fig.update_yaxes(title=t("chart.rate", lang), rangemode="tozero")
    return _layout(fig, t("chart.funnel_title", lang, field=field_name), 460, lang)


def trend_chart(indicators: pd.DataFrame, catalogue: ActionFieldCatalogue, lang: str) -> go.Figure:
    """Rate per 100,000 by year, one line per field (needs several years)."""
    fig = go.Figure()
    for field_id, group in indicators.sort_values("year").groupby("field", sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["year"],
                y=group["rate_per_100k"],
                mode="lines+markers",
                name=field_label(catalogue, str(field_id), lang),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": group["rate_ci_high"] - group["rate_per_100k"],
                    "arrayminus": group["rate_per_100k"] - group["rate_ci_low"],
                },
            )
        )
    fig.update_xaxes(title=t("chart.year", lang), dtick=1)
    fig.update_yaxes(title=t("chart.rate", lang), rangemode="tozero")
    _layout(fig, t("chart.trend_title", lang), 460, lang)
    fig.update_layout(showlegend=True)
    return fig
