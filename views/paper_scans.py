"""Scans einlesen: upload scanned paper forms, review what the scanner could not read with
certainty, and store the forms with mode ``scanned``.

A scan is read once per upload (kept in the session). Uncertain and contradicting boxes and
every written field are shown as image snippets; the manager decides each (nothing is
preselected for an uncertain box), and the forms are stored only when every decision is made
(:func:`app.store_scanned_forms` checks it again).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import (
    Review,
    ScannedForm,
    ScanResult,
    answer_labels,
    current_questionnaire,
    scan_forms,
    store_scanned_forms,
)
from core import InvalidInput, escape_markdown, format_integer, t
from survey import Questionnaire
from views._session import choose_questionnaire, data_changed, page_frame, workspace

SCAN_KEY = "manager.scans.result"
STORED_KEY = "manager.scans.stored"
SCAN_TYPES = ["pdf", "png", "jpg", "jpeg", "tif", "tiff"]
_NO_ANSWER = "__none__"


def render() -> None:
    _manager, lang = page_frame("paper.scans.title")
    st.caption(t("paper.scans.intro", lang))
    record = choose_questionnaire(lang)
    if record is None:
        return
    store = workspace().store
    stored = st.session_state.pop(STORED_KEY, None)
    if stored is not None:
        st.success(t("paper.scans.stored", lang, count=format_integer(stored, lang)))
    uploads = st.file_uploader(
        t("paper.scans.upload", lang),
        type=SCAN_TYPES,
        accept_multiple_files=True,
        key="manager.scans.files",
    )
    if uploads and st.button(t("paper.scans.read", lang), key="manager.scans.read"):
        with st.spinner(t("paper.scans.reading", lang)):
            read = scan_forms(store, record.id, [(u.name, u.getvalue()) for u in uploads])
        st.session_state[SCAN_KEY] = (record.id, read)
    kept = st.session_state.get(SCAN_KEY)
    if kept is None or kept[0] != record.id:
        return
    result: ScanResult = kept[1]
    if result.problems:
        st.error(t("paper.scans.refused", lang, count=len(result.problems)))
        for problem in result.problems:
            st.error(problem.render(lang))
        return
    questionnaire = current_questionnaire(store, record.id)
    open_count = sum(len(f.reviews) for f in result.forms)
    st.info(
        t(
            "paper.scans.read_summary",
            lang,
            forms=format_integer(len(result.forms), lang),
            pages=format_integer(result.pages, lang),
            reviews=format_integer(open_count, lang),
        )
    )
    if result.blank_pages:
        st.caption(t("paper.scans.blank_pages", lang, count=result.blank_pages))
    with st.form("manager.scans.review"):
        decisions = {
            form.code: _review_form(questionnaire, form, index, lang)
            for index, form in enumerate(result.forms)
        }
        store_now = st.form_submit_button(t("paper.scans.store", lang), type="primary")
    if store_now:
        try:
            outcome = store_scanned_forms(store, record.id, result.forms, decisions)
        except InvalidInput as error:
            st.error(t("paper.scans.not_stored", lang))
            for problem in error.problems:
                st.error(problem.render(lang))
            return
        for problem in outcome.refused:
            st.error(problem.render(lang))
        data_changed()
        st.session_state.pop(SCAN_KEY, None)
        st.session_state[STORED_KEY] = outcome.stored
        st.rerun()


def _review_form(
    questionnaire: Questionnaire, form: ScannedForm, index: int, lang: str
) -> dict[str, Any]:
    """The widgets of one form's reviews; the decisions made so far (answer id -> value)."""
    st.markdown(
        "**"
        + escape_markdown(
            t(
                "paper.scans.form",
                lang,
                number=index + 1,
                code=form.code,
                pages=_pages_text(form.sources),
            )
        )
        + "**"
    )
    if not form.reviews:
        st.caption(t("paper.scans.nothing_to_review", lang))
    decisions: dict[str, Any] = {}
    for review in form.reviews:
        key = f"manager.scans.{index}.{review.answer_id}"
        question = t("paper.scans.question", lang, number=review.number)
        st.image(
            review.image, caption=f"{question} · {t(f'paper.scans.reason.{review.reason}', lang)}"
        )
        labels = answer_labels(questionnaire, review.answer_id, lang)
        decided, value = _decision(review, labels, key, lang)
        if decided:
            decisions[review.answer_id] = value
    return decisions


def _decision(review: Review, labels: dict[Any, str], key: str, lang: str) -> tuple[bool, Any]:
    """The widget of one review: whether it is decided, and the value."""
    question = t("paper.scans.question", lang, number=review.number)

    def label(value: Any) -> str:
        if value == _NO_ANSWER:
            return t("paper.scans.no_answer", lang)
        return labels.get(value, str(value))

    if review.kind == "choice":
        chosen = st.radio(
            question,
            [*review.values, _NO_ANSWER],
            index=None,
            format_func=label,
            horizontal=True,
            key=key,
        )
        if chosen is None:
            return False, None
        return True, None if chosen == _NO_ANSWER else chosen
    if review.kind == "multi":
        ticked = st.multiselect(
            question,
            list(review.values),
            default=[v for v in review.guess or [] if v in review.values],
            format_func=label,
            key=key,
        )
        return bool(st.checkbox(t("paper.scans.checked", lang), key=f"{key}.checked")), ticked
    typed = st.text_input(question, key=key, max_chars=10_000)
    if st.checkbox(t("paper.scans.no_answer", lang), key=f"{key}.empty"):
        return True, None
    return bool(typed.strip()), typed


def _pages_text(sources: tuple[tuple[str, int], ...]) -> str:
    """``scan.pdf 1–8`` for the pages of a form, per file."""
    by_file: dict[str, list[int]] = {}
    for source, page in sources:
        by_file.setdefault(source, []).append(page)
    parts = []
    for source, pages in by_file.items():
        pages.sort()
        contiguous = pages == list(range(pages[0], pages[0] + len(pages)))
        listed = (
            f"{pages[0]}–{pages[-1]}"
            if contiguous and len(pages) > 1
            else ", ".join(map(str, pages))
        )
        parts.append(f"{source} {listed}")
    return "; ".join(parts)
