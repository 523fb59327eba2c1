"""Exports: the responses (CSV, XLSX, SPSS) with the codebook, the ranking (CSV, XLSX) and
the HTML report "Sicherheitsanalyse <Kommune> <Jahr>" with the manager's recommendations."""

from __future__ import annotations

import streamlit as st

from reporting import field_label
from reporting.workspace import is_demo, report_filename, report_html, top_fields
from survey import t
from survey._exports import (
    codebook_csv,
    ranking_csv,
    ranking_xlsx,
    responses_csv,
    responses_sav,
    responses_xlsx,
)
from views._session import (
    choose_questionnaire,
    data_version,
    demo_banner,
    page_frame,
    workspace,
)
from views.priorities import cached_analysis, cached_inputs


@st.cache_data(show_spinner=False, max_entries=12)
def _responses_file(questionnaire_id: str, version: str, lang: str, kind: str) -> bytes:
    """The responses export of ``kind`` (csv, xlsx, sav), made once per data version."""
    inputs = cached_inputs(questionnaire_id)
    if kind == "sav":
        return responses_sav(inputs.responses, inputs.questionnaire, lang)
    if kind == "xlsx":
        return responses_xlsx(inputs.responses, inputs.questionnaire, lang)
    return responses_csv(inputs.responses)


def render() -> None:
    _manager, lang = page_frame("manager.exports.title")
    record = choose_questionnaire(lang)
    if record is None:
        return
    ws = workspace()
    version = data_version(record.id)
    inputs = cached_inputs(record.id)
    catalogue = ws.catalogue
    st.subheader(t("manager.exports.responses", lang))
    st.caption(t("manager.exports.responses_hint", lang, count=len(inputs.responses)))
    columns = st.columns(4)
    columns[0].download_button(
        "CSV",
        _responses_file(record.id, version, lang, "csv"),
        file_name=f"{record.id}_antworten.csv",
        mime="text/csv",
        key="manager.exports.responses_csv",
    )
    columns[1].download_button(
        "XLSX",
        _responses_file(record.id, version, lang, "xlsx"),
        file_name=f"{record.id}_antworten.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="manager.exports.responses_xlsx",
    )
    columns[2].download_button(
        "SPSS (.sav)",
        _responses_file(record.id, version, lang, "sav"),
        file_name=f"{record.id}_antworten.sav",
        mime="application/octet-stream",
        key="manager.exports.responses_sav",
    )
    columns[3].download_button(
        t("manager.exports.codebook", lang),
        codebook_csv(inputs.questionnaire, lang),
        file_name=f"{record.id}_codebuch.csv",
        mime="text/csv",
        key="manager.exports.codebook_csv",
    )

    _base, analysis = cached_analysis(
        record.id,
        area=str(st.session_state.get("manager.priorities.municipality") or ""),
        reference=str(st.session_state.get("manager.priorities.reference") or ""),
        year=st.session_state.get("manager.priorities.year"),
        perceived=float(st.session_state.get("manager.priorities.weight_perceived", 0.5)),
        registered=float(st.session_state.get("manager.priorities.weight_registered", 0.5)),
    )
    st.subheader(t("manager.exports.ranking", lang))
    if isinstance(analysis, list):
        for problem in analysis:
            st.error(problem.message(lang))
        return
    if is_demo(analysis.area, inputs.questionnaire):
        demo_banner(lang)
    left, right = st.columns(2)
    left.download_button(
        "CSV",
        ranking_csv(analysis.ranking, lang, catalogue),
        file_name=f"{record.id}_rangfolge.csv",
        mime="text/csv",
        key="manager.exports.ranking_csv",
    )
    right.download_button(
        "XLSX",
        ranking_xlsx(analysis.ranking, lang, catalogue),
        file_name=f"{record.id}_rangfolge.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="manager.exports.ranking_xlsx",
    )

    st.subheader(t("manager.exports.report", lang))
    st.caption(t("manager.exports.report_hint", lang))
    municipality = st.text_input(
        t("manager.exports.municipality", lang),
        value=inputs.questionnaire.meta.municipality or "",
        key=f"manager.exports.municipality.{record.id}",
    )
    recommendations: dict[str, str] = {}
    for field_id in top_fields(analysis):
        recommendations[field_id] = st.text_area(
            t("manager.exports.recommendation", lang, field=field_label(catalogue, field_id, lang)),
            key=f"manager.exports.recommendation.{record.id}.{field_id}",
            max_chars=5000,
        )
    document = report_html(
        analysis,
        inputs,
        catalogue,
        lang,
        recommendations={k: v for k, v in recommendations.items() if v.strip()},
        municipality=municipality.strip() or None,
    )
    name = municipality.strip() or inputs.questionnaire.meta.municipality or analysis.area
    st.download_button(
        t("manager.exports.download_report", lang),
        document.encode("utf-8"),
        file_name=report_filename(name, analysis.year),
        mime="text/html",
        type="primary",
        key="manager.exports.report",
    )
