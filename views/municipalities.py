"""Gemeinden (administrators only): the municipalities, their members, and data from before
municipalities that no municipality owns yet."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import InvalidInput, escape_markdown, format_integer, t
from storage import Municipalities
from views._session import page_frame, problem_message
from views.survey_page import store

CREATE_FORM = "municipalities.create"
MEMBER_FORM = "municipalities.member"


def render() -> None:
    manager, lang = page_frame("municipality.page.title")
    if manager.role != "admin":
        st.error(t("municipality.page.admins_only", lang), icon=":material/lock:")
        st.stop()
    municipalities = Municipalities(store().engine)
    unassigned = municipalities.unassigned()
    if unassigned:
        rows = ", ".join(f"{name}: {format_integer(n, lang)}" for name, n in unassigned.items())
        st.warning(t("municipality.page.unassigned", lang, rows=rows), icon=":material/warning:")
    every = municipalities.all()
    if every:
        st.dataframe(
            pd.DataFrame(
                {
                    t("municipality.col.ags", lang): [m.ags for m in every],
                    t("municipality.col.name", lang): [m.name for m in every],
                    t("municipality.col.members", lang): [
                        ", ".join(municipalities.members(m.ags)) for m in every
                    ],
                }
            ),
            hide_index=True,
        )
    else:
        st.info(t("municipality.page.none", lang))
    _create_form(municipalities, lang)
    if every:
        _member_form(municipalities, [m.ags for m in every], {m.ags: m.name for m in every}, lang)


def _create_form(municipalities: Municipalities, lang: str) -> None:
    st.subheader(t("municipality.page.create", lang))
    with st.form(CREATE_FORM):
        ags = st.text_input(t("municipality.col.ags", lang), max_chars=8)
        name = st.text_input(t("municipality.col.name", lang), max_chars=200)
        if st.form_submit_button(t("municipality.page.create_button", lang)):
            try:
                created = municipalities.create(ags.strip(), name)
            except InvalidInput as invalid:
                for problem in invalid.problems:
                    st.error(problem_message(problem, lang))
            else:
                st.success(t("municipality.page.created", lang, name=escape_markdown(created.name)))


def _member_form(
    municipalities: Municipalities, keys: list[str], names: dict[str, str], lang: str
) -> None:
    st.subheader(t("municipality.page.members", lang))
    with st.form(MEMBER_FORM):
        ags = st.selectbox(
            t("municipality.active", lang), keys, format_func=lambda a: f"{names[a]} ({a})"
        )
        account = st.text_input(t("municipality.page.account", lang), max_chars=255)
        add, remove = st.columns(2)
        adding = add.form_submit_button(t("municipality.page.add_member", lang))
        removing = remove.form_submit_button(t("municipality.page.remove_member", lang))
    if not (adding or removing):
        return
    try:
        if adding:
            municipalities.add_member(account, str(ags))
            st.success(t("municipality.page.member_added", lang, account=escape_markdown(account)))
        elif municipalities.remove_member(account, str(ags)):
            st.success(
                t("municipality.page.member_removed", lang, account=escape_markdown(account))
            )
        else:
            st.info(t("municipality.page.no_such_member", lang, account=escape_markdown(account)))
    except InvalidInput as invalid:
        for problem in invalid.problems:
            st.error(problem_message(problem, lang))
