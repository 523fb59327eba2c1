"""Overview: questionnaires and their state, responses per day, response rates per code batch
and stratum, the sample against the population; publishing (upload, diff, preview), code
batches with their letters, and opening/closing here too."""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import is_demo, response_rates, sample_vs_population, stratum_rates
from core import InvalidInput, format_integer, format_percent, number_separators, t
from reporting import codes_csv
from storage import QuestionnaireState
from survey import Access
from views._cache import cached_inputs
from views._paper import paper_print_panel
from views._publishing import close_default_prompt, letters_panel, preview_button, publish_panel
from views._session import (
    choose_questionnaire,
    demo_banner,
    page_frame,
    problem_message,
    workspace,
)

BATCH_KEY = "manager.overview.last_batch"
BATCH_CODES_KEY = "manager.overview.last_batch_codes"


def render() -> None:
    _manager, lang = page_frame("manager.overview.title")
    ws = workspace()
    records = ws.questionnaires()
    if records:
        st.dataframe(
            pd.DataFrame(
                {
                    t("manager.col.questionnaire", lang): [r.id for r in records],
                    t("manager.col.title", lang): [
                        r.title.get(lang) or r.title.get("de") or r.id for r in records
                    ],
                    t("manager.col.state", lang): [
                        t(f"manager.state.{r.state.value}", lang) for r in records
                    ],
                    t("manager.col.access", lang): [
                        t(f"manager.access.{r.access.value}", lang) for r in records
                    ],
                }
            ),
            hide_index=True,
        )
    close_default_prompt(lang)
    publish_panel(lang)
    record = choose_questionnaire(lang)
    if record is None:
        return
    inputs = cached_inputs(record.id)
    if is_demo(None, inputs.questionnaire):
        demo_banner(lang)
    _state_controls(record.id, record.state, record.access, lang)
    preview_button(record.id, lang)

    st.subheader(t("manager.overview.responses_per_day", lang))
    counts = ws.store.response_counts_by_day(record.id)
    total = int(counts["responses"].sum()) if len(counts) else 0
    st.metric(t("manager.overview.responses_total", lang), format_integer(total, lang))
    if len(counts):
        figure = go.Figure(
            go.Bar(
                x=counts["submitted_on"], y=counts["responses"].astype(int), marker_color="#b2182b"
            )
        )
        figure.update_layout(
            height=300,
            margin={"l": 10, "r": 10, "t": 10, "b": 30},
            template="plotly_white",
            separators=number_separators(lang),
            yaxis_title=t("manager.overview.responses", lang),
        )
        st.plotly_chart(figure, key="manager.overview.per_day")

    st.subheader(t("manager.overview.codes", lang))
    _create_codes(record.id, lang)
    letters_panel(record.id, st.session_state.get(BATCH_CODES_KEY), lang)
    paper_print_panel(record.id, st.session_state.get(BATCH_CODES_KEY), lang)
    rates = response_rates(ws.store, record.id)
    if len(rates):
        _rates_table(rates, lang)
        _rates_table(stratum_rates(rates), lang)
    else:
        st.caption(t("manager.overview.no_codes", lang))

    st.subheader(t("manager.overview.sample", lang))
    table = sample_vs_population(inputs, lang)
    if table is None:
        st.caption(t("manager.overview.no_margins", lang))
    else:
        st.caption(t("manager.suppressed_hint", lang))
        st.dataframe(table, hide_index=True)


def _rates_table(table: pd.DataFrame, lang: str) -> None:
    shown = table.assign(
        issued=[format_integer(n, lang) for n in table["issued"]],
        used=[format_integer(n, lang) for n in table["used"]],
        rate=[format_percent(r, 1, lang) for r in table["rate"]],
    )
    st.dataframe(
        shown.rename(
            columns={
                "batch": t("manager.col.batch", lang),
                "stratum": t("manager.col.stratum", lang),
                "created_on": t("manager.col.created_on", lang),
                "issued": t("manager.col.issued", lang),
                "used": t("manager.col.used", lang),
                "rate": t("manager.col.rate", lang),
            }
        ),
        hide_index=True,
    )


def _state_controls(
    questionnaire_id: str, state: QuestionnaireState, access: Access, lang: str
) -> None:
    store = workspace().store
    left, right = st.columns(2)
    with left:
        states = [s.value for s in QuestionnaireState]
        chosen = st.radio(
            t("manager.col.state", lang),
            states,
            index=states.index(state.value),
            format_func=lambda s: t(f"manager.state.{s}", lang),
            horizontal=True,
            key=f"manager.overview.state.{questionnaire_id}",
        )
    with right:
        modes = [a.value for a in Access]
        mode = st.radio(
            t("manager.col.access", lang),
            modes,
            index=modes.index(access.value),
            format_func=lambda a: t(f"manager.access.{a}", lang),
            horizontal=True,
            key=f"manager.overview.access.{questionnaire_id}",
        )
    if chosen != state.value:
        store.set_state(questionnaire_id, str(chosen))
        st.success(t("manager.overview.state_changed", lang))
    if mode != access.value:
        store.set_access(questionnaire_id, str(mode))
        st.success(t("manager.overview.access_changed", lang))


def _create_codes(questionnaire_id: str, lang: str) -> None:
    with st.form(f"manager.overview.codes.{questionnaire_id}"):
        count = st.number_input(
            t("manager.overview.code_count", lang), min_value=1, max_value=100_000, value=100
        )
        stratum = st.text_input(t("manager.overview.code_stratum", lang), max_chars=60)
        submitted = st.form_submit_button(t("manager.overview.create_codes", lang))
    if submitted:
        try:
            batch = workspace().store.create_codes(
                questionnaire_id, int(count), stratum=stratum or None
            )
        except InvalidInput as error:
            for problem in error.problems:
                st.error(problem_message(problem, lang))
            return
        st.session_state[BATCH_KEY] = (batch.id, codes_csv(batch.codes, batch.id, batch.stratum))
        # Kept for the letters of this batch: the only moment the plaintext codes exist.
        st.session_state[BATCH_CODES_KEY] = batch
    last = st.session_state.get(BATCH_KEY)
    if last is not None:
        batch_id, data = last
        st.success(t("manager.overview.codes_created", lang, batch=batch_id))
        st.caption(t("manager.overview.codes_once", lang))
        st.download_button(
            t("manager.overview.download_codes", lang),
            io.BytesIO(data),
            file_name=t("manager.file.codes", lang, id=questionnaire_id, batch=batch_id),
            mime="text/csv",
            key="manager.overview.download_codes",
        )
