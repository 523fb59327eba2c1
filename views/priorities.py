"""Priorities: the ranked action fields with their uncertainty, charts and weight sliders.

The analysis is computed once per questionnaire, data version and choice of area, reference
and year (``st.cache_resource``); moving a weight slider only re-ranks the cached analysis.
Survey cells of fewer than 5 respondents are suppressed in the table and the charts. Free-text
answers are shown here only, escaped.
"""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from app import (
    AnalysisInputs,
    area_names,
    free_text_answers,
    funnel_data,
    heatmap_indicators,
    incident_areas,
    incident_years,
    is_demo,
    perceived_reference_file,
    perceived_reference_wave,
    ranking_view,
    trend_data,
)
from core import (
    InvalidInput,
    Problem,
    escape_free_text,
    escape_markdown,
    format_integer,
    localized,
    t,
)
from reporting import (
    district_heatmap,
    field_label,
    funnel_chart,
    quadrant_chart,
    rank_chart,
    trend_chart,
)
from scoring import PERCEIVED_THRESHOLD, Analysis, PerceivedReference
from views._cache import (
    AUTO,
    Choice,
    cached_analysis,
    cached_inputs,
    remember_choice,
    remembered_choice,
)
from views._session import (
    choose_questionnaire,
    data_version,
    demo_banner,
    page_frame,
    problem_message,
    workspace,
)

WIDGETS = ("municipality", "reference", "year", "weight_perceived", "weight_registered")
CHARTS = ("rank", "quadrant", "heatmap", "funnel", "trend", "free_text")
#: Free-text answers shown per question (all of them are in the responses export).
FREE_TEXT_SHOWN = 300


def widget_key(questionnaire_id: str, name: str) -> str:
    """Widget keys per questionnaire: each keeps its own areas, years and weights."""
    return f"manager.priorities.{name}.{questionnaire_id}"


def _seed(key: str, value: object, options: list[object] | None = None) -> None:
    """Start a widget at the remembered value (widget state is dropped on other pages)."""
    if key in st.session_state:
        return
    if options is not None and value not in options:
        value = options[0]
    st.session_state[key] = value


def _choose(questionnaire_id: str, inputs: AnalysisInputs, lang: str) -> Choice:
    """The area, reference, year and weight widgets; returns and remembers the choice."""
    remembered = remembered_choice(questionnaire_id)
    areas: list[object] = [AUTO, *incident_areas(inputs)]
    years: list[object] = list(_year_options(incident_years(inputs)))
    keys = {name: widget_key(questionnaire_id, name) for name in WIDGETS}
    _seed(keys["municipality"], remembered.area, areas)
    _seed(keys["reference"], remembered.reference, areas)
    _seed(keys["year"], remembered.year, years)
    _seed(keys["weight_perceived"], remembered.perceived)
    _seed(keys["weight_registered"], remembered.registered)
    left, middle, right = st.columns(3)
    area = left.selectbox(
        t("manager.priorities.municipality", lang),
        areas,
        format_func=lambda a: str(a) or t("manager.auto", lang),
        key=keys["municipality"],
    )
    reference = middle.selectbox(
        t("manager.priorities.reference", lang),
        areas,
        format_func=lambda a: str(a) or t("manager.auto", lang),
        key=keys["reference"],
    )
    year = right.selectbox(
        t("manager.priorities.year", lang),
        years,
        format_func=lambda y: str(y) if y is not None else "–",
        key=keys["year"],
    )
    with st.sidebar:
        st.subheader(t("manager.priorities.weights", lang))
        st.caption(t("manager.priorities.weights_hint", lang))
        perceived = st.slider(
            t("manager.priorities.weight_perceived", lang),
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            key=keys["weight_perceived"],
        )
        registered = st.slider(
            t("manager.priorities.weight_registered", lang),
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            key=keys["weight_registered"],
        )
    compared_with = _perceived_reference(questionnaire_id, lang)
    choice = Choice(
        area=str(area),
        reference=str(reference),
        year=int(year) if isinstance(year, int) else None,
        perceived=float(perceived),
        registered=float(registered),
        compared_with=compared_with if isinstance(compared_with, PerceivedReference) else None,
    )
    if isinstance(compared_with, list):
        # The table or wave cannot be used: say why, never rank against something else.
        for problem in compared_with:
            st.error(escape_markdown(problem.render(lang)))
        st.stop()
    remember_choice(questionnaire_id, choice)
    return choice


#: The choices of the perceived reference besides the earlier waves (questionnaire ids).
THRESHOLD, TABLE = "", "\x00table"


def _perceived_reference(
    questionnaire_id: str, lang: str
) -> PerceivedReference | list[Problem] | None:
    """What the perceived shares are compared with: the 25 % benchmark, an uploaded table
    ``field;share`` or an earlier survey wave of this database (the same use cases as the
    command line's ``--perceived-reference`` and ``--perceived-reference-wave``)."""
    ws = workspace()
    waves = {r.id: r for r in ws.questionnaires() if r.id != questionnaire_id}
    options = [THRESHOLD, TABLE, *waves]

    def label(option: str) -> str:
        if option == THRESHOLD:
            return t(
                "manager.priorities.perceived_threshold",
                lang,
                share=round(100 * PERCEIVED_THRESHOLD),
            )
        if option == TABLE:
            return t("manager.priorities.perceived_table", lang)
        title = localized(waves[option].title, lang, default=option)
        return t("manager.priorities.perceived_wave", lang, title=title)

    chosen = str(
        st.selectbox(
            t("manager.priorities.perceived_reference", lang),
            options,
            format_func=label,
            key=widget_key(questionnaire_id, "perceived_reference"),
        )
    )
    if chosen == THRESHOLD:
        return None
    if chosen == TABLE:
        st.caption(t("manager.priorities.perceived_expected", lang))
        upload = st.file_uploader(
            t("manager.priorities.perceived_upload", lang),
            type=["csv", "xlsx", "txt"],
            key=widget_key(questionnaire_id, "perceived_file"),
        )
        if upload is None:
            st.info(t("manager.priorities.perceived_no_table", lang))
            return None
        return _table_reference(str(ws.store.engine.url), upload.name, upload.getvalue())
    return _wave_reference(str(ws.store.engine.url), chosen, data_version(chosen))


@st.cache_resource(show_spinner=False, max_entries=8)
def _table_reference(url: str, name: str, data: bytes) -> PerceivedReference | list[Problem]:
    try:
        return perceived_reference_file(io.BytesIO(data), name, workspace().catalogue)
    except InvalidInput as error:
        return error.problems


@st.cache_resource(show_spinner=False, max_entries=8)
def _wave_reference(
    url: str, questionnaire_id: str, version: str
) -> PerceivedReference | list[Problem]:
    ws = workspace()
    try:
        return perceived_reference_wave(ws.store, ws.datasets, questionnaire_id, ws.catalogue)
    except InvalidInput as error:
        return error.problems


def render() -> None:
    _manager, lang = page_frame("manager.priorities.title")
    record = choose_questionnaire(lang)
    if record is None:
        return
    inputs = cached_inputs(record.id)
    catalogue = workspace().catalogue
    if inputs.incidents is None:
        st.info(t("manager.priorities.no_incidents", lang))
    choice = _choose(record.id, inputs, lang)
    with st.spinner(t("manager.priorities.computing", lang)):
        base, analysis = cached_analysis(record.id, choice)
    if isinstance(base, list) or isinstance(analysis, list):
        problems = base if isinstance(base, list) else analysis
        assert isinstance(problems, list)
        for problem in problems:
            st.error(problem_message(problem, lang))
        return
    if is_demo(analysis.area, inputs.questionnaire):
        demo_banner(lang)
    if analysis.warnings:
        with st.expander(
            f"{t('manager.priorities.warnings', lang)} ({len(analysis.warnings)})", expanded=True
        ):
            for warning in analysis.warnings:
                st.warning(escape_markdown(problem_message(warning, lang)))
    names = area_names(analysis, inputs, lang)
    shown = st.selectbox(
        t("manager.priorities.area", lang),
        list(names),
        format_func=names.__getitem__,
        key="manager.priorities.area",
    )
    shown_area = str(shown)
    st.subheader(t("manager.priorities.ranking", lang, area=names[shown_area]))
    st.caption(t("manager.suppressed_hint", lang))
    st.dataframe(
        ranking_view(analysis, shown_area, catalogue, lang, baseline=base),
        hide_index=True,
        key="manager.priorities.table",
    )
    rows = analysis.ranking[analysis.ranking["area"] == shown_area]
    # One chart at a time: only the chosen one is built, so a slider change stays quick.
    chart = st.segmented_control(
        t("manager.priorities.chart", lang),
        CHARTS,
        format_func=lambda c: t(f"manager.priorities.tab.{c}", lang),
        default=CHARTS[0],
        key="manager.priorities.chart",
    )
    if chart == "rank":
        st.plotly_chart(rank_chart(rows, catalogue, lang), key="manager.priorities.rank_chart")
    elif chart == "quadrant":
        st.plotly_chart(
            quadrant_chart(rows, catalogue, lang), key="manager.priorities.quadrant_chart"
        )
    elif chart == "heatmap":
        heat = heatmap_indicators(analysis)
        if len(heat):
            labels = {a: n for a, n in names.items() if a != analysis.area}
            st.plotly_chart(
                district_heatmap(heat, catalogue, lang, district_labels=labels),
                key="manager.priorities.heatmap",
            )
        else:
            st.caption(t("manager.priorities.no_districts", lang))
    elif chart == "funnel":
        _funnel(analysis, rows, names, lang)
    elif chart == "trend":
        trend = _trend(record.id, data_version(record.id), shown_area)
        if trend is None:
            st.caption(t("manager.priorities.no_trend", lang))
        else:
            st.plotly_chart(trend_chart(trend, catalogue, lang), key="manager.priorities.trend")
    elif chart == "free_text":
        _free_texts(record.id, lang)


def _funnel(analysis: Analysis, rows: pd.DataFrame, names: dict[str, str], lang: str) -> None:
    catalogue = workspace().catalogue
    fields = [str(f) for f in rows["field"]]
    chosen = st.selectbox(
        t("manager.col.field", lang),
        fields,
        format_func=lambda f: field_label(catalogue, f, lang),
        key="manager.priorities.funnel_field",
    )
    funnel = funnel_data(analysis, str(chosen)) if chosen else None
    if funnel is None:
        st.caption(t("manager.priorities.no_rates", lang))
        return
    points, limits = funnel
    st.plotly_chart(
        funnel_chart(
            points, limits, field_label(catalogue, str(chosen), lang), lang, area_labels=names
        ),
        key="manager.priorities.funnel",
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _trend(questionnaire_id: str, version: str, area: str) -> pd.DataFrame | None:
    inputs = cached_inputs(questionnaire_id)
    return trend_data(inputs, workspace().catalogue, area)


@st.cache_resource(show_spinner=False, max_entries=8)
def _free_text(questionnaire_id: str, version: str, lang: str) -> list[tuple[str, list[str]]]:
    return free_text_answers(cached_inputs(questionnaire_id), lang)


def _year_options(years: list[int]) -> list[int | None]:
    """The incident years, newest first; a single "–" without incident data."""
    return list(years) if years else [None]


def _free_texts(questionnaire_id: str, lang: str) -> None:
    """Free-text answers, escaped, as plain list items (never as Markdown or live HTML)."""
    st.caption(t("manager.priorities.free_text_hint", lang))
    answers = _free_text(questionnaire_id, data_version(questionnaire_id), lang)
    if not answers:
        st.caption(t("manager.priorities.no_free_text", lang))
    for question, texts in answers:
        items = "".join(f"<li>{text}</li>" for text in texts[:FREE_TEXT_SHOWN])
        note = t(
            "manager.priorities.free_text_more",
            lang,
            shown=FREE_TEXT_SHOWN,
            count=format_integer(len(texts), lang),
        )
        more = f"<p>{_escape(note)}</p>" if len(texts) > FREE_TEXT_SHOWN else ""
        st.html(f"<p><strong>{_escape(question)}</strong></p><ul>{items}</ul>{more}")


def _escape(text: str) -> str:
    return escape_free_text(text)
