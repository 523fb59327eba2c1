"""Sign-in and access control of the manager pages, through AppTest on ``survey_app.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import t
from storage import DATABASE_URL_ENV_VAR, Accounts
from tests.conftest import ROOT
from views import manager as manager_pages
from views._session import MANAGER_KEY, Manager

TIMEOUT = 120
NAME = "anna"
PASSWORD = "Sicherheit-2026-Musterstadt"
MANAGER_PATHS = {
    manager_pages.OVERVIEW_PATH,
    manager_pages.DATA_PATH,
    manager_pages.PRIORITIES_PATH,
    manager_pages.EXPORTS_PATH,
}


@pytest.fixture
def app_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


def _texts(at: AppTest) -> str:
    parts = [e.value for e in [*at.title, *at.error, *at.success, *at.warning, *at.info]]
    return "\n".join(str(p) for p in parts)


def test_anonymous_navigation_has_only_the_survey_and_the_sign_in() -> None:
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from views import manager\n"
        "from views._session import Manager\n"
        "st.text(','.join(p.url_path for p in manager.pages(None)))\n"
        "st.text(','.join(p.url_path for p in manager.pages(Manager('anna', 'local'))))\n",
        default_timeout=TIMEOUT,
    )
    at.run()
    assert not at.exception, at.exception
    anonymous = set(at.text[0].value.split(","))
    signed_in = set(at.text[1].value.split(","))
    assert anonymous == {manager_pages.SIGNIN_PATH}
    # The overview is the signed-in session's default page (at the root URL).
    assert signed_in >= MANAGER_PATHS - {manager_pages.OVERVIEW_PATH}
    assert "" in signed_in


@pytest.mark.parametrize("module", ["overview", "data", "priorities", "exports"])
def test_every_manager_page_refuses_an_anonymous_session(app_url: str, module: str) -> None:
    at = AppTest.from_string(
        f"from views import {module}\n{module}.render()\n", default_timeout=TIMEOUT
    )
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [t("manager.sign_in_required", "de")]
    assert not at.dataframe
    assert not at.title
    assert not at.download_button


def _sign_in_form(name: str, password: str) -> AppTest:
    """The real app: open the sign-in page, fill in the form, submit."""
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("views/signin.py").run()
    assert not at.exception, at.exception
    return _submit(at, name, password)


def _submit(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="manager.signin.name").input(name)
    at.text_input(key="manager.signin.password").input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_wrong_password_is_refused_with_a_clear_message(app_url: str) -> None:
    at = _sign_in_form(NAME, "not-the-password-at-all")
    assert t("accounts.sign_in_wrong", "de") in _texts(at)
    assert MANAGER_KEY not in at.session_state


def test_unknown_name_gets_the_same_message_as_a_wrong_password(app_url: str) -> None:
    at = _sign_in_form("mallory", PASSWORD)
    assert t("accounts.sign_in_wrong", "de") in _texts(at)
    assert MANAGER_KEY not in at.session_state


def test_empty_fields_are_asked_for(app_url: str) -> None:
    at = _sign_in_form("", "")
    assert t("manager.signin.missing", "de") in _texts(at)
    assert MANAGER_KEY not in at.session_state


def test_repeated_failures_are_slowed_down_even_for_the_right_password(app_url: str) -> None:
    at = AppTest.from_string("from views import signin\nsignin.render()\n", default_timeout=TIMEOUT)
    at.run()
    messages = []
    for password in ["wrong-password-1", "wrong-password-2", "wrong-password-3", PASSWORD]:
        at.text_input[0].input(NAME)
        at.text_input[1].input(password)
        at.button[0].click()
        at.run()
        messages.append(_texts(at))
    throttled = t("accounts.sign_in_throttled", "de", count=2).split("2")[0]
    assert any(throttled in m for m in messages)
    assert MANAGER_KEY not in at.session_state  # the right password during the wait is refused


def test_sign_in_opens_the_workspace_and_sign_out_closes_it(app_url: str) -> None:
    anonymous = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    anonymous.run()
    assert not anonymous.exception, anonymous.exception
    # The anonymous default page is the survey; the sign-in page is in the navigation.
    assert t("manager.overview.title", "de") not in _texts(anonymous)
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.session_state[MANAGER_KEY] = Manager(NAME, "local")
    at.run()
    assert not at.exception, at.exception
    assert t("manager.overview.title", "de") in [e.value for e in at.title]
    signout = [b for b in at.sidebar.button if b.label == t("manager.sign_out", "de")]
    signout[0].click()
    at.run()
    assert MANAGER_KEY not in at.session_state
    assert t("manager.overview.title", "de") not in [e.value for e in at.title]


def test_correct_password_signs_in(app_url: str) -> None:
    at = _sign_in_form(NAME, PASSWORD)
    account = at.session_state[MANAGER_KEY]
    assert account.name == NAME
    assert account.via == "local"
    # The sign-in page hands over to the overview.
    assert t("manager.overview.title", "de") in [e.value for e in at.title]


def test_oidc_when_configured_offers_the_identity_provider_and_no_password_form(
    app_url: str,
) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret",
        "client_id": "sicherheitsanalyse",
        "client_secret": "secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    at.switch_page("views/signin.py").run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.button]
    assert t("manager.signin.oidc_button", "de") in labels
    assert not at.text_input  # no local password form
    assert MANAGER_KEY not in at.session_state


def test_sign_in_page_in_english(app_url: str) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("views/signin.py").run()
    at.selectbox(key="manager.lang").set_value("en").run()
    assert not at.exception, at.exception
    assert t("manager.signin.title", "en") in [e.value for e in at.title]
    _submit(at, NAME, "wrong-password-xyz")
    assert t("accounts.sign_in_wrong", "en") in _texts(at)


def test_one_session_trying_many_names_is_slowed_down_by_its_own_failures(app_url: str) -> None:
    """The per-name throttle alone lets one session try a fresh name each time; the session's
    own back-off stops that (without storing anything about the client)."""
    at = AppTest.from_string("from views import signin\nsignin.render()\n", default_timeout=TIMEOUT)
    at.run()
    messages = []
    for index in range(4):
        at.text_input[0].input(f"rate{index}")
        at.text_input[1].input("wrong-password-1")
        at.button[0].click()
        at.run()
        messages.append(_texts(at))
    wrong = t("accounts.sign_in_wrong", "de")
    throttled = t("accounts.sign_in_throttled", "de", count=2).split("2")[0]
    assert all(wrong in m for m in messages[:3])
    assert throttled in messages[3]
    assert wrong not in messages[3]
