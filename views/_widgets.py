"""One Streamlit widget per questionnaire item; nothing is ever pre-selected.

Each widget has a stable key per questionnaire and item, so it keeps its value across reruns
and language switches (Streamlit identifies keyed widgets by key alone). A widget's state is
dropped by Streamlit when its page is not shown; it is then seeded again from the form's
answers dict, which is the one source of truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from core import Problem, t
from survey import (
    BatteryItem,
    DateItem,
    Form,
    InfoItem,
    Item,
    MultiChoiceItem,
    Questionnaire,
    SingleChoiceItem,
    TextItem,
    YesNoItem,
    date_range,
    kind_of,
)

ProblemsFor = Callable[[str], list[Problem]]


def widget_key(questionnaire_id: str, answer_id: str) -> str:
    return f"survey.{questionnaire_id}.answer.{answer_id}"


def battery_key(item_id: str) -> str:
    """The key of the container around a battery (the page's HTML has it as a CSS class)."""
    return f"battery-{item_id}"


def forget_widgets(questionnaire: Questionnaire) -> None:
    """Drop every widget value of ``questionnaire`` (after submitting or resuming a draft)."""
    prefix = widget_key(questionnaire.id, "")
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def question_key(item_id: str) -> str:
    """The key of the container around one question (its CSS class is ``st-key-<key>``)."""
    return f"question-{item_id}"


def question_label(form: Form, item: Item, lang: str) -> str:
    """The question as shown and announced: its number, its text, and whether it must be
    answered. The mark is words, not colour or an asterisk, so a screen reader says it too.
    """
    q = form.questionnaire
    text = q.text(item.label, lang)
    unit = q.text(getattr(item, "unit", {}), lang)
    if unit:
        text = f"{text} ({unit})"
    number = form.question_number(item.id)
    if number is not None:
        text = f"{number}. {text}"
    if getattr(item, "required", None) == "hard":
        text = f"{text} {t('form.required_mark', lang)}"
    return text


#: The survey's type and tap targets, for residents who are often elderly and on phones
#: (WCAG 2.1 AA, BITV 2.0; measured in ``tests/browser/test_accessibility.py``). The theme's
#: base font is 19 px; Streamlit draws widget labels at 0.875 of it and help text in a
#: light grey, so a question or statement came out smaller than its answers and the help
#: text fell below 4.5:1 contrast. Every radio, check box and button is at least 44 px high
#: and wide (WCAG 2.5.5), so a finger hits it, not its neighbour.
_FORM_STYLE = """<style>
[class*="st-key-question-"] h3 {
  font-size: 1.2rem; line-height: 1.35; font-weight: 700; padding: 0.5rem 0 0.25rem 0;
}
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1rem; font-weight: 600; }
[data-testid="stMain"] [data-testid="stRadio"] [role="radiogroup"] label,
[data-testid="stMain"] [data-testid="stCheckbox"] label {
  min-height: 44px; min-width: 44px; align-items: center; margin: 0;
  padding: 0 0.75rem 0 0;
}
[data-testid="stMain"] [data-testid="stRadio"] label p,
[data-testid="stMain"] [data-testid="stCheckbox"] label p { font-size: 1rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] * {
  font-size: 0.95rem; color: #333 !important; opacity: 1;
}
[data-testid="stMain"] button { min-height: 48px; min-width: 44px; }
</style>"""


#: Streamlit's page says ``<html lang="en">`` whatever it shows; screen readers then read a
#: German form with English pronunciation (WCAG 3.1.1), so the page names its language.
_PAGE_LANGUAGE = """<script>document.documentElement.lang = {lang};</script>"""


def apply_form_style(lang: str) -> None:
    """Put the survey's type and tap-target rules and its language on the page."""
    st.html(_FORM_STYLE)
    st.html(_PAGE_LANGUAGE.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


@dataclass(frozen=True)
class _Place:
    """What every widget function gets: where to draw one item and where its answer goes."""

    form: Form
    answers: MutableMapping[str, Any]
    lang: str
    problems_for: ProblemsFor
    label: str
    help_text: str | None

    @property
    def questionnaire(self) -> Questionnaire:
        return self.form.questionnaire


def render_item(
    form: Form,
    item: Item,
    answers: MutableMapping[str, Any],
    lang: str,
    problems_for: ProblemsFor,
) -> None:
    """Draw ``item``, write its answer(s) into ``answers`` and show its problems below it."""
    q = form.questionnaire
    place = _Place(
        form,
        answers,
        lang,
        problems_for,
        question_label(form, item, lang),
        q.text(item.help, lang) or None,
    )
    WIDGETS[kind_of(item).widget](item, place)


def _question(place: _Place) -> None:
    """The question as a heading, then its help text, then (drawn by the caller) the answers.

    Streamlit puts a widget's own label right above its options and offers help only as a
    hover tooltip, which phones do not have; so the widget's label is collapsed (it still
    names the input for screen readers) and the question and help are drawn here, in the
    order they are read. A heading per question also lets screen-reader users jump between
    questions.
    """
    st.subheader(place.label, anchor=False)
    if place.help_text:
        st.caption(place.help_text)


# --- one function per question kind ---------------------------------------------------------
# A simple kind draws one widget and returns its value (:func:`_one_answer` does the rest);
# a kind with several answers (battery, multi) draws and stores them itself.


def _info(item: InfoItem, place: _Place) -> None:
    st.markdown(place.label)
    if place.help_text:
        st.markdown(place.help_text)


def _one_answer(
    draw: Callable[[Any, _Place, str], Any], to_widget: Callable[[Any], Any] = lambda v: v
) -> Callable[[Any, _Place], None]:
    """A widget function for a kind with one answer: the question and its help, then the
    widget seeded from the answers, its value stored, then the problems."""

    def render(item: Any, place: _Place) -> None:
        key = widget_key(place.questionnaire.id, item.id)
        with st.container(key=question_key(item.id)):
            _question(place)
            _seed(key, to_widget(place.answers.get(item.id)))
            place.answers[item.id] = draw(item, place, key)
            _show_problems(place.problems_for(item.id), place.lang)

    return render


def _single(item: SingleChoiceItem, place: _Place, key: str) -> Any:
    q, lang = place.questionnaire, place.lang
    options = q.scale_of(item).options
    labels = {o.code: q.text(o.label, lang) for o in options}
    if item.widget == "dropdown":
        return st.selectbox(
            place.label,
            [o.code for o in options],
            index=None,
            format_func=labels.__getitem__,
            placeholder=t("form.choose", lang),
            key=key,
            label_visibility="collapsed",
        )
    return st.radio(
        place.label,
        [o.code for o in options],
        index=None,
        format_func=labels.__getitem__,
        key=key,
        label_visibility="collapsed",
    )


def _number(item: Any, place: _Place, key: str) -> Any:
    # Also the input of kinds asked like a number (a year): they may lack integer.
    integer = getattr(item, "integer", True)
    value = st.number_input(
        place.label,
        value=None,
        step=1 if integer else 0.1,
        format="%d" if integer else "%.1f",
        key=key,
        label_visibility="collapsed",
    )
    return int(value) if value is not None and integer else value


def _text(item: TextItem, place: _Place, key: str) -> Any:
    widget = st.text_area if item.long else st.text_input
    return widget(place.label, max_chars=item.max_length, key=key, label_visibility="collapsed")


def _yes_no(item: YesNoItem, place: _Place, key: str) -> Any:
    names = {True: t("form.yes", place.lang), False: t("form.no", place.lang)}
    return st.radio(
        place.label,
        [True, False],
        index=None,
        format_func=names.__getitem__,
        horizontal=True,
        key=key,
        label_visibility="collapsed",
    )


def _date(item: DateItem, place: _Place, key: str) -> Any:
    earliest, latest = date_range()
    picked = st.date_input(
        place.label,
        value=None,
        min_value=earliest,
        max_value=latest,
        format="DD.MM.YYYY",
        key=key,
        label_visibility="collapsed",
    )
    return picked.isoformat() if isinstance(picked, date) else None


def _date_to_widget(value: Any) -> Any:
    """The stored answer as the date widget holds it (dates are ISO text in the answers)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def _battery(item: BatteryItem, place: _Place) -> None:
    """One radio group per statement, stacked: readable on a phone, one label each."""
    form, answers, lang, problems_for = place.form, place.answers, place.lang, place.problems_for
    q = form.questionnaire
    options = q.scale_of(item).options
    labels = {o.code: q.text(o.label, lang) for o in options}
    with st.container(key=question_key(item.id)), st.container(key=battery_key(item.id)):
        _question(place)
        visible = {s.id for s in form.visible_statements(item, form.clean(answers))}
        for statement in item.statements:
            if statement.id not in visible:
                answers.pop(statement.id, None)
                continue
            key = widget_key(q.id, statement.id)
            _seed(key, answers.get(statement.id))
            answers[statement.id] = st.radio(
                q.text(statement.label, lang),
                [o.code for o in options],
                index=None,
                format_func=labels.__getitem__,
                key=key,
            )
            _show_problems(problems_for(statement.id), lang)


def _multi(item: MultiChoiceItem, place: _Place) -> None:
    """A labelled group of check boxes (easier to hit on a phone than a multiselect)."""
    q, answers, lang = place.questionnaire, place.answers, place.lang
    with st.container(key=question_key(item.id)):
        _question(place)
        chosen = set(answers.get(item.id) or [])
        picked: list[Any] = []
        for option in q.scale_of(item).options:
            key = widget_key(q.id, f"{item.id}.{option.code}")
            _seed(key, option.code in chosen)
            if st.checkbox(q.text(option.label, lang), key=key):
                picked.append(option.code)
        answers[item.id] = picked
        _show_problems(place.problems_for(item.id), lang)


def _seed(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _show_problems(problems: list[Problem], lang: str) -> None:
    for problem in problems:
        if problem.severity == "error":
            st.error(problem.message(lang), icon=":material/error:")
        else:
            st.warning(problem.message(lang), icon=":material/help:")


#: The widget functions by input name (:attr:`survey.QuestionKind.widget`): a question kind
#: asked with an input of its own adds one here.
WIDGETS: Mapping[str, Callable[[Any, _Place], None]] = {
    "single": _one_answer(_single),
    "multi": _multi,
    "battery": _battery,
    "number": _one_answer(_number),
    "text": _one_answer(_text),
    "yesno": _one_answer(_yes_no),
    "date": _one_answer(_date, _date_to_widget),
    "info": _info,
}
