"""The paper questionnaire's print panel on the overview: normal or large print, language and
code batch; the codes are those of the batch just created (still in memory) or of an earlier
batch's codes file (the database keeps only hashes of the codes)."""

from __future__ import annotations

import io

import streamlit as st

from app import current_questionnaire, print_forms
from core import InvalidInput, t
from storage import CodeBatch
from views._publishing import batch_codes
from views._session import workspace

PAPER_KEY = "manager.paper.forms"


def paper_print_panel(questionnaire_id: str, batch: CodeBatch | None, lang: str) -> None:
    """The "Papierfragebogen (PDF)" block: options, the button and the download."""
    store = workspace().store
    batches = store.code_batches(questionnaire_id)
    st.markdown(f"**{t('paper.page.print_title', lang)}**")
    if not batches:
        st.caption(t("paper.page.need_batch", lang))
        return
    questionnaire = current_questionnaire(store, questionnaire_id)
    ids = [b.id for b in batches]
    fresh = batch if batch is not None and batch.questionnaire_id == questionnaire_id else None
    with st.form(f"manager.paper.{questionnaire_id}"):
        chosen = st.selectbox(
            t("publishing.letters.batch", lang),
            ids,
            index=ids.index(fresh.id) if fresh is not None and fresh.id in ids else len(ids) - 1,
            key="manager.paper.batch",
        )
        codes_file = st.file_uploader(
            t("publishing.letters.codes_file", lang), type=["csv"], key="manager.paper.file"
        )
        languages = list(questionnaire.meta.languages)
        language = st.radio(
            t("paper.page.language", lang),
            languages,
            index=languages.index(questionnaire.meta.default_language),
            format_func=lambda code: (
                t(f"paper.page.language.{code}", lang) if code in ("de", "en") else code
            ),
            horizontal=True,
            key="manager.paper.language",
        )
        size = st.radio(
            t("paper.page.size", lang),
            ["normal", "large"],
            format_func=lambda s: t(f"paper.page.size.{s}", lang),
            horizontal=True,
            key="manager.paper.size",
        )
        make = st.form_submit_button(t("paper.page.print", lang))
    if make:
        try:
            codes, rows, source = batch_codes(fresh, str(chosen), codes_file)
            with st.spinner(t("paper.page.making", lang)):
                forms = print_forms(
                    store,
                    str(chosen),
                    codes,
                    lang=str(language),
                    large_print=size == "large",
                    rows=rows,
                    source=source,
                )
        except InvalidInput as error:
            for problem in error.problems:
                st.error(problem.render(lang))
            return
        st.session_state[PAPER_KEY] = (forms.batch_id, forms.count, size, forms.pdf)
    made = st.session_state.get(PAPER_KEY)
    if made is None:
        return
    batch_id, count, size, pdf = made
    st.success(t("paper.page.ready", lang, count=count, batch=batch_id))
    st.download_button(
        t("paper.page.download", lang),
        io.BytesIO(pdf),
        file_name=t("paper.page.file_name", lang, batch=batch_id, size=size),
        mime="application/pdf",
        key="manager.paper.download",
    )
