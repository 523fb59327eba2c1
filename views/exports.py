"""Exports: the responses (CSV, XLSX, SPSS) with the codebook, the ranking (CSV, XLSX) and
the report "Sicherheitsanalyse <Kommune> <Jahr>" as PDF, HTML and DOCX with the manager's
recommendations for every ranked field."""

from __future__ import annotations

from functools import partial

import streamlit as st

from app import (
    REPORT_FORMATS,
    REPORT_MIME_TYPES,
    ReportFormat,
    Workspace,
    is_demo,
    report_file,
    report_file_name,
    response_rates,
)
from core import format_integer, t
from reporting import (
    codebook_csv,
    field_label,
    ranking_csv,
    ranking_xlsx,
    responses_csv,
    responses_sav,
    responses_xlsx,
)
from views._cache import Choice, cached_analysis, cached_inputs, remembered_choice
from views._session import (
    choose_questionnaire,
    data_version,
    demo_banner,
    page_frame,
    problem_message,
    workspace,
)

#: The table formats offered for download, with their media types.
RESPONSE_FORMATS: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/octet-stream",
}


@st.cache_data(show_spinner=False, max_entries=12)
def _responses_file(
    key: str, questionnaire_id: str, version: str, lang: str, kind: str, _ws: Workspace
) -> bytes:
    """The responses export of ``kind`` (csv, xlsx, sav), made once per data version.

    Made in the server's media thread when clicked, where no session is known: the page
    binds its municipality's workspace (``_ws``, and ``key`` for the cache)."""
    inputs = cached_inputs(questionnaire_id, _ws)
    if kind == "sav":
        return responses_sav(inputs.responses, inputs.questionnaire, lang)
    if kind == "xlsx":
        return responses_xlsx(inputs.responses, inputs.questionnaire, lang)
    return responses_csv(inputs.responses)


#: The manager's texts (recommendations, municipality name), kept while the session lasts:
#: Streamlit drops a widget's value when its page is left.
TEXTS_KEY = "manager.exports.texts"


def _kept_text_input(
    kept: dict[str, str], key: str, label: str, initial: str, *, area: bool = False
) -> str:
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, initial)
    if area:
        value = st.text_area(label, key=key, max_chars=5000)
    else:
        value = st.text_input(label, key=key, max_chars=200)
    kept[key] = value
    return value


@st.cache_data(show_spinner=False, max_entries=8)
def _report(
    key: str,
    questionnaire_id: str,
    version: str,
    choice: tuple[str, str, int | None, float, float],
    lang: str,
    recommendations: tuple[tuple[str, str], ...],
    municipality: str,
    report_format: ReportFormat,
    _ws: Workspace,
) -> bytes:
    """The report in ``report_format``, made when its button is clicked and again only when
    something in it changed (in the media thread: ``_ws`` as for :func:`_responses_file`)."""
    area, reference, year, perceived, registered = choice
    _base, analysis = cached_analysis(
        questionnaire_id, Choice(area, reference, year, perceived, registered), _ws
    )
    assert not isinstance(analysis, list), "the page shows problems instead of the report"
    return report_file(
        analysis,
        cached_inputs(questionnaire_id, _ws),
        _ws.catalogue,
        lang,
        report_format,
        recommendations=dict(recommendations),
        municipality=municipality or None,
        rates=response_rates(_ws.store, questionnaire_id),
    )


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
    st.caption(
        t("manager.exports.responses_hint", lang, count=format_integer(len(inputs.responses), lang))
    )
    columns = st.columns(4)
    # Deferred: a file is made only when its button is clicked (100,000 responses take
    # seconds per format), then kept per data version.
    for column, (kind, mime) in zip(columns, RESPONSE_FORMATS.items(), strict=False):
        column.download_button(
            t(f"manager.exports.format_{kind}", lang),
            partial(_responses_file, ws.cache_key, record.id, version, lang, kind, ws),
            file_name=t(f"manager.file.responses_{kind}", lang, id=record.id),
            mime=mime,
            key=f"manager.exports.responses_{kind}",
        )
    columns[3].download_button(
        t("manager.exports.codebook", lang),
        codebook_csv(inputs.questionnaire, lang),
        file_name=t("manager.file.codebook_csv", lang, id=record.id),
        mime="text/csv",
        key="manager.exports.codebook_csv",
    )

    # The choice made on the priorities page (area, reference, year, weights), if any.
    _base, analysis = cached_analysis(record.id, remembered_choice(record.id))
    st.subheader(t("manager.exports.ranking", lang))
    if isinstance(analysis, list):
        for problem in analysis:
            st.error(problem_message(problem, lang))
        return
    if is_demo(analysis.area, inputs.questionnaire):
        demo_banner(lang)
    left, right = st.columns(2)
    left.download_button(
        t("manager.exports.format_csv", lang),
        ranking_csv(analysis.ranking, lang, catalogue),
        file_name=t("manager.file.ranking_csv", lang, id=record.id),
        mime=RESPONSE_FORMATS["csv"],
        key="manager.exports.ranking_csv",
    )
    right.download_button(
        t("manager.exports.format_xlsx", lang),
        ranking_xlsx(analysis.ranking, lang, catalogue),
        file_name=t("manager.file.ranking_xlsx", lang, id=record.id),
        mime=RESPONSE_FORMATS["xlsx"],
        key="manager.exports.ranking_xlsx",
    )

    st.subheader(t("manager.exports.report", lang))
    st.caption(t("manager.exports.report_hint", lang))
    kept: dict[str, str] = st.session_state.setdefault(TEXTS_KEY, {})
    municipality = _kept_text_input(
        kept,
        f"manager.exports.municipality.{record.id}",
        t("manager.exports.municipality", lang),
        inputs.questionnaire.meta.municipality or "",
    )
    recommendations: dict[str, str] = {}
    ranked = analysis.ranking[
        (analysis.ranking["area"] == analysis.area) & analysis.ranking["rank"].notna()
    ]
    for field_id in ranked["field"].astype(str):
        text = _kept_text_input(
            kept,
            f"manager.exports.recommendation.{record.id}.{field_id}",
            t("manager.exports.recommendation", lang, field=field_label(catalogue, field_id, lang)),
            "",
            area=True,
        )
        if text.strip():
            recommendations[field_id] = text
    choice = remembered_choice(record.id)
    name = municipality.strip() or None
    report_columns = st.columns(len(REPORT_FORMATS))
    for column, report_format in zip(report_columns, REPORT_FORMATS, strict=True):
        column.download_button(
            t(f"manager.exports.download_report_{report_format}", lang),
            partial(
                _report,
                ws.cache_key,
                record.id,
                data_version(record.id),
                (choice.area, choice.reference, choice.year, choice.perceived, choice.registered),
                lang,
                tuple(sorted(recommendations.items())),
                municipality.strip(),
                report_format,
                ws,
            ),
            file_name=report_file_name(analysis, inputs, report_format, lang, municipality=name),
            mime=REPORT_MIME_TYPES[report_format],
            type="primary" if report_format == "pdf" else "secondary",
            key=f"manager.exports.report_{report_format}",
        )
