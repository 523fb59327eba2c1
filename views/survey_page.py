"""The public survey page: ``?survey=<id>`` names the questionnaire.

Flow per questionnaire: (access code) → data protection → one page per section → thank you.
All rules (what is shown, what must be answered, what is stored) come from
:class:`survey._form.Form`; storage is :class:`storage.Store`. The state of one respondent lives
in ``st.session_state`` under a key per questionnaire, so several surveys can be open in one
browser at once without mixing answers.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import streamlit as st

from core import DEFAULT_LANGUAGE, UI_LANGUAGES, InvalidInput, Problem, localized, t
from storage import (
    DATABASE_URL_ENV_VAR,
    CodeStatus,
    QuestionnaireRecord,
    QuestionnaireState,
    Store,
    SubmitResult,
    SubmitStatus,
)
from survey import Access, Form, Item, Questionnaire, code_retry_wait, load_questionnaire_text
from views._preview import preview_banner, previewed
from views._widgets import apply_form_style, forget_widgets, render_item

Stage = Literal["code", "intro", "form", "thanks"]
SURVEY_PARAM = "survey"
LANGUAGE_PARAM = "lang"
#: The form page the respondent is on (1-based), in the URL so that a session the server lost
#: (a restart) can tell the respondent so. Only the page number: never the code or an answer.
PAGE_PARAM = "seite"


@dataclass
class SurveySession:
    """One respondent's progress through one questionnaire (lives in ``st.session_state``)."""

    stage: Stage
    page: int = 0
    answers: dict[str, Any] = field(default_factory=dict)
    #: Soft-required ids already asked about ("trotzdem weiter?").
    asked: frozenset[str] = frozenset()
    #: The page whose problems are on screen, if any.
    checked_page: int | None = None
    #: Random per form session: a double click or a rerun never stores twice.
    submission_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    code: str | None = None
    code_failures: int = 0
    last_code_failure: float = 0.0
    notice: str | None = None
    error: str | None = None
    #: The page last drawn: when it changes, the new page starts at its top.
    drawn_page: int | None = None
    #: The URL named a form page, but the server had no session: it was lost (a restart).
    lost: bool = False
    #: A full run is drawing the page's questions (else a question reruns alone).
    drawing_page: bool = False


def _close_store(store: Store) -> None:
    store.close()


@st.cache_resource(show_spinner=False, on_release=_close_store)
def _store(url: str | None) -> Store:
    return Store(url)


def store() -> Store:
    """The process-wide store for the configured database URL."""
    return _store(os.environ.get(DATABASE_URL_ENV_VAR) or None)


@st.cache_resource(show_spinner=False, max_entries=64)
def _form(url: str | None, questionnaire_id: str, revision: str) -> Form:
    source = _store(url).questionnaire_source(questionnaire_id, revision)
    return Form(load_questionnaire_text(source, f"{questionnaire_id}.yaml"))


def render() -> None:
    """The survey page, as registered in ``survey_app.py``."""
    preview = previewed()  # a manager trying a survey may try a draft or closed one
    records = {
        r.id: r
        for r in store().questionnaires()
        if r.state == QuestionnaireState.OPEN or r.id == preview
    }
    survey_id = st.query_params.get(SURVEY_PARAM)
    # By its id, not from the list: the id names the questionnaire's municipality, and on
    # PostgreSQL (row-level security) only that municipality's rows are readable.
    record = store().questionnaire(survey_id) if survey_id else None
    if record is not None and record.state != QuestionnaireState.OPEN and record.id != preview:
        record = None
    if record is None:
        _choose_survey(records, survey_id)
        return
    form = _form(os.environ.get(DATABASE_URL_ENV_VAR) or None, record.id, record.revision)
    q = form.questionnaire
    lang = _language(q)
    state = _session(q, record.access)
    apply_form_style(lang)
    st.title(q.text(q.meta.title, lang))
    if record.id == preview:
        preview_banner(lang)
    if state.stage == "code":
        _code_stage(form, state, lang)
    elif state.stage == "intro":
        _intro_stage(form, state, lang)
    elif state.stage == "form":
        _form_stage(form, state, lang)
    else:
        _thanks_stage(q, lang)


def _session(q: Questionnaire, access: Access) -> SurveySession:
    """The respondent's state; ``access`` is the one set in the store, not the file's."""
    key = f"survey.{q.id}.session"
    if key not in st.session_state:
        needs_code = access == Access.CODE and previewed() != q.id
        st.session_state[key] = SurveySession(
            stage="code" if needs_code else "intro",
            lost=PAGE_PARAM in st.query_params,
        )
        st.query_params.pop(PAGE_PARAM, None)
    session: SurveySession = st.session_state[key]
    return session


def _lost_session_notice(state: SurveySession, lang: str, *, with_code: bool) -> None:
    """Tell a respondent whose session the server lost what happened (once)."""
    if state.lost:
        key = "privacy.session_lost.code" if with_code else "privacy.session_lost.open"
        st.warning(t(key, lang), icon=":material/history:")
        state.lost = False


def _language(q: Questionnaire) -> str:
    """The respondent's language: switchable at the top, first taken from ``?lang=``."""
    languages = list(q.meta.languages)
    key = f"survey.{q.id}.language"
    if key not in st.session_state:
        asked = st.query_params.get(LANGUAGE_PARAM)
        st.session_state[key] = asked if asked in languages else q.meta.default_language
    if len(languages) < 2:
        return str(st.session_state[key])
    lang = str(st.session_state[key])
    chosen = st.radio(
        t("common.language", lang),
        languages,
        format_func=_language_name,
        horizontal=True,
        key=key,
    )
    st.query_params[LANGUAGE_PARAM] = chosen
    return str(chosen)


def _language_name(lang: str) -> str:
    try:
        return t(f"form.language.{lang}", lang)
    except KeyError:
        return lang.upper()


def _choose_survey(records: dict[str, QuestionnaireRecord], asked: str | None) -> None:
    if asked is None and len(records) == 1:
        # The letter's short address is just the server: with one open survey, that is it.
        st.query_params[SURVEY_PARAM] = next(iter(records))
        st.rerun()
    asked_lang = st.query_params.get(LANGUAGE_PARAM)
    lang = asked_lang if asked_lang in UI_LANGUAGES else DEFAULT_LANGUAGE
    st.title(t("common.app_title", lang))
    if asked:
        st.error(t("form.unknown_survey", lang, survey=_shown_id(asked)))
    if not records:
        st.info(t("form.no_open_surveys", lang))
        return
    st.write(t("form.open_surveys", lang) if asked else t("form.choose_survey", lang))
    for record in records.values():
        if st.button(_text(record.title, lang), key=f"survey.choose.{record.id}"):
            st.query_params[SURVEY_PARAM] = record.id
            st.rerun()


def _shown_id(asked: str) -> str:
    """The survey id from the URL as safe plain text: the URL is anyone's input, and the
    message is rendered as Markdown, so a crafted link or image must not come through."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", asked)[:64] or "?"


def _text(texts: dict[str, str], lang: str) -> str:
    return localized(texts, lang)


# --- stages ------------------------------------------------------------------------------------


def _code_stage(form: Form, state: SurveySession, lang: str) -> None:
    q = form.questionnaire
    _lost_session_notice(state, lang, with_code=True)
    st.subheader(t("form.code_title", lang))
    with st.form(f"survey.{q.id}.code_form"):
        entered = st.text_input(t("form.code_label", lang))
        st.caption(t("form.code_help", lang))
        checked = st.form_submit_button(t("form.code_submit", lang), type="primary")
    if not checked:
        return
    # The session's own back-off (a reload resets it) and the questionnaire's limit of wrong
    # codes per minute over every session (a reload does not).
    wait = max(
        code_retry_wait(state.code_failures, time.monotonic() - state.last_code_failure),
        store().code_wait(q.id),
    )
    if wait > 0:
        st.error(t("form.code_wait", lang, count=int(wait + 0.999)))
        return
    try:
        status = store().check_code(q.id, entered or "")
    except InvalidInput:
        status = CodeStatus.UNKNOWN
    if status == CodeStatus.UNKNOWN:
        state.code_failures += 1
        state.last_code_failure = time.monotonic()
        st.error(t("form.code_unknown", lang))
        return
    if status == CodeStatus.USED:
        st.error(t("form.code_used", lang))
        return
    state.code = entered
    draft = store().load_draft(q.id, entered or "")
    if draft is not None:
        forget_widgets(q)
        state.answers = dict(draft.answers)
        state.page = min(max(draft.page, 0), len(q.sections) - 1)
        state.stage = "form"
        state.notice = t("form.code_resumed", lang)
    else:
        state.stage = "intro"
    st.rerun()


def _intro_stage(form: Form, state: SurveySession, lang: str) -> None:
    _lost_session_notice(state, lang, with_code=False)
    # One data-protection screen: the questionnaire's own notice where it has one (it names
    # the controller and the deletion date), else the app's generic one; never both.
    st.header(t("form.privacy_title", lang))
    notice = form.privacy_notice()
    q = form.questionnaire
    st.markdown(q.text(notice.label, lang) if notice else t("form.privacy_text", lang))
    if st.button(t("form.start", lang), type="primary"):
        state.stage = "form"
        st.rerun()


def _form_stage(form: Form, state: SurveySession, lang: str) -> None:
    q = form.questionnaire
    visible = form.visible_pages(form.clean(state.answers))
    if state.page not in visible:
        state.page = next((p for p in visible if p > state.page), visible[-1] if visible else 0)
    section = q.sections[state.page]
    position, total = form.progress(state.page, form.clean(state.answers))
    st.progress(position / total, text=t("form.progress", lang, position=position, total=total))
    # Messages sit in containers drawn on every run, so that one appearing or going away does
    # not shift the elements after it, which Streamlit would draw anew, losing the keyboard focus.
    with st.container(key="survey-notice"):
        if state.notice:
            st.success(state.notice)
            state.notice = None
    st.header(q.text(section.title, lang))
    st.query_params[PAGE_PARAM] = str(state.page + 1)

    shown, skipped = _problems_on_screen(form, state, lang)
    privacy = form.privacy_notice()
    state.drawing_page = True  # the questions below are drawn in this (full) run
    try:
        for item in section.items:
            if item is privacy:
                continue  # shown once, on the data-protection screen before the first page
            if form.item_visible(item, form.clean(state.answers)):
                _question(form, item, state, lang, shown)
            else:
                _drop_hidden(item, state.answers)
    finally:
        state.drawing_page = False
    with st.container(key="survey-messages"):
        if shown:
            st.error(t("form.page_has_problems", lang))
        prompt = form.soft_prompt(skipped, lang)
        if prompt:
            st.warning(prompt, icon=":material/help:")
        if state.error:
            st.error(state.error)

    is_last = form.next_page(state.page, form.clean(state.answers)) is None
    back_col, next_col = st.columns(2)
    with back_col:
        back = st.button(
            t("form.back", lang),
            disabled=form.previous_page(state.page, form.clean(state.answers)) is None,
            use_container_width=True,
        )
    with next_col:
        forward = st.button(
            t("form.submit" if is_last else "form.next", lang),
            type="primary",
            use_container_width=True,
        )
    save = (
        st.button(t("form.save_later", lang), use_container_width=True)
        if state.code is not None
        else False
    )
    if state.drawn_page != state.page:
        # Last on the page: the script element is gone on the next run, and an element that
        # disappears shifts every later one, which Streamlit draws anew; the answer a keyboard
        # user has just chosen would lose its focus to the page body.
        _start_at_top(state.page)
        state.drawn_page = state.page
    if back:
        _go_back(form, state)
    elif forward:
        _go_forward(form, state, lang, submit=is_last)
    elif save:
        _save_draft(q, state, lang, explicit=True)


@st.fragment
def _question(
    form: Form, item: Item, state: SurveySession, lang: str, shown: dict[str, list[Problem]]
) -> None:
    """One question, as a fragment: answering it reruns only this function, which draws the
    one question again, not the whole page (most clicks in a survey are answers; a full run
    drew every question of the page, and cost the server several times as much; see
    docs/performance.md, "Survey capacity"). Where the answer may change more than the
    question — a ``show_if`` reads it (other items or pages appear or go, the progress and
    the last page change) or the page's problems are on screen — the whole page is drawn
    again at once, exactly as before."""
    ids = [item.id, *(s.id for s in getattr(item, "statements", []))]
    before = [_blank_as_none(state.answers.get(i)) for i in ids]
    render_item(form, item, state.answers, lang, lambda f: shown.get(f, []))
    after = [_blank_as_none(state.answers.get(i)) for i in ids]
    # In a full run the rest of the page is drawn after this question anyway.
    if (
        not state.drawing_page
        and after != before
        and (form.steers_visibility(item) or state.checked_page == state.page)
    ):
        st.rerun()  # the whole app (the default scope), as a full run would have drawn it


def _blank_as_none(value: Any) -> Any:
    return None if value is None or value == [] or value == "" else value


#: Runs once when a new page is drawn: Streamlit keeps the scroll position across reruns, so
#: on a phone the next page would open at the bottom, showing only its last question, and a
#: second tap on "Weiter" would skip it. It scrolls every scroll container to the top and puts
#: the keyboard and screen-reader focus on the page heading.
_START_AT_TOP = """<script>
(() => {{
  const page = {page};
  const settle = () => {{
    for (const box of [document.scrollingElement,
                       document.querySelector('[data-testid="stMain"]'),
                       document.querySelector('[data-testid="stAppViewContainer"]')]) {{
      if (box) box.scrollTop = 0;
    }}
    window.scrollTo(0, 0);
    const heading = document.querySelector('[data-testid="stMain"] h2');
    if (heading) {{
      heading.setAttribute("tabindex", "-1");
      heading.focus({{preventScroll: true}});
    }}
  }};
  requestAnimationFrame(() => requestAnimationFrame(settle));
  setTimeout(settle, 150);
  // The button that led here ("Befragung beginnen") may be removed only when the whole run is
  // drawn, which drops the focus to the page body; then it goes back to the heading, unless
  // the respondent has already pressed a key or touched the page.
  let moved = false;
  for (const kind of ["keydown", "pointerdown"]) {{
    window.addEventListener(kind, () => {{ moved = true; }}, {{once: true, capture: true}});
  }}
  const refocus = () => {{
    const now = document.activeElement;
    if (!moved && (!now || now === document.body)) settle();
  }};
  for (const delay of [500, 1000, 2000]) setTimeout(refocus, delay);
}})();
</script>"""


def _start_at_top(page: int) -> None:
    st.html(_START_AT_TOP.format(page=page), unsafe_allow_javascript=True)


def _problems_on_screen(
    form: Form, state: SurveySession, lang: str
) -> tuple[dict[str, list[Problem]], list[str]]:
    """Once "next" was pressed on this page, its problems stay live: errors next to their
    items, and the soft-required blanks asked about (still blank) for the one page prompt."""
    if state.checked_page != state.page:
        return {}, []
    check = form.check_page(state.page, state.answers, lang, asked=frozenset())
    by_field: dict[str, list[Problem]] = {}
    for problem in check.problems:
        if problem.severity == "error":
            by_field.setdefault(problem.location.field or "", []).append(problem)
    return by_field, [f for f in check.skipped if f in state.asked]


def _drop_hidden(item: Any, answers: dict[str, Any]) -> None:
    answers.pop(item.id, None)
    for statement in getattr(item, "statements", []):
        answers.pop(statement.id, None)


def _go_back(form: Form, state: SurveySession) -> None:
    previous = form.previous_page(state.page, form.clean(state.answers))
    if previous is not None:
        state.page = previous
        state.checked_page = None
        state.error = None
        _save_draft(form.questionnaire, state, None, explicit=False)
    st.rerun()


def _go_forward(form: Form, state: SurveySession, lang: str, *, submit: bool) -> None:
    check = form.check_page(state.page, state.answers, lang, state.asked)
    state.asked = check.asked
    state.error = None
    if not check.may_continue:
        state.checked_page = state.page
        st.rerun()
    if submit:
        wrong_page = form.first_page_with_errors(state.answers, lang)
        if wrong_page is not None:
            state.page = wrong_page
            state.checked_page = wrong_page
            st.rerun()
        _submit(form, state, lang)
        st.rerun()
    state.checked_page = None
    state.page = form.next_page(state.page, form.clean(state.answers)) or state.page
    _save_draft(form.questionnaire, state, None, explicit=False)
    st.rerun()


def _submit(form: Form, state: SurveySession, lang: str) -> None:
    q = form.questionnaire
    try:
        if previewed() == q.id:  # the manager's test answer, kept apart from the responses
            store().submit_test(q, form.clean(state.answers), language=lang)
            result = SubmitResult(SubmitStatus.STORED)
        else:
            result = store().submit(
                q,
                form.clean(state.answers),
                language=lang,
                submission_token=state.submission_token,
                mode="web",
                code=state.code,
            )
    except InvalidInput as invalid:
        state.error = "\n".join(
            [t("form.submit_invalid", lang), *(f"- {p.render(lang)}" for p in invalid.problems)]
        )
        return
    except Exception:  # a failed write: the answers stay on screen and nothing is lost
        state.error = t("form.submit_failed", lang)
        return
    if not result.stored:
        state.error = result.message(lang)
        return
    forget_widgets(q)
    state.answers = {}
    state.stage = "thanks"


def _save_draft(
    q: Questionnaire, state: SurveySession, lang: str | None, *, explicit: bool
) -> None:
    """Keep a coded respondent's progress server-side; silently on every page turn."""
    if state.code is None:
        return
    try:
        store().save_draft(q.id, state.code, _json_safe(state.answers), state.page)
    except Exception:
        if explicit:
            st.error(t("form.save_failed", lang))
        return
    if explicit:
        st.success(t("form.saved", lang))


def _json_safe(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if v is not None and v != [] and v != ""}


def _thanks_stage(q: Questionnaire, lang: str) -> None:
    st.query_params.pop(PAGE_PARAM, None)
    st.header(t("form.thanks_title", lang))
    st.markdown(q.text(q.meta.thanks, lang) if q.meta.thanks else t("form.thanks_text", lang))
