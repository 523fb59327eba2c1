"""Streamlit entry point. It only builds the navigation, from who is signed in."""

from __future__ import annotations

import streamlit as st

from core import t
from views import manager
from views._public import survey_st_page
from views._session import Manager, current_manager


def pages(signed_in: Manager | None = None) -> list[st.Page]:
    """The pages the visitor may open: the public survey for everyone.

    ``signed_in`` is the signed-in manager account, if any; manager pages are added for them.
    """
    return [survey_st_page(default=signed_in is None), *manager.pages(signed_in)]


def main() -> None:
    signed_in = current_manager()
    # A manager's tables and charts need the room; residents get a narrow, phone-like column.
    st.set_page_config(
        page_title=t("common.app_title"), layout="centered" if signed_in is None else "wide"
    )
    # Residents see no navigation at all, only their survey; managers open /anmelden directly.
    navigation = st.navigation(
        pages(signed_in), position="hidden" if signed_in is None else "sidebar"
    )
    navigation.run()


main()
