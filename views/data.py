"""Data: upload incident counts and population (CSV/XLSX, tidy or BKA layout).

An upload is imported at once and shown as a preview with every row-level problem; nothing
is saved until the manager presses "save". Bad rows either block the upload (all of them are
listed) or, if the manager chooses, are left out and listed. Saved datasets are listed with
source, years and row count, and can be deleted.

An upload is read once: the result is kept in the session under the upload's id, so the
page's reruns (every click, the "skip bad rows" box aside) show it without parsing the file
again. The size, zip and encoding limits are enforced by ``sources`` before parsing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, MutableMapping
from typing import Any

import pandas as pd
import streamlit as st

from core import ImportResult, InvalidInput, Problem, escape_markdown, format_integer, t
from sources import read_incidents, read_population
from storage import DatasetKind
from views._session import data_changed, page_frame, workspace

PREVIEW_ROWS = 50
#: The session's last read upload: ((kind, upload id, skip), result or the refusal).
PARSED_KEY = "manager.data.parsed"


def render() -> None:
    _manager, lang = page_frame("manager.data.title")
    ws = workspace()
    kinds = [DatasetKind.INCIDENTS.value, DatasetKind.POPULATION.value]
    kind = DatasetKind(
        st.radio(
            t("manager.data.kind", lang),
            kinds,
            format_func=lambda k: t(f"manager.data.kind.{k}", lang),
            horizontal=True,
            key="manager.data.kind",
        )
    )
    st.caption(t(f"manager.data.expected.{kind.value}", lang))
    upload = st.file_uploader(
        t("manager.data.upload", lang), type=["csv", "xlsx", "txt"], key=f"manager.data.file.{kind}"
    )
    skip = st.checkbox(t("manager.data.skip_bad_rows", lang), key="manager.data.skip")
    if upload is not None:
        parsed = parsed_upload(
            st.session_state, kind, upload.file_id, upload.name, upload.getvalue, skip
        )
        _preview(kind, upload.name, parsed, lang)
    st.subheader(t("manager.data.saved", lang))
    saved = ws.datasets.list()
    if not saved:
        st.caption(t("manager.data.none_saved", lang))
    for summary in saved:
        columns = st.columns([5, 1])
        columns[0].write(
            t(
                "manager.data.saved_line",
                lang,
                kind=t(f"manager.data.kind.{summary.kind.value}", lang),
                source=escape_markdown(summary.source),
                years=", ".join(str(y) for y in summary.years),
                rows=format_integer(summary.row_count, lang),
                layout=summary.layout,
                saved_on=summary.saved_on.isoformat(),
            )
        )
        if columns[1].button(
            t("manager.data.delete", lang), key=f"manager.data.delete.{summary.id}"
        ):
            ws.datasets.delete(summary.id)
            data_changed()
            st.rerun()


def parsed_upload(
    state: MutableMapping[Any, Any],
    kind: DatasetKind,
    upload_id: str,
    filename: str,
    content: Callable[[], bytes],
    skip: bool,
) -> ImportResult | InvalidInput:
    """The upload read by ``sources`` once per file (and choice of kind and skipping), kept in
    the session ``state``; a refused file is kept as its :class:`InvalidInput`. Only the last
    upload is kept, so a session holds at most one parsed file."""
    key = (kind.value, upload_id, skip)
    cached = state.get(PARSED_KEY)
    if isinstance(cached, tuple) and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]
    reader = read_incidents if kind is DatasetKind.INCIDENTS else read_population
    result: ImportResult | InvalidInput
    try:
        result = reader(io.BytesIO(content()), filename=filename, skip_bad_rows=skip)
    except InvalidInput as error:
        result = error
    state[PARSED_KEY] = (key, result)
    return result


def _preview(
    kind: DatasetKind, filename: str, parsed: ImportResult | InvalidInput, lang: str
) -> None:
    if isinstance(parsed, InvalidInput):
        error = parsed
        st.error(
            t(
                "manager.data.rejected",
                lang,
                count=format_integer(len(error.problems), lang),
                file=escape_markdown(filename),
            )
        )
        _problem_table(error.problems, lang)
        return
    result = parsed
    st.success(
        t(
            "manager.data.read_ok",
            lang,
            rows=format_integer(len(result.table), lang),
            layout=result.layout,
        )
    )
    if result.skipped:
        st.warning(t("manager.data.skipped", lang, count=format_integer(len(result.skipped), lang)))
        _problem_table(result.skipped, lang)
    for warning in result.warnings:
        st.warning(warning.message(lang))
    st.dataframe(result.table.head(PREVIEW_ROWS), hide_index=True)
    if len(result.table) > PREVIEW_ROWS:
        st.caption(
            t(
                "manager.data.preview_more",
                lang,
                shown=PREVIEW_ROWS,
                rows=format_integer(len(result.table), lang),
            )
        )
    if st.button(t("manager.data.save", lang), type="primary", key="manager.data.save"):
        summary = workspace().datasets.save(kind, result, source=filename)
        data_changed()
        st.success(
            t(
                "manager.data.saved_ok",
                lang,
                source=escape_markdown(summary.source),
                rows=format_integer(summary.row_count, lang),
            )
        )


def _problem_table(problems: list[Problem], lang: str) -> None:
    """Every problem with where it is: row, column, field and what is expected."""
    st.dataframe(
        pd.DataFrame(
            {
                t("manager.col.row", lang): [p.location.row or p.location.line for p in problems],
                t("manager.col.column", lang): [p.location.field or "" for p in problems],
                t("manager.col.problem", lang): [p.message(lang) for p in problems],
            }
        ),
        hide_index=True,
    )
