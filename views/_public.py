"""The public survey page as a navigation entry: one definition for the navigation of
``survey_app.py`` and for the pages that switch to it (the manager's preview)."""

from __future__ import annotations

import streamlit as st

from core import t
from views import survey_page
from views._code_link import take_code_from_link
from views._preview import PREVIEW_KEY, SURVEY_PATH


def survey_entry() -> None:
    """The survey page, with the access code of a letter's QR code taken from the link."""
    take_code_from_link()
    survey_page.render()


def survey_st_page(*, default: bool) -> st.Page:
    return st.Page(
        survey_entry,
        title=t("form.survey_page"),
        url_path=SURVEY_PATH,
        icon=":material/edit_note:",
        default=default,
    )


def start_preview(questionnaire_id: str) -> None:
    """Open the survey page on ``questionnaire_id`` in preview (call from a manager page)."""
    st.session_state[PREVIEW_KEY] = questionnaire_id
    # A fresh respondent state (survey_page._session's key), so every preview starts at the
    # first page.
    st.session_state.pop(f"survey.{questionnaire_id}.session", None)
    st.switch_page(survey_st_page(default=False), query_params={"survey": questionnaire_id})
