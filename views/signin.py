"""The sign-in page for prevention managers.

OIDC (a button that starts ``st.login``) when configured, otherwise name and password of a
local account. Failed attempts are slowed down per name by :class:`survey.Accounts`; the page
says how long to wait. The message never tells whether the name or the password was wrong.
"""

from __future__ import annotations

import streamlit as st

from core import t
from views._session import (
    current_manager,
    language,
    language_switch,
    oidc_configured,
    oidc_refused,
    sign_in,
)


def render() -> None:
    lang = language_switch()
    st.title(t("manager.signin.title", lang))
    if current_manager() is not None:
        from views.manager import overview_page  # the navigation imports this module

        st.switch_page(overview_page(default=True))
    if oidc_refused():
        st.error(t("manager.signin.oidc_refused", lang), icon=":material/block:")
        if st.button(t("manager.sign_out", lang)):
            st.logout()
        return
    if oidc_configured():
        st.write(t("manager.signin.oidc_hint", lang))
        if st.button(t("manager.signin.oidc_button", lang), type="primary"):
            st.login()
        return
    st.write(t("manager.signin.hint", lang))
    with st.form("manager.signin.form"):
        name = st.text_input(
            t("manager.signin.name", lang), autocomplete="username", key="manager.signin.name"
        )
        password = st.text_input(
            t("manager.signin.password", lang),
            type="password",
            autocomplete="current-password",
            key="manager.signin.password",
        )
        submitted = st.form_submit_button(t("manager.signin.submit", lang), type="primary")
    if not submitted:
        return
    if not name.strip() or not password:
        st.error(t("manager.signin.missing", language()))
        return
    result = sign_in(name, password)
    if result.ok:
        st.rerun()
    st.error(result.message(lang), icon=":material/error:")


if __name__ == "__main__":  # run as a page of the navigation
    render()
