"""The overview's publishing and letter-kit panels: upload and publish a questionnaire (its
problems and codebook diff first), preview it, close the default survey, and the letters of
a code batch.

Thin: the rules are :mod:`app._publishing` and :mod:`app._letters`; this module shows their
results and asks before anything changes.
"""

from __future__ import annotations

import io

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from app import (
    DEFAULT_QUESTIONNAIRE_ID,
    PublishPlan,
    PublishStatus,
    batch_letters,
    default_survey_beside_others,
    diff_table,
    plan_publication,
    publish_questionnaire_text,
    published_message,
    questionnaire_text,
    read_codes_file,
)
from core import InvalidInput, Location, Problem, t
from reporting import letters_docx, letters_pdf
from storage import CodeBatch, QuestionnaireState
from views._public import start_preview
from views._session import data_changed, workspace

UPLOAD_KEY = "manager.publish.upload"
PUBLISHED_KEY = "manager.publish.done"
LETTERS_KEY = "manager.letters.made"


def publish_panel(lang: str) -> None:
    """Upload a questionnaire file; see its problems or its diff; publish on a click."""
    with st.expander(t("publishing.page.title", lang), expanded=False):
        done = st.session_state.pop(PUBLISHED_KEY, None)
        if done:
            st.success(done)
        uploaded = st.file_uploader(
            t("publishing.page.upload", lang), type=["yaml", "yml"], key=UPLOAD_KEY
        )
        if uploaded is None:
            st.caption(t("publishing.page.hint", lang))
            return
        text = _text_of(uploaded.name, uploaded.getvalue(), lang)
        if text is None:
            return
        store = workspace().store
        plan = plan_publication(store, text, uploaded.name, lang)
        if not _show_problems(plan, lang):
            return
        assert plan.questionnaire is not None  # a plan without errors has its questionnaire
        if plan.status is PublishStatus.UNCHANGED:
            st.info(
                t(
                    "publishing.unchanged",
                    lang,
                    id=plan.questionnaire.id,
                    revision=plan.questionnaire.revision,
                )
            )
            return
        _show_diff(plan, lang)
        if plan.needs_new_version:
            st.warning(
                t(
                    "storage.publish.has_responses",
                    lang,
                    id=plan.questionnaire.id,
                    count=plan.responses,
                )
            )
        label = {
            PublishStatus.NEW: "publishing.page.publish_new",
            PublishStatus.REVISION: "publishing.page.publish_revision",
            PublishStatus.NEW_VERSION: "publishing.page.publish_new_version",
        }[plan.status or PublishStatus.NEW]
        if st.button(t(label, lang), type="primary", key="manager.publish.button"):
            _publish(text, uploaded.name, plan, lang)


def _text_of(filename: str, data: bytes, lang: str) -> str | None:
    try:
        return questionnaire_text(data, filename)
    except InvalidInput as error:
        for problem in error.problems:
            st.error(problem.render(lang))
        st.info(t("publishing.nothing_changed", lang))
        return None


def _show_problems(plan: PublishPlan, lang: str) -> bool:
    """Every problem with its line; ``False`` when there are errors (nothing may change)."""
    for problem in plan.problems:
        (st.error if problem.severity == "error" else st.warning)(problem.render(lang))
    if plan.errors:
        st.info(t("publishing.nothing_changed", lang))
        return False
    return True


def _show_diff(plan: PublishPlan, lang: str) -> None:
    if plan.diff is None:
        return
    st.markdown(f"**{t('publishing.diff_title', lang, revision=plan.current_revision)}**")
    if plan.diff.empty:
        st.caption(t("publishing.diff_empty", lang))
    else:
        # A plain table: every change readable at once, in the page's text (and its print).
        st.table(diff_table(plan.diff, lang).set_index(t("publishing.col.change", lang)))


def _publish(text: str, filename: str, plan: PublishPlan, lang: str) -> None:
    store = workspace().store
    try:
        published = publish_questionnaire_text(
            store, text, filename, new_version=plan.needs_new_version, lang=lang
        )
    except InvalidInput as error:  # e.g. a response arrived since the diff was shown
        for problem in error.problems:
            st.error(problem.render(lang))
        st.info(t("publishing.nothing_changed", lang))
        return
    assert published.questionnaire is not None  # a published plan has its questionnaire
    record = store.questionnaire(published.questionnaire.id)
    state = record.state if record is not None else QuestionnaireState.DRAFT
    message = published_message(published, state, lang)
    st.session_state[PUBLISHED_KEY] = message
    st.session_state.pop(UPLOAD_KEY, None)
    data_changed()
    st.rerun()


def preview_button(questionnaire_id: str, lang: str) -> None:
    """Try the survey as a resident; answers are stored as test answers."""
    if st.button(
        t("publishing.page.preview", lang),
        icon=":material/visibility:",
        key=f"manager.preview.{questionnaire_id}",
        help=t("publishing.page.preview_help", lang),
    ):
        start_preview(questionnaire_id)


def close_default_prompt(lang: str) -> None:
    """One click to close the shipped default survey once another survey is open."""
    store = workspace().store
    if not default_survey_beside_others(store):
        return
    st.warning(t("publishing.page.default_open", lang, id=DEFAULT_QUESTIONNAIRE_ID))
    if st.button(t("publishing.page.close_default", lang), key="manager.close_default"):
        store.set_state(DEFAULT_QUESTIONNAIRE_ID, QuestionnaireState.CLOSED.value)
        data_changed()
        st.rerun()


def batch_codes(
    fresh: CodeBatch | None, chosen: str, codes_file: UploadedFile | None
) -> tuple[list[str], list[int] | None, str | None]:
    """The codes of the chosen batch (letters, paper forms): the batch just created still
    has them in memory; an earlier one only in its codes file (the database keeps hashes).
    Returns the codes, their rows in the file and the file's name (``None`` for memory)."""
    if fresh is not None and chosen == fresh.id and codes_file is None:
        return list(fresh.codes), None, None
    if codes_file is not None:
        read = read_codes_file(codes_file.getvalue(), codes_file.name)
        return list(read.codes), list(read.rows), codes_file.name
    raise InvalidInput([Problem(Location(field="codes"), "publishing.letters.need_file")])


def letters_panel(questionnaire_id: str, batch: CodeBatch | None, lang: str) -> None:
    """The letters of a batch: of the batch just created (its codes are still in memory), or
    of an earlier one from its codes file."""
    store = workspace().store
    batches = store.code_batches(questionnaire_id)
    if not batches:
        return
    st.markdown(f"**{t('publishing.letters.title', lang)}**")
    ids = [b.id for b in batches]
    fresh = batch if batch is not None and batch.questionnaire_id == questionnaire_id else None
    with st.form(f"manager.letters.{questionnaire_id}"):
        chosen = st.selectbox(
            t("publishing.letters.batch", lang),
            ids,
            index=ids.index(fresh.id) if fresh is not None and fresh.id in ids else len(ids) - 1,
        )
        codes_file = st.file_uploader(
            t("publishing.letters.codes_file", lang), type=["csv"], key="manager.letters.file"
        )
        url = st.text_input(t("publishing.letters.url", lang), max_chars=200)
        deadline = st.date_input(t("publishing.letters.deadline", lang), value=None)
        make = st.form_submit_button(t("publishing.letters.make", lang))
    if make:
        try:
            codes, rows, source = batch_codes(fresh, str(chosen), codes_file)
            made = batch_letters(
                store,
                str(chosen),
                codes,
                rows=rows,
                source=source,
                url=url or None,
                deadline=deadline,
            )
        except InvalidInput as error:
            for problem in error.problems:
                st.error(problem.render(lang))
            return
        with st.spinner(t("publishing.letters.making", lang)):
            st.session_state[LETTERS_KEY] = (
                made.batch_id,
                letters_pdf(made.kit, made.codes),
                letters_docx(made.kit),
            )
    made_letters = st.session_state.get(LETTERS_KEY)
    if made_letters is None:
        return
    batch_id, pdf, docx = made_letters
    st.success(t("publishing.letters.ready", lang, batch=batch_id))
    downloads = (
        ("pdf", pdf, "application/pdf"),
        (
            "docx",
            docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    )
    for column, (kind, data, mime) in zip(st.columns(2), downloads, strict=True):
        with column:
            st.download_button(
                t(f"publishing.letters.download_{kind}", lang),
                io.BytesIO(data),
                file_name=t(f"publishing.letters.{kind}_name", lang, batch=batch_id),
                mime=mime,
                key=f"manager.letters.download_{kind}",
            )
