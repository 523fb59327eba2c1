"""Preview mode: the signed-in manager tries a survey as a resident would.

The overview starts it (:func:`views._public.start_preview`) in the manager's own browser session, so only
a signed-in manager can ever be in preview: a resident's session has no way to set the key.
In preview the survey may still be a draft or closed, no access code is asked for, a banner
says that this is a test, and the answers are stored as test answers
(:meth:`storage.Store.submit_test`), apart from the residents' responses, never counted,
analysed or exported.
"""

from __future__ import annotations

import streamlit as st

from core import t

PREVIEW_KEY = "survey.preview"
SURVEY_PATH = "survey"


def previewed() -> str | None:
    """The questionnaire this session previews, if any."""
    chosen = st.session_state.get(PREVIEW_KEY)
    return chosen if isinstance(chosen, str) else None


def preview_banner(lang: str) -> None:
    st.warning(t("preview.banner", lang), icon=":material/science:")
