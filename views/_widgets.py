"""One Streamlit widget per questionnaire item; nothing is ever pre-selected.

Each widget has a stable key per questionnaire and item, so it keeps its value across reruns
and language switches (Streamlit identifies keyed widgets by key alone). A widget's state is
dropped by Streamlit when its page is not shown; it is then seeded again from the form's
answers dict, which is the one source of truth.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
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
    NumberItem,
    Questionnaire,
    SingleChoiceItem,
    TextItem,
    YesNoItem,
    date_range,
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


def render_item(
    form: Form,
    item: Item,
    answers: MutableMapping[str, Any],
    lang: str,
    problems_for: ProblemsFor,
) -> None:
    """Draw ``item``, write its answer(s) into ``answers`` and show its problems below it."""
    q = form.questionnaire
    label = q.text(item.label, lang)
    help_text = q.text(item.help, lang) or None
    if isinstance(item, InfoItem):
        st.markdown(label)
        if help_text:
            st.markdown(help_text)
        return
    if isinstance(item, BatteryItem):
        _battery(form, item, answers, lang, problems_for, label, help_text)
        return
    if isinstance(item, MultiChoiceItem):
        answers[item.id] = _multi(form, item, answers, lang, label, help_text)
        _show_problems(problems_for(item.id), lang)
        return
    key = widget_key(q.id, item.id)
    _seed(key, _to_widget(item, answers.get(item.id)))
    value: Any
    if isinstance(item, SingleChoiceItem):
        options = q.scale_of(item).options
        labels = {o.code: q.text(o.label, lang) for o in options}
        if item.widget == "dropdown":
            value = st.selectbox(
                label,
                [o.code for o in options],
                index=None,
                format_func=labels.__getitem__,
                placeholder=t("form.choose", lang),
                key=key,
            )
        else:
            value = st.radio(
                label,
                [o.code for o in options],
                index=None,
                format_func=labels.__getitem__,
                key=key,
            )
    elif isinstance(item, NumberItem):
        unit = q.text(item.unit, lang)
        value = st.number_input(
            f"{label} ({unit})" if unit else label,
            value=None,
            step=1 if item.integer else 0.1,
            format="%d" if item.integer else "%.1f",
            key=key,
        )
        if value is not None and item.integer:
            value = int(value)
    elif isinstance(item, TextItem):
        widget = st.text_area if item.long else st.text_input
        value = widget(label, max_chars=item.max_length, key=key)
    elif isinstance(item, YesNoItem):
        names = {True: t("form.yes", lang), False: t("form.no", lang)}
        value = st.radio(
            label,
            [True, False],
            index=None,
            format_func=names.__getitem__,
            horizontal=True,
            key=key,
        )
    elif isinstance(item, DateItem):
        earliest, latest = date_range()
        picked = st.date_input(
            label,
            value=None,
            min_value=earliest,
            max_value=latest,
            format="DD.MM.YYYY",
            key=key,
        )
        value = picked.isoformat() if isinstance(picked, date) else None
    else:  # pragma: no cover - the model has no other kinds
        raise TypeError(type(item).__name__)
    answers[item.id] = value
    if help_text:
        # Visible text, not a hover tooltip: phones have no hover.
        st.caption(help_text)
    _show_problems(problems_for(item.id), lang)


def _battery(
    form: Form,
    item: BatteryItem,
    answers: MutableMapping[str, Any],
    lang: str,
    problems_for: ProblemsFor,
    label: str,
    help_text: str | None,
) -> None:
    """One radio group per statement, stacked: readable on a phone, one label each."""
    q = form.questionnaire
    options = q.scale_of(item).options
    labels = {o.code: q.text(o.label, lang) for o in options}
    with st.container(key=battery_key(item.id)):
        st.markdown(f"**{label}**")
        if help_text:
            st.caption(help_text)
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


def _multi(
    form: Form,
    item: MultiChoiceItem,
    answers: MutableMapping[str, Any],
    lang: str,
    label: str,
    help_text: str | None,
) -> list[Any]:
    """A labelled group of check boxes (easier to hit on a phone than a multiselect)."""
    q = form.questionnaire
    st.markdown(f"**{label}**")
    if help_text:
        st.caption(help_text)
    chosen = set(answers.get(item.id) or [])
    picked: list[Any] = []
    for option in q.scale_of(item).options:
        key = widget_key(q.id, f"{item.id}.{option.code}")
        _seed(key, option.code in chosen)
        if st.checkbox(q.text(option.label, lang), key=key):
            picked.append(option.code)
    return picked


def _seed(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _to_widget(item: Item, value: Any) -> Any:
    """The stored answer as the widget holds it (dates are ISO text in the answers)."""
    if isinstance(item, DateItem) and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def _show_problems(problems: list[Problem], lang: str) -> None:
    for problem in problems:
        if problem.severity == "error":
            st.error(problem.message(lang), icon=":material/error:")
        else:
            st.warning(problem.message(lang), icon=":material/help:")
