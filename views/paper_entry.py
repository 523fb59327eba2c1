"""Papier erfassen: returned paper forms keyed in by question number, fast by keyboard.

One compact form per paper form: the access code (or the form's serial number), then one
text input per question in printed order. Tab moves on; Enter checks the form and shows how
each answer reads back ("kein Problem"); Enter again on the checked form keys it. With double
entry the first keying waits for a second person; differences are resolved question by
question before one response is stored. The logic is :mod:`app._paper_entry`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from string import ascii_lowercase
from typing import Any

import streamlit as st

from app import (
    Difference,
    EntryField,
    KeyedForm,
    KeyingOutcome,
    KeyingStep,
    Resolution,
    batch_choices,
    batch_name,
    check_keying,
    entry_fields,
    finish_keying,
    key_form,
    new_keying_token,
    paper_form,
    progress_table,
    read_form,
    resolve_differences,
    typed_text,
)
from core import InvalidInput, Problem, catalogue, escape_markdown, t
from storage import NO_BATCH, PaperForm
from survey import Access, Questionnaire
from views._session import (
    choose_questionnaire,
    data_changed,
    page_frame,
    problem_message,
    workspace,
)

PREFIX = "manager.paper_entry"
#: The number of the form on screen: a stored form makes the next one start blank.
COUNTER = f"{PREFIX}.n"
TOKEN = f"{PREFIX}.token"
#: The last check: (form number, what was typed, its reading).
CHECKED = f"{PREFIX}.checked"
OUTCOME = f"{PREFIX}.outcome"
NOTICE = f"{PREFIX}.notice"
COMPARE = f"{PREFIX}.compare"
BATCH = f"{PREFIX}.batch"
LANGUAGE = f"{PREFIX}.language"
DOUBLE = f"{PREFIX}.double"

#: Puts the focus on the first input of the new, blank form after a form was keyed, so the
#: keyer types the next code without reaching for the mouse.
_FOCUS_FIRST_INPUT = """<script>
(() => {{
  const label = {label};
  const focus = () => {{
    const input = [...document.querySelectorAll('[data-testid="stMain"] input[type="text"]')]
      .find((el) => el.getAttribute('aria-label') === label);
    if (input && document.activeElement !== input) input.focus();
  }};
  requestAnimationFrame(() => requestAnimationFrame(focus));
  setTimeout(focus, 200);
}})();
</script>"""


@dataclass(frozen=True)
class _Context:
    """What the callbacks need: the questionnaire and the choices above the form."""

    questionnaire: Questionnaire
    batch_id: str
    language: str
    double_entry: bool
    lang: str
    number: int


@dataclass(frozen=True)
class _Comparison:
    """A second keying that differs from the first, waiting for its resolution."""

    questionnaire_id: str
    form: PaperForm
    outcome: KeyingOutcome
    language: str
    token: str
    number: int


def _key(number: int, name: str) -> str:
    return f"{PREFIX}.{number}.{name}"


def _field_key(number: int, entry: EntryField) -> str:
    return _key(number, f"q.{entry.key}")


def _form_id_label(batch_id: str, double_entry: bool, lang: str) -> str:
    if batch_id != NO_BATCH:
        return t("paper_entry.code", lang)
    return t("paper_entry.serial_double" if double_entry else "paper_entry.serial", lang)


def _typed(ctx: _Context) -> dict[str, str]:
    fields = entry_fields(ctx.questionnaire, ctx.lang)
    return {e.key: str(st.session_state.get(_field_key(ctx.number, e), "") or "") for e in fields}


def _form(ctx: _Context) -> PaperForm:
    typed = str(st.session_state.get(_key(ctx.number, "form_id"), "") or "")
    if ctx.batch_id == NO_BATCH:
        return paper_form(NO_BATCH, serial=typed)
    return paper_form(ctx.batch_id, code=typed)


def _next_form(notice: tuple[str, str]) -> None:
    """Start a blank form (a new number, so every input is empty) with a new token."""
    st.session_state[COUNTER] = int(st.session_state.get(COUNTER, 0)) + 1
    st.session_state[TOKEN] = new_keying_token()
    st.session_state[NOTICE] = notice
    for name in (CHECKED, OUTCOME):
        st.session_state.pop(name, None)
    data_changed()


def _after(outcome: KeyingOutcome, ctx: _Context, form: PaperForm, token: str) -> None:
    """What an outcome does to the page."""
    lang = ctx.lang
    if outcome.step is KeyingStep.STORED:
        _next_form(("success", t("paper_entry.stored", lang)))
    elif outcome.step is KeyingStep.FIRST_SAVED:
        _next_form(("info", t("paper_entry.first_saved", lang)))
    elif outcome.step is KeyingStep.COMPARE:
        st.session_state[COMPARE] = _Comparison(
            ctx.questionnaire.id, form, outcome, ctx.language, token, ctx.number
        )
        st.session_state.pop(OUTCOME, None)
    else:
        st.session_state[OUTCOME] = outcome


def _submit(ctx: _Context) -> None:
    """Enter on the form: check it; Enter again on the unchanged, checked form keys it."""
    typed = _typed(ctx)
    form = _form(ctx)
    # What the check saw: a second Enter keys the form only if nothing of it changed since.
    snapshot = json.dumps(
        [ctx.batch_id, ctx.double_entry, ctx.language, form.code, form.serial, typed],
        sort_keys=True,
    )
    keyed = read_form(ctx.questionnaire, typed, ctx.lang)
    checked = st.session_state.get(CHECKED)
    previous = st.session_state.get(OUTCOME)
    st.session_state[CHECKED] = (ctx.number, snapshot, keyed)
    st.session_state.pop(NOTICE, None)
    ready = (
        isinstance(checked, tuple)
        and checked[:2] == (ctx.number, snapshot)
        and isinstance(previous, KeyingOutcome)
        and previous.step in (KeyingStep.CHECKED, KeyingStep.CONFIRM_SKIPPED)
    )
    store = workspace().store
    if not ready:
        # A first look, or a changed form: read it back; a bad code is refused now.
        st.session_state[OUTCOME] = check_keying(
            store, ctx.questionnaire, form, keyed, double_entry=ctx.double_entry
        )
        return
    token = str(st.session_state.setdefault(TOKEN, new_keying_token()))
    outcome = key_form(
        store,
        ctx.questionnaire,
        form,
        keyed,
        double_entry=ctx.double_entry,
        drop_skipped=bool(st.session_state.get(_key(ctx.number, "drop_skipped"), False)),
        language=ctx.language,
        token=token,
        lang=ctx.lang,
    )
    _after(outcome, ctx, form, token)


def _resolve(comparison: _Comparison, questionnaire: Questionnaire, lang: str) -> None:
    """ "Speichern" under the differences: resolve them, then store the one response."""
    differences = comparison.outcome.differences
    number = comparison.number
    choices = {
        d.field.key: _choice(st.session_state.get(_key(number, f"choice.{d.field.key}")))
        for d in differences
    }
    corrections = {
        d.field.key: str(st.session_state.get(_key(number, f"fix.{d.field.key}"), "") or "")
        for d in differences
    }
    answers, problems = resolve_differences(
        differences, comparison.outcome.second, choices, corrections, lang
    )
    if problems:
        st.session_state[OUTCOME] = KeyingOutcome(KeyingStep.INVALID, tuple(problems))
        return
    outcome = finish_keying(
        workspace().store,
        questionnaire,
        comparison.form,
        answers,
        drop_skipped=bool(st.session_state.get(_key(number, "resolve_drop_skipped"), False)),
        language=comparison.language,
        token=comparison.token,
    )
    if outcome.step is KeyingStep.STORED:
        st.session_state.pop(COMPARE, None)
        _next_form(("success", t("paper_entry.stored_resolved", lang)))
    else:
        st.session_state[OUTCOME] = outcome


def _choice(value: Any) -> Resolution | None:
    try:
        return Resolution(value) if value is not None else None
    except ValueError:
        return None


def _cancel_comparison(lang: str) -> None:
    """Leave the differences unresolved: the second keying is forgotten, the first waits."""
    st.session_state.pop(COMPARE, None)
    _next_form(("info", t("paper_entry.compare.cancelled", lang)))


# --- drawing -----------------------------------------------------------------------------------


def _red(text: str) -> str:
    """Markdown markup: ``text`` in red with an error icon, next to its input."""
    return f":red[:material/error: {text}]"


def _problems(problems: tuple[Problem, ...], lang: str) -> None:
    for problem in problems:
        st.error(problem_message(problem, lang), icon=":material/error:")


def _outcome_messages(outcome: KeyingOutcome | None, fields: list[EntryField], lang: str) -> None:
    if outcome is None:
        return
    if outcome.step is KeyingStep.INVALID:
        st.error(
            t("paper_entry.not_keyed", lang, count=len(outcome.problems)), icon=":material/error:"
        )
        _problems(outcome.problems, lang)
    elif outcome.step is KeyingStep.REFUSED and outcome.result is not None:
        st.error(outcome.result.message(lang), icon=":material/block:")
    elif outcome.step is KeyingStep.CHECKED:
        st.success(t(f"paper_entry.checked.{outcome.note}", lang), icon=":material/task_alt:")
    if outcome.skipped:
        numbers = {e.key: e.number for e in fields}
        listed = ", ".join(numbers.get(k, k) for k in outcome.skipped)
        st.warning(
            t("paper_entry.skipped", lang, count=len(outcome.skipped), numbers=listed),
            icon=":material/call_split:",
        )


def _reading_of(number: int) -> KeyedForm | None:
    checked = st.session_state.get(CHECKED)
    if isinstance(checked, tuple) and checked[0] == number:
        reading = checked[2]
        return reading if isinstance(reading, KeyedForm) else None
    return None


def _keying_form(ctx: _Context, outcome: KeyingOutcome | None) -> None:
    lang = ctx.lang
    fields = entry_fields(ctx.questionnaire, lang)
    reading = _reading_of(ctx.number)
    by_key = {r.field.key: r for r in reading.readings} if reading is not None else {}
    ready = outcome is not None and outcome.step is KeyingStep.CHECKED
    id_label = _form_id_label(ctx.batch_id, ctx.double_entry, lang)
    with st.form(_key(ctx.number, "form"), border=True, enter_to_submit=True):
        st.text_input(id_label, key=_key(ctx.number, "form_id"), max_chars=40)
        legend_shown = ""
        for entry in fields:
            left, right = st.columns([3, 2], vertical_alignment="bottom")
            left.text_input(
                f"{entry.number}. {entry.question}",
                key=_field_key(ctx.number, entry),
                placeholder=entry.expected(lang),
                max_chars=max(entry.spec.max_length, 200),
            )
            found = by_key.get(entry.key)
            if found is None:
                # Before the check: the answers of the question, once per question (a help
                # icon would be one more Tab stop between two questions).
                question = entry.number.rstrip(ascii_lowercase)
                if entry.options and question != legend_shown:
                    right.caption(entry.legend())
                legend_shown = question
            elif found.problem is not None:
                right.markdown(_red(escape_markdown(found.problem.params["message"])))
            elif found.shown:
                right.caption(f"→ {escape_markdown(found.shown)}")
        # A first keying keeps what was typed; the answers are dropped when the form is stored.
        if outcome is not None and outcome.skipped and outcome.note != "first":
            st.checkbox(t("paper_entry.drop_skipped", lang), key=_key(ctx.number, "drop_skipped"))
        st.form_submit_button(
            t("paper_entry.save" if ready else "paper_entry.check", lang),
            type="primary",
            on_click=_submit,
            args=(ctx,),
        )
    st.caption(t("paper_entry.keys_hint", lang))


def _comparison(comparison: _Comparison, questionnaire: Questionnaire, lang: str) -> None:
    outcome = comparison.outcome
    st.subheader(t("paper_entry.compare.title", lang))
    st.caption(t("paper_entry.compare.caption", lang, count=len(outcome.differences)))
    number = comparison.number
    with st.form(_key(number, "resolve"), border=True, enter_to_submit=True):
        for difference in outcome.differences:
            entry = difference.field
            st.markdown(f"**{entry.number}. {escape_markdown(entry.question)}**")
            left, right = st.columns([3, 2], vertical_alignment="bottom")
            left.radio(
                t("paper_entry.compare.choose", lang, number=entry.number),
                list(Resolution),
                index=None,
                horizontal=True,
                key=_key(number, f"choice.{entry.key}"),
                format_func=partial(_choice_label, difference=difference, lang=lang),
            )
            right.text_input(
                t("paper_entry.compare.correct", lang, number=entry.number),
                key=_key(number, f"fix.{entry.key}"),
                value=typed_text(entry, difference.second),
                placeholder=entry.expected(lang),
            )
        current = st.session_state.get(OUTCOME)
        if isinstance(current, KeyingOutcome) and current.skipped:
            st.checkbox(
                t("paper_entry.drop_skipped", lang), key=_key(number, "resolve_drop_skipped")
            )
        st.form_submit_button(
            t("paper_entry.compare.store", lang),
            type="primary",
            on_click=_resolve,
            args=(comparison, questionnaire, lang),
        )
    st.button(
        t("paper_entry.compare.cancel", lang),
        key=_key(number, "cancel"),
        on_click=_cancel_comparison,
        args=(lang,),
    )


def _choice_label(choice: Resolution, difference: Difference, lang: str) -> str:
    if choice is Resolution.FIRST:
        return t("paper_entry.compare.first", lang, value=difference.first_shown(lang))
    if choice is Resolution.SECOND:
        return t("paper_entry.compare.second", lang, value=difference.second_shown(lang))
    return t("paper_entry.compare.corrected", lang)


def _discard_keying(ctx: _Context) -> None:
    """Delete the first keying of the form named below (keyed for the wrong form, or for an
    earlier revision of the questionnaire)."""
    typed = str(st.session_state.get(f"{PREFIX}.discard_id", "") or "")
    if ctx.batch_id == NO_BATCH:
        form = paper_form(NO_BATCH, serial=typed)
    else:
        form = paper_form(ctx.batch_id, code=typed)
    try:
        found = workspace().store.discard_keying(ctx.questionnaire.id, form)
    except InvalidInput as invalid:
        st.session_state[OUTCOME] = KeyingOutcome(KeyingStep.INVALID, tuple(invalid.problems))
        return
    key = "paper_entry.discarded" if found else "paper_entry.nothing_to_discard"
    st.session_state[NOTICE] = ("info", t(key, ctx.lang))
    st.session_state[f"{PREFIX}.discard_id"] = ""
    data_changed()


def _discard(ctx: _Context) -> None:
    with st.expander(t("paper_entry.discard.title", ctx.lang)):
        st.caption(t("paper_entry.discard.caption", ctx.lang))
        st.text_input(
            _form_id_label(ctx.batch_id, True, ctx.lang), key=f"{PREFIX}.discard_id", max_chars=40
        )
        st.button(
            t("paper_entry.discard.button", ctx.lang),
            key=f"{PREFIX}.discard_button",
            on_click=_discard_keying,
            args=(ctx,),
        )


def _language_name(code: str, lang: str) -> str:
    """A questionnaire language by its own name ("Deutsch"), else its code."""
    key = f"form.language.{code}"
    return t(key, lang) if key in catalogue() else code


def _messages(
    notice: tuple[str, str] | None,
    outcome: KeyingOutcome | None,
    fields: list[EntryField],
    lang: str,
) -> None:
    """The notice of the last keyed form and the outcome of the last Enter, in one container
    that is always there: the form below it keeps its place, so the input that has the focus
    keeps it when a message comes or goes."""
    with st.container():
        if notice is not None:
            level, text = notice
            (st.success if level == "success" else st.info)(text, icon=":material/check_circle:")
        _outcome_messages(outcome, fields, lang)


def render() -> None:
    _manager, lang = page_frame("paper_entry.title")
    record = choose_questionnaire(lang)
    if record is None:
        return
    ws = workspace()
    questionnaire = ws.questionnaire(record.id)
    st.caption(t("paper_entry.intro", lang))
    notice = st.session_state.pop(NOTICE, None)
    outcome = st.session_state.get(OUTCOME)
    outcome = outcome if isinstance(outcome, KeyingOutcome) else None
    comparison = st.session_state.get(COMPARE)
    fields = entry_fields(questionnaire, lang)
    if isinstance(comparison, _Comparison) and comparison.questionnaire_id == record.id:
        _messages(notice, outcome, fields, lang)
        _comparison(comparison, questionnaire, lang)
    else:
        batches = batch_choices(ws.store, record.id, open_access=record.access is Access.OPEN)
        if not batches:
            st.info(t("paper_entry.no_batches", lang))
            return
        progress = {p.batch_id: p for p in ws.store.keying_progress(record.id)}
        left, middle, right = st.columns(3, vertical_alignment="bottom")
        batch_id = left.selectbox(
            t("paper_entry.batch", lang),
            batches,
            format_func=lambda b: batch_name(progress.get(b), b, lang),
            key=BATCH,
        )
        languages = questionnaire.meta.languages
        language = middle.selectbox(
            t("paper_entry.language", lang),
            languages,
            format_func=partial(_language_name, lang=lang),
            key=LANGUAGE,
        )
        double_entry = right.toggle(t("paper_entry.double", lang), key=DOUBLE)
        number = int(st.session_state.setdefault(COUNTER, 0))
        ctx = _Context(
            questionnaire, str(batch_id), str(language), bool(double_entry), lang, number
        )
        _messages(notice, outcome, fields, lang)
        _keying_form(ctx, outcome)
        if notice is not None:
            label = _form_id_label(ctx.batch_id, ctx.double_entry, lang)
            st.html(
                _FOCUS_FIRST_INPUT.format(label=json.dumps(label)), unsafe_allow_javascript=True
            )
        _discard(ctx)
    st.subheader(t("paper_entry.progress", lang))
    st.dataframe(progress_table(ws.store, record.id, lang), hide_index=True)
