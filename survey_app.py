"""Streamlit entry point. It only builds the navigation, from who is signed in."""

from __future__ import annotations

import streamlit as st

from survey.i18n import t

st.set_page_config(page_title=t("common.app_title"), layout="centered")
st.title(t("common.app_title"))
st.caption(t("common.placeholder_questionnaires"))
