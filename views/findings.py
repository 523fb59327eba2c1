"""Befragungsergebnisse: every survey finding as charts and tables, with a district filter.

The numbers come from :func:`app.findings_of` (cached per questionnaire and data version);
the page only draws them. Where a chart would be empty a sentence says why, and a banner says
when the survey as a whole cannot carry a statement.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import (
    WHOLE_TOWN,
    FindingsResult,
    banner,
    breakdown_table,
    caveats,
    chart_rows,
    dark_figure_chart_rows,
    dark_figure_columns,
    dark_figure_table,
    district_choices,
    empty_reason,
    findings_of,
    free_text_groups,
    is_demo,
    missing_bars,
    mode_table,
    places_table,
    share_table,
    table_columns,
)
from core import (
    escape_free_text,
    escape_markdown,
    format_integer,
    format_number,
    number_separators,
    t,
)
from scoring import Topic
from survey import Design, Questionnaire
from views._cache import cached_inputs
from views._session import (
    choose_questionnaire,
    data_version,
    demo_banner,
    page_frame,
    workspace,
)

#: Topics per section, in the order a Sicherheitsanalyse reports them.
SAFETY = (Topic.UNSAFE_NIGHT, Topic.UNSAFE_DAY, Topic.WORRY, Topic.AVOIDANCE)
VICTIMS = (Topic.VICTIMISATION, Topic.REPORTED)
INSTITUTIONS = (Topic.DISSATISFIED, Topic.LOW_TRUST, Topic.MEASURE)
GROUPED = (Topic.UNSAFE_NIGHT, Topic.UNSAFE_DAY, Topic.WORRY)
GLOSSARY = (
    "share",
    "interval",
    "n_eff",
    "weighting",
    "suppressed",
    "imprecise",
    "prevalence",
    "reporting",
    "dark",
    "fear",
    "places",
)
#: Free-text answers shown per question (all are in the responses export).
FREE_TEXT_SHOWN = 200
BAR = "#2b6ca3"
BAR_IMPRECISE = "#a9c6e0"
FONT = {"family": "Source Sans Pro, Arial, sans-serif", "size": 13}
#: Characters per line of a bar label before it wraps (long item texts on a phone).
LABEL_WIDTH = 22


@st.cache_resource(show_spinner=False, max_entries=8)
def _findings(url: str, questionnaire_id: str, version: str) -> FindingsResult:
    ws = workspace()
    return findings_of(ws, ws.inputs(questionnaire_id))


def cached_findings(questionnaire_id: str) -> FindingsResult:
    """The findings, computed again only when the questionnaire's data changed."""
    ws = workspace()
    return _findings(ws.cache_key, questionnaire_id, data_version(questionnaire_id))


def render() -> None:
    _manager, lang = page_frame("findings.title")
    record = choose_questionnaire(lang)
    if record is None:
        return
    with st.spinner(t("manager.priorities.computing", lang)):
        result = cached_findings(record.id)
    questionnaire = workspace().questionnaire(record.id)
    if is_demo(result.area, questionnaire):
        demo_banner(lang)
    message = banner(result, lang)
    if message is not None:
        st.error(message, icon=":material/warning:")
    st.caption(t("findings.intro", lang))
    _metrics(result, lang)
    if result.findings.n_responses == 0:
        _glossary(lang)
        return
    district = _district_filter(result, questionnaire, lang)
    st.caption(t("manager.suppressed_hint", lang))

    st.header(t("findings.section.safety", lang))
    for topic in SAFETY:
        _topic(result, topic, questionnaire, lang, district)
    st.header(t("findings.section.victims", lang))
    for topic in VICTIMS:
        _topic(result, topic, questionnaire, lang, district)
    _dark_figure(result, lang, district)
    st.header(t("findings.section.institutions", lang))
    for topic in INSTITUTIONS:
        _topic(result, topic, questionnaire, lang, district)
    st.header(t("findings.section.places", lang))
    _places(result, lang)
    st.header(t("findings.section.groups", lang))
    _groups(result, questionnaire, lang)
    _modes(record.id, lang)
    st.header(t("findings.section.free_text", lang))
    _free_text(result, questionnaire, lang)
    _glossary(lang)


def _metrics(result: FindingsResult, lang: str) -> None:
    findings = result.findings
    left, middle, right = st.columns(3)
    left.metric(
        t("findings.metric.responses", lang),
        format_integer(findings.n_responses, lang),
        help=t("findings.metric.responses_help", lang),
    )
    middle.metric(
        t("findings.metric.n_eff", lang),
        format_number(findings.n_eff, 0, lang),
        help=t("findings.glossary.n_eff.text", lang),
    )
    right.metric(
        t("findings.metric.weighting", lang),
        t("findings.metric.weighted" if findings.weighted else "findings.metric.unweighted", lang),
        help=t("findings.metric.weighting_help", lang),
    )


def _district_filter(result: FindingsResult, questionnaire: Questionnaire, lang: str) -> str:
    choices = district_choices(result, questionnaire, lang)
    if len(choices) == 1:
        st.caption(t("findings.no_districts", lang))
        return WHOLE_TOWN
    chosen = st.selectbox(
        t("findings.district_filter", lang),
        list(choices),
        format_func=choices.__getitem__,
        help=t("findings.district_filter_help", lang),
        key="findings.district",
    )
    return str(chosen)


def _topic(
    result: FindingsResult, topic: Topic, questionnaire: Questionnaire, lang: str, district: str
) -> None:
    """One topic: its title, what the share means, the chart (or why none), the table."""
    catalogue = workspace().catalogue
    st.subheader(t(f"findings.topic.{topic}.title", lang))
    st.caption(t(f"findings.topic.{topic}.caption", lang))
    rows = chart_rows(result, topic, questionnaire, catalogue, lang, district=district)
    if len(rows):
        st.plotly_chart(_bar_chart(rows, lang), key=f"findings.chart.{topic}")
        if rows["imprecise"].any():
            st.caption(t("findings.chart.imprecise_hint", lang))
        missing = missing_bars(result, topic, questionnaire, catalogue, lang, district=district)
        if missing is not None:
            st.caption(missing)
    else:
        st.info(empty_reason(result, topic, lang, district=district))
    table = share_table(result, topic, questionnaire, catalogue, lang, district=district)
    if len(table):
        with st.expander(t("findings.table", lang)):
            st.dataframe(
                table,
                hide_index=True,
                column_config=_column_help(lang),
                key=f"findings.table.{topic}",
            )


def _column_help(lang: str) -> dict[str, Any]:
    """A tooltip on every statistical column header."""
    columns = table_columns(lang)
    return {
        columns[key]: st.column_config.TextColumn(
            columns[key], help=t(f"findings.help.{key}", lang)
        )
        for key in ("share", "interval", "respondents", "note")
    }


def _wrap(text: str) -> str:
    """Break a long label into lines of about :data:`LABEL_WIDTH` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + len(word) < LABEL_WIDTH:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "<br>".join(escape_free_text(line) for line in lines)


def _bar_chart(rows: pd.DataFrame, lang: str) -> go.Figure:
    """Horizontal bars of the shares with their 95 % intervals, largest on top, 0–100 %."""
    ordered = rows.iloc[::-1]
    return _bars(
        ordered["share"],
        ordered["ci_low"],
        ordered["ci_high"],
        ordered["label"],
        [BAR_IMPRECISE if i else BAR for i in ordered["imprecise"]],
        lang=lang,
        axis=t("findings.chart.axis", lang),
        x_range=[0.0, 1.0],
        tick_format=".0%",
        hover="%{x:.0%}<extra></extra>",
    )


def _ratio_chart(rows: pd.DataFrame, lang: str) -> go.Figure:
    """Victims per registered case with their intervals, from 0 (an infinite upper limit is
    drawn to the chart's edge)."""
    ordered = rows.sort_values("ratio")
    finite = ordered["ci_high"].replace(np.inf, np.nan)
    top = float(np.nanmax([finite.max(), ordered["ratio"].max()])) * 1.1
    return _bars(
        ordered["ratio"],
        ordered["ci_low"],
        finite.fillna(top),
        ordered["label"],
        BAR,
        lang=lang,
        axis=t("findings.dark.chart_axis", lang),
        x_range=[0.0, top],
        tick_format="",
        hover="%{x:.1f}<extra></extra>",
    )


def _bars(
    value: pd.Series,
    low: pd.Series,
    high: pd.Series,
    labels: pd.Series,
    colours: str | list[str],
    *,
    lang: str,
    axis: str,
    x_range: list[float],
    tick_format: str,
    hover: str,
) -> go.Figure:
    """The page's one chart form: horizontal bars with interval whiskers, fixed axes, the
    height grown with the (wrapped) label lines so nothing is cut off."""
    wrapped = [_wrap(str(label)) for label in labels]
    fig = go.Figure(
        go.Bar(
            x=value,
            y=wrapped,
            orientation="h",
            marker_color=colours,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": high - value,
                "arrayminus": value - low,
                "color": "#333333",
                "thickness": 1.2,
            },
            hovertemplate=hover,
        )
    )
    lines = sum(label.count("<br>") + 1 for label in wrapped)
    fig.update_layout(
        separators=number_separators(lang),
        font=FONT,
        height=max(160, 70 + 24 * lines + 10 * len(wrapped)),
        margin={"l": 10, "r": 20, "t": 10, "b": 50},
        template="plotly_white",
        showlegend=False,
        xaxis={
            "range": x_range,
            "tickformat": tick_format,
            "title": {"text": axis, "font": {"size": 12}},
            "fixedrange": True,
        },
        yaxis={"automargin": True, "fixedrange": True},
    )
    return fig


def _dark_figure(result: FindingsResult, lang: str, district: str) -> None:
    catalogue = workspace().catalogue
    st.subheader(t("findings.dark.title", lang))
    st.caption(t("findings.dark.caption", lang))
    if district != WHOLE_TOWN:
        st.info(t("findings.dark.town_only", lang))
    table = dark_figure_table(result, catalogue, lang)
    if not len(table):
        st.info(t("findings.empty.not_asked", lang))
        return
    if result.police_problems:
        reason = "; ".join(p.message(lang) for p in result.police_problems)
        st.warning(t("findings.dark.police_missing", lang, reason=reason))
    elif result.findings.dark_figure["cases"].isna().all():
        st.warning(
            t(
                "findings.dark.police_missing",
                lang,
                reason=t("findings.dark.no_police_uploaded", lang),
            )
        )
    elif result.area_name is not None and result.year is not None:
        st.caption(t("findings.dark.police_year", lang, area=result.area_name, year=result.year))
    ratios = dark_figure_chart_rows(result, catalogue, lang)
    if len(ratios):
        st.plotly_chart(_ratio_chart(ratios, lang), key="findings.dark.chart")
    else:
        st.info(t("findings.dark.no_ratio", lang))
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            name: st.column_config.TextColumn(name, help=tip)
            for name, tip in dark_figure_columns(lang).items()
        },
        key="findings.dark.table",
    )
    st.markdown(
        t("findings.dark.caveats", lang)
        + "\n"
        + "\n".join(f"- {sentence}" for sentence in caveats(result, lang))
    )


def _places(result: FindingsResult, lang: str) -> None:
    findings = result.findings
    st.caption(t("findings.places.caption", lang))
    table = places_table(result, lang)
    if len(table):
        st.dataframe(table, hide_index=True, key="findings.places")
    elif findings.places_rare or len(findings.free_text):
        st.info(t("findings.places.none", lang))
    else:
        st.info(t("findings.places.not_asked", lang))
    if findings.places_rare:
        st.caption(
            t("findings.places.rare", lang, count=format_integer(findings.places_rare, lang))
        )


def _groups(result: FindingsResult, questionnaire: Questionnaire, lang: str) -> None:
    catalogue = workspace().catalogue
    st.caption(t("findings.groups.caption", lang))
    shown = False
    for design in (Design.SEX, Design.AGE_GROUP):
        tables = [
            (topic, breakdown_table(result, topic, design, questionnaire, catalogue, lang))
            for topic in GROUPED
        ]
        present = [(topic, table) for topic, table in tables if table is not None]
        if not present:
            continue
        shown = True
        st.subheader(t(f"findings.groups.by_{design}", lang))
        for topic, table in present:
            st.markdown(f"**{t(f'findings.topic.{topic}.title', lang)}**")
            st.dataframe(table, hide_index=True, key=f"findings.groups.{design}.{topic}")
    if not shown:
        st.info(t("findings.groups.none", lang))


def _modes(questionnaire_id: str, lang: str) -> None:
    """Rücklauf nach Erhebungsweg: responses online, keyed, scanned, imported (small cells
    suppressed), so that a mode effect can be judged."""
    st.subheader(t("modes.title", lang))
    st.caption(t("modes.caption", lang))
    st.dataframe(
        mode_table(cached_inputs(questionnaire_id).responses, lang),
        hide_index=True,
        key="findings.modes",
    )


def _free_text(result: FindingsResult, questionnaire: Questionnaire, lang: str) -> None:
    """Answers escaped by :mod:`scoring`, shown as plain list items (never live HTML)."""
    st.caption(t("findings.free_text.caption", lang))
    groups = free_text_groups(result, questionnaire, lang)
    if not groups:
        st.info(t("findings.free_text.none", lang))
    for question, texts in groups:
        items = "".join(f"<li>{text}</li>" for text in texts[:FREE_TEXT_SHOWN])
        more = ""
        if len(texts) > FREE_TEXT_SHOWN:
            note = t(
                "findings.free_text.more",
                lang,
                shown=FREE_TEXT_SHOWN,
                count=format_integer(len(texts), lang),
            )
            more = f"<p>{escape_free_text(note)}</p>"
        with st.expander(f"{escape_markdown(question)} ({format_integer(len(texts), lang)})"):
            st.html(f"<ul>{items}</ul>{more}")
    withheld = result.findings.free_text_withheld
    if withheld:
        labels = [
            questionnaire.text(v.label, lang)
            for v in questionnaire.variables()
            if v.id in set(withheld)
        ]
        st.caption(t("findings.free_text.withheld", lang, questions="; ".join(labels)))


def _glossary(lang: str) -> None:
    with st.expander(t("findings.section.glossary", lang)):
        st.markdown(
            "\n\n".join(
                f"**{t(f'findings.glossary.{term}.term', lang)}**: "
                f"{t(f'findings.glossary.{term}.text', lang)}"
                for term in GLOSSARY
            )
        )
