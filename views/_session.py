"""Who is signed in, the manager pages' language, and what every manager page shares.

Two ways to sign in:

* OIDC through ``st.login`` when ``.streamlit/secrets.toml`` has an ``[auth]`` section; a
  user the identity provider signs in is a manager only if their e-mail address or domain is
  listed in ``[sicherheitsanalyse] managers`` (fail closed: an empty list admits nobody).
* Otherwise local accounts (``sicherheitsanalyse users add NAME``) checked by
  :meth:`survey.Accounts.verify`, whose per-name back-off slows failed attempts down.

The signed-in manager lives in ``st.session_state`` only; a new browser session starts
anonymous. Every manager page calls :func:`require_manager` first, so even a page reached some
other way than the navigation shows nothing to an anonymous session.

Municipalities: a manager works for the municipalities they are a member of (local accounts
and OIDC addresses in the ``memberships`` table; OIDC accounts also by the identity
provider's claim ``[sicherheitsanalyse] municipality_claim`` (default ``ags``) or by the
mapping ``[sicherheitsanalyse] municipalities = {"mail@x.de" = ["14713000"]}``); an
administrator for every municipality. :func:`workspace` is always the active municipality's
(:meth:`storage.Store.for_municipality`), so every page that reads through it, through
:func:`choose_questionnaire` or through ``views/_cache.py`` sees that municipality's data and
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import Workspace
from core import UI_LANGUAGES, Problem, catalogue, current_language, escape_markdown, t
from storage import (
    Accounts,
    Municipalities,
    Municipality,
    QuestionnaireRecord,
    SignInResult,
    oidc_manager_allowed,
)
from views._edge import grant_download_pass, revoke_download_pass
from views.survey_page import store

MANAGER_KEY = "manager.account"
LANGUAGE_KEY = "manager.lang"
QUESTIONNAIRE_KEY = "manager.questionnaire"
MUNICIPALITY_KEY = "manager.municipality"
#: The OIDC claim naming the account's municipalities (one AGS or a list), unless configured.
DEFAULT_MUNICIPALITY_CLAIM = "ags"


@dataclass(frozen=True)
class Manager:
    """A signed-in prevention manager: name and how they signed in (``local`` or ``oidc``)."""

    name: str
    via: str
    role: str = "manager"


def oidc_configured() -> bool:
    """Whether ``st.login`` is set up (an ``[auth]`` section in the secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all is the common case
        return False


def oidc_allowed_managers() -> list[str]:
    """``[sicherheitsanalyse] managers`` in the secrets: addresses and ``@domains``."""
    try:
        section = st.secrets.get("sicherheitsanalyse", {})
        return [str(entry) for entry in section.get("managers", [])]
    except Exception:  # no secrets file: nobody is allowed through OIDC
        return []


def oidc_refused() -> bool:
    """Signed in at the identity provider, but not on the managers' list."""
    return (
        oidc_configured() and bool(st.user.get("is_logged_in", False)) and current_manager() is None
    )


def current_manager() -> Manager | None:
    """The signed-in manager of this browser session, or ``None``."""
    # ``get``: outside a browser session (AppTest) the user info has no ``is_logged_in`` key.
    if oidc_configured() and st.user.get("is_logged_in", False):
        email = st.user.get("email")
        if oidc_manager_allowed(str(email) if email else None, oidc_allowed_managers()):
            return Manager(name=str(email), via="oidc")
    account = st.session_state.get(MANAGER_KEY)
    return account if isinstance(account, Manager) else None


@st.cache_resource(show_spinner=False)
def _accounts(url: str) -> Accounts:
    return Accounts(store().engine)


def accounts() -> Accounts:
    """The accounts of the app's database (shares the store's engine)."""
    return _accounts(str(store().engine.url))


def sign_in(name: str, password: str) -> SignInResult:
    """Check a local sign-in; on success the session belongs to that manager."""
    result = accounts().verify(name, password)
    if result.ok:
        role = result.role.value if result.role is not None else "manager"
        st.session_state[MANAGER_KEY] = Manager(name=result.name, via="local", role=role)
    return result


def sign_out() -> None:
    """Forget the manager of this session (and leave the identity provider's session)."""
    manager = current_manager()
    revoke_download_pass(st.session_state)
    for key in [k for k in st.session_state if str(k).startswith("manager.")]:
        if key != LANGUAGE_KEY:
            del st.session_state[key]
    if manager is not None and manager.via == "oidc":
        st.logout()


def language() -> str:
    """The manager pages' language (German unless switched)."""
    chosen = st.session_state.get(LANGUAGE_KEY)
    return str(chosen) if chosen in UI_LANGUAGES else current_language()


def language_switch() -> str:
    """The language selector in the sidebar; returns the chosen language."""
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = current_language()
    names = {"de": "Deutsch", "en": "English"}
    st.sidebar.selectbox(
        t("manager.language", language()),
        list(UI_LANGUAGES),
        format_func=names.__getitem__,
        key=LANGUAGE_KEY,
    )
    return language()


def require_manager() -> Manager:
    """The signed-in manager; for anyone else the page stops here, showing nothing."""
    manager = current_manager()
    if manager is None:
        st.error(t("manager.sign_in_required", language()), icon=":material/lock:")
        st.stop()
    assert manager is not None
    return manager


def page_frame(title_key: str) -> tuple[Manager, str]:
    """What each manager page starts with: the guard, language switch, title and sign-out.

    It also renews the session's download pass (``views/_edge.py``): only a browser holding
    it gets the files of the page's download buttons."""
    manager = require_manager()
    st.html(grant_download_pass(st.session_state), unsafe_allow_javascript=True)
    lang = language_switch()
    st.sidebar.caption(t("manager.signed_in_as", lang, name=escape_markdown(manager.name)))
    municipality_picker(manager, lang)
    if st.sidebar.button(t("manager.sign_out", lang), key="manager.sign_out_button"):
        sign_out()
        st.rerun()
    st.title(t(title_key, lang))
    return manager, lang


def _settings() -> dict[str, object]:
    try:
        return dict(st.secrets.get("sicherheitsanalyse", {}))
    except Exception:  # no secrets file
        return {}


def _oidc_municipalities(email: str) -> set[str]:
    """The municipalities the identity provider's claim and the secrets' mapping give an
    OIDC account."""
    found: set[str] = set()
    settings = _settings()
    claim = str(settings.get("municipality_claim", DEFAULT_MUNICIPALITY_CLAIM))
    value = st.user.get(claim)
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, list | tuple):
        found |= {str(v) for v in value}
    mapping = settings.get("municipalities", {})
    if isinstance(mapping, dict):
        for address, keys in mapping.items():
            if str(address).lower() == email.lower():
                found |= {str(k) for k in (keys if isinstance(keys, list | tuple) else [keys])}
    return found


def manager_municipalities(manager: Manager) -> list[Municipality]:
    """The municipalities ``manager`` may work for: an administrator every one, anyone else
    those they are a member of (and, for OIDC, those of the claim or the mapping)."""
    municipalities = Municipalities(store().engine)
    every = municipalities.all()
    if manager.role == "admin":
        return every
    keys = set(municipalities.of_account(manager.name))
    if manager.via == "oidc":
        keys |= _oidc_municipalities(manager.name)
    return [m for m in every if m.ags in keys]


def active_municipality(manager: Manager) -> Municipality | None:
    """The municipality the manager works for now: the one picked in the sidebar
    (:func:`municipality_picker`, remembered for the session), else the first of theirs;
    ``None`` if they have none."""
    choices = manager_municipalities(manager)
    if not choices:
        return None
    by_ags = {m.ags: m for m in choices}
    if st.session_state.get(MUNICIPALITY_KEY) not in by_ags:
        st.session_state[MUNICIPALITY_KEY] = choices[0].ags
    return by_ags[str(st.session_state[MUNICIPALITY_KEY])]


def municipality_picker(manager: Manager, lang: str) -> None:
    """The sidebar's choice of the active municipality, for a manager with several."""
    choices = manager_municipalities(manager)
    if len(choices) < 2:
        return
    active_municipality(manager)  # a valid choice in the state before the widget reads it
    by_ags = {m.ags: m for m in choices}
    st.sidebar.selectbox(
        t("municipality.active", lang),
        list(by_ags),
        format_func=lambda ags: f"{by_ags[ags].name} ({ags})",
        key=MUNICIPALITY_KEY,
    )


def require_municipality(lang: str) -> Municipality:
    """The active municipality; a manager without one sees what to do and nothing else."""
    manager = require_manager()
    municipality = active_municipality(manager)
    if municipality is None:
        st.warning(t("municipality.none_for_manager", lang), icon=":material/domain_disabled:")
        st.stop()
    assert municipality is not None
    return municipality


@st.cache_resource(show_spinner=False, max_entries=256)
def _workspace(url: str, municipality: str) -> Workspace:
    return Workspace(store(), municipality=municipality)


def workspace() -> Workspace:
    """The workspace of the signed-in manager's active municipality: every read and write of
    the manager pages goes through it, so no page sees another municipality's data. Stops
    the page for an anonymous session or a manager without a municipality."""
    municipality = require_municipality(language())
    return _workspace(str(store().engine.url), municipality.ags)


#: How long the data version (the analysis caches' key) is reused before storage is asked
#: again; new survey responses show up after at most this long, uploads at once.
VERSION_SECONDS = 10


@st.cache_data(show_spinner=False, ttl=VERSION_SECONDS, max_entries=16)
def _data_version(key: str, questionnaire_id: str, _ws: Workspace) -> str:
    return _ws.data_version(questionnaire_id)


def data_version(questionnaire_id: str, ws: Workspace | None = None) -> str:
    """The questionnaire's data version, asked of storage at most every few seconds.

    ``ws``: the workspace bound when a page was drawn, for a download made later in the
    server's media thread, where no session (and so no municipality) is known."""
    ws = ws or workspace()
    return _data_version(ws.cache_key, questionnaire_id, ws)


def data_changed() -> None:
    """Forget the remembered data versions (after an upload, a deletion, new codes)."""
    _data_version.clear()


def choose_questionnaire(lang: str) -> QuestionnaireRecord | None:
    """The questionnaire selector shared by the pages (remembered across pages)."""
    records = workspace().questionnaires()
    if not records:
        st.info(t("manager.no_questionnaires", lang))
        return None
    ids = [r.id for r in records]
    if st.session_state.get(QUESTIONNAIRE_KEY) not in ids:
        st.session_state[QUESTIONNAIRE_KEY] = ids[0]
    by_id = {r.id: r for r in records}
    chosen = st.selectbox(
        t("manager.questionnaire", lang),
        ids,
        format_func=lambda i: _title(by_id[i], lang),
        key=QUESTIONNAIRE_KEY,
    )
    return by_id[str(chosen)]


def _title(record: QuestionnaireRecord, lang: str) -> str:
    title = record.title.get(lang) or record.title.get("de") or record.id
    return f"{title} ({record.id})"


def demo_banner(lang: str) -> None:
    """The unmistakable notice that the figures are synthetic demo data."""
    st.warning(t("manager.demo_banner", lang), icon=":material/science:")


def problem_message(problem: Problem, lang: str) -> str:
    """The problem's message, followed by the pages' own hint where they have one.

    The pure code names what is wrong; how to fix it on the pages ("upload a population table
    under Data") is ``manager.hint.<problem key>`` in the catalogue.
    """
    hint = f"manager.hint.{problem.key}"
    message = problem.message(lang)
    return f"{message} {t(hint, lang)}" if hint in catalogue() else message
