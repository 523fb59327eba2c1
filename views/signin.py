"""The sign-in page for prevention managers.

OIDC (a button that starts ``st.login``) when configured, otherwise name and password of a
local account. Failed attempts are slowed down twice: per attempted name by
:class:`storage.Accounts` (short, at most 30 s, as anyone can trigger it for any name) and per
browser session here (the same curve up to 15 minutes: it only slows the session that keeps
failing). The page says how long to wait and never tells whether the name or the password was
wrong.
"""

from __future__ import annotations

import math
import time

import streamlit as st

from core import t
from storage import SESSION_MAX_DELAY_SECONDS, SignInStatus, back_off_seconds
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
    wait = _session_wait()
    if wait > 0:
        st.error(
            t("accounts.sign_in_throttled", lang, count=math.ceil(wait)), icon=":material/error:"
        )
        return
    result = sign_in(name, password)
    if result.ok:
        st.session_state.pop(SESSION_FAILURES_KEY, None)
        st.rerun()
    if result.status is SignInStatus.WRONG:
        failures, _last = st.session_state.get(SESSION_FAILURES_KEY, (0, 0.0))
        st.session_state[SESSION_FAILURES_KEY] = (failures + 1, time.monotonic())
    st.error(result.message(lang), icon=":material/error:")


#: (failures, monotonic time of the last one) of this browser session's sign-in attempts.
SESSION_FAILURES_KEY = "signin.session_failures"


def _session_wait() -> float:
    """Seconds this browser session must still wait after its own failed attempts."""
    failures, last = st.session_state.get(SESSION_FAILURES_KEY, (0, 0.0))
    elapsed = time.monotonic() - float(last)
    return back_off_seconds(int(failures), SESSION_MAX_DELAY_SECONDS) - elapsed


if __name__ == "__main__":  # run as a page of the navigation
    render()
