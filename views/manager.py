"""The prevention manager's pages, as the navigation of ``survey_app.py`` lists them.

Anonymous sessions get only the sign-in page; the analysis pages are added to the navigation
only for a signed-in manager, so their URLs do not exist for anyone else. (Each page also
checks again with :func:`views._session.require_manager`.)
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import t
from views import (
    data,
    exports,
    findings,
    municipalities,
    overview,
    paper_entry,
    paper_scans,
    priorities,
)
from views._session import Manager, language

SIGNIN_FILE = Path(__file__).with_name("signin.py")
SIGNIN_PATH = "anmelden"
OVERVIEW_PATH = "uebersicht"
DATA_PATH = "daten"
PRIORITIES_PATH = "prioritaeten"
FINDINGS_PATH = "befragungsergebnisse"
EXPORTS_PATH = "export"
SCANS_PATH = "scans"
PAPER_ENTRY_PATH = "papier-erfassen"
MUNICIPALITIES_PATH = "gemeinden"


def signin_page(*, hidden: bool = False) -> st.Page:
    # A file page, so tests can open it with AppTest.switch_page("views/signin.py").
    return st.Page(
        SIGNIN_FILE,
        title=t("manager.signin.title", language()),
        url_path=SIGNIN_PATH,
        icon=":material/login:",
        visibility="hidden" if hidden else "visible",
    )


def overview_page(*, default: bool = False) -> st.Page:
    return st.Page(
        overview.render,
        title=t("manager.overview.title", language()),
        url_path=OVERVIEW_PATH,
        icon=":material/dashboard:",
        default=default,
    )


def pages(manager: Manager | None) -> list[st.Page]:
    """The manager side of the navigation: sign-in for anonymous sessions, else the workspace.

    For a signed-in manager the overview is the default page and the sign-in page stays
    reachable (hidden) so that the sign-in form can hand over to the overview.
    """
    if manager is None:
        return [signin_page()]
    lang = language()
    return [
        overview_page(default=True),
        st.Page(
            data.render,
            title=t("manager.data.title", lang),
            url_path=DATA_PATH,
            icon=":material/upload_file:",
        ),
        st.Page(
            paper_scans.render,
            title=t("paper.scans.title", lang),
            url_path=SCANS_PATH,
            icon=":material/document_scanner:",
        ),
        st.Page(
            paper_entry.render,
            title=t("paper_entry.title", lang),
            url_path=PAPER_ENTRY_PATH,
            icon=":material/keyboard:",
        ),
        st.Page(
            priorities.render,
            title=t("manager.priorities.title", lang),
            url_path=PRIORITIES_PATH,
            icon=":material/leaderboard:",
        ),
        st.Page(
            findings.render,
            title=t("findings.title", lang),
            url_path=FINDINGS_PATH,
            icon=":material/insights:",
        ),
        st.Page(
            exports.render,
            title=t("manager.exports.title", lang),
            url_path=EXPORTS_PATH,
            icon=":material/download:",
        ),
        *_admin_pages(manager, lang),
        signin_page(hidden=True),
    ]


def _admin_pages(manager: Manager, lang: str) -> list[st.Page]:
    """The administration's pages (the page checks the role again)."""
    if manager.role != "admin":
        return []
    return [
        st.Page(
            municipalities.render,
            title=t("municipality.page.title", lang),
            url_path=MUNICIPALITIES_PATH,
            icon=":material/location_city:",
        )
    ]
