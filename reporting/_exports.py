"""Exports: responses (CSV, XLSX, SPSS), the codebook alongside, and the ranking.

Pure functions from the codebook-layout DataFrame (:meth:`storage.Store.responses`) and the
:class:`~survey.Questionnaire` to file contents (``bytes``), so a page can offer them as
downloads and the CLI can write them.

Who gets what:

* The raw response exports are for the signed-in prevention manager only. They are
  individual (anonymous) records, not published aggregates, so the < 5 suppression rule
  does not apply to them; they must not be published as they are.
* The ranking export publishes aggregates: every survey figure of a row based on fewer than
  :data:`MIN_CELL_SIZE` respondents is blanked and the row marked ``suppressed``.

Spreadsheet safety (OWASP "CSV injection"): every text cell of every export that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms) gets
a leading apostrophe, so Excel and LibreOffice show it as text instead of running it as a
formula. Numbers are written as numbers and are not touched. Characters that XML (and so
XLSX) cannot hold are removed from XLSX cells.

Formats: CSV is UTF-8 with BOM (so Excel detects the encoding), ``;`` separated, with a
German decimal comma. SPSS ``.sav`` carries variable labels (question texts), value labels
(scale options; ``nein``/``ja`` for multi-choice options and yes/no items; the response mode,
``keyed`` = "Papier (erfasst)"), non-substantive options ("weiß nicht") as user-missing
values, and dates as SPSS dates. The codebook lists the response mode after the
questionnaire's variables: it is a design variable of every response.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyreadstat
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core import (
    FORMULA_PATTERN,
    current_language,
    localized,
    neutralise_formula,
    remove_illegal_text,
    t,
)
from core import catalogue as message_catalogue
from scoring import PUBLISHED_RANKING_COLUMNS, suppress_ranking
from survey import (
    MODE_COLUMN,
    RESPONSE_META_COLUMNS,
    ActionFieldCatalogue,
    Code,
    Questionnaire,
    Variable,
    codebook,
    kind_of_variable,
    mode_labels,
)
from survey.kinds import LABEL_SEPARATOR

CSV_SEPARATOR = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"

#: Decimals kept in the published ranking (the analysis keeps full precision).
RANKING_DECIMALS = 4

# --- cell safety ----------------------------------------------------------------------------


def _safe_text(series: pd.Series) -> pd.Series:
    """Neutralise formulas in every text cell of ``series`` (missing stays missing)."""
    text = series.astype("string")
    return text.mask(text.str.contains(FORMULA_PATTERN, regex=True, na=False), "'" + text)


def _is_text(series: pd.Series) -> bool:
    if series.dtype == object:
        return not _holds_dates(series)
    return pd.api.types.is_string_dtype(series.dtype)


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text column neutralised and safe column names."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = _safe_text(out[column])
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


# --- CSV ------------------------------------------------------------------------------------


def _csv_cells(series: pd.Series) -> pd.Series:
    """One column as CSV text: dates ISO, decimals with a comma, missing empty."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return cast("pd.Series", series.dt.strftime("%Y-%m-%d").astype("string"))
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Int64").astype("string")
    if pd.api.types.is_float_dtype(series.dtype):
        return series.astype("Float64").astype("string").str.replace(".", CSV_DECIMAL, regex=False)
    return series.astype("string")


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Any table as an Excel-friendly German CSV (UTF-8 BOM, ``;``, decimal comma).

    Every text cell is neutralised against formula injection.
    """
    safe = _safe_frame(frame)
    cells = pd.DataFrame({name: _csv_cells(safe[name]) for name in safe.columns})
    return cells.to_csv(sep=CSV_SEPARATOR, index=False, na_rep="", lineterminator="\r\n").encode(
        CSV_ENCODING
    )


def responses_csv(responses: pd.DataFrame) -> bytes:
    """The responses (codebook layout) as CSV: one row per response, one column per variable."""
    return frame_csv(responses)


# --- XLSX -----------------------------------------------------------------------------------


# openpyxl's write-only mode needs ~90 s for 100,000 responses × 85 variables (it builds an
# element per cell in pure Python); this writer renders each column at once with pandas
# string operations and streams the sheet into the zip in blocks of rows (~10 s, bounded
# memory). openpyxl still reads the result back in the tests.

_XLSX_EPOCH = np.datetime64("1899-12-30", "D")
#: Excel keeps at most this many characters in a cell.
XLSX_MAX_TEXT = 32_767
_XLSX_ROWS_PER_BLOCK = 5_000
_STYLE_DATE = 1
_STYLE_HEADER = 2
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _xml_text(series: pd.Series) -> pd.Series:
    """Text for an XML text node: no illegal characters, escaped, within Excel's cell limit."""
    # Python's re, not the Arrow kernel: a lone surrogate cannot even pass into Arrow's UTF-8.
    text = series.astype(object).map(remove_illegal_text, na_action="ignore").astype("string")
    text = text.str.slice(0, XLSX_MAX_TEXT)
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.str.replace(raw, escaped, regex=False)
    return text


def _xlsx_cells(series: pd.Series, letter: str, rows: pd.Series) -> pd.Series:
    """One column as ``<c>`` elements (``""`` where the value is missing: no cell)."""
    series = series.reset_index(drop=True)
    ref = '<c r="' + letter + rows
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or _holds_dates(series):
        stamps = pd.to_datetime(series).to_numpy(dtype="datetime64[D]")
        serial = pd.Series((stamps - _XLSX_EPOCH).astype("int64")).astype("string")
        cells = ref + f'" s="{_STYLE_DATE}"><v>' + serial + "</v></c>"
        return cells.where(series.notna(), "")
    if pd.api.types.is_bool_dtype(series.dtype):
        flags = series.astype("boolean").astype("Int64").astype("string")
        return (ref + '" t="b"><v>' + flags + "</v></c>").fillna("")
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("Float64") if pd.api.types.is_float_dtype(series.dtype) else series
        finite = numbers.where(~numbers.isin([np.inf, -np.inf]))
        return (ref + '"><v>' + finite.astype("string") + "</v></c>").fillna("")
    text = _xml_text(series)
    cells = ref + '" t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
    return cells.fillna("")


def _sheet_blocks(frame: pd.DataFrame) -> Iterator[str]:
    """The worksheet XML of ``frame`` in blocks: bold frozen header, then the rows."""
    letters = [get_column_letter(i + 1) for i in range(len(frame.columns))]
    yield (
        _XML_HEAD + f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews><sheetData>"
    )
    header = pd.Series([str(c) for c in frame.columns], dtype="string")
    yield (
        '<row r="1">'
        + "".join(
            f'<c r="{letter}1" s="{_STYLE_HEADER}" t="inlineStr"><is><t xml:space="preserve">'
            f"{text}</t></is></c>"
            for letter, text in zip(letters, _xml_text(header), strict=True)
        )
        + "</row>"
    )
    for start in range(0, len(frame), _XLSX_ROWS_PER_BLOCK):
        block = frame.iloc[start : start + _XLSX_ROWS_PER_BLOCK]
        numbers = pd.Series(np.arange(start + 2, start + 2 + len(block)), dtype="int64")
        rows = numbers.astype("string")
        columns = [
            _xlsx_cells(block[name], letter, rows).to_numpy(dtype=object)
            for name, letter in zip(block.columns, letters, strict=True)
        ]
        grid = np.column_stack(columns) if columns else np.empty((len(block), 0), dtype=object)
        yield "".join(
            f'<row r="{number}">' + "".join(cells) + "</row>"
            for number, cells in zip(numbers, grid, strict=True)
        )
    yield "</sheetData></worksheet>"


def _workbook_parts(titles: Sequence[str]) -> dict[str, str]:
    """Every part of the package except the worksheets themselves."""
    count = len(titles)
    sheets = "".join(
        f'<sheet name="{html.escape(title[:31])}" sheetId="{i}" r:id="rId{i}"/>'
        for i, title in enumerate(titles, start=1)
    )
    relations = "".join(
        f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    return {
        "[Content_Types].xml": _XML_HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' + overrides + "</Types>",
        "_rels/.rels": _XML_HEAD + f'<Relationships xmlns="{_PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": _XML_HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        f"<sheets>{sheets}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": _XML_HEAD
        + f'<Relationships xmlns="{_PACKAGE_RELS}">'
        + relations
        + f'<Relationship Id="rId{count + 1}" Type="{_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": _STYLES,
    }


def frames_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Several tables as one workbook, one sheet per entry, every text cell neutralised.

    Numbers stay numbers, days become Excel dates (``yyyy-mm-dd``), missing values empty
    cells; the header row is bold and frozen.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, text in _workbook_parts(list(sheets)).items():
            package.writestr(name, text)
        for i, frame in enumerate(sheets.values(), start=1):
            with package.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                for block in _sheet_blocks(_safe_frame(frame)):
                    part.write(block.encode("utf-8"))
    return buffer.getvalue()


def responses_xlsx(
    responses: pd.DataFrame, questionnaire: Questionnaire, lang: str | None = None
) -> bytes:
    """The responses as XLSX; the second sheet "Codebuch" is the questionnaire's codebook."""
    return frames_xlsx(
        {
            t("exports.sheet_responses", lang): responses,
            t("exports.sheet_codebook", lang): codebook_frame(questionnaire, lang),
        }
    )


def read_xlsx_sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """The cell values of every sheet of a workbook (header row first); for tests and checks."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets: dict[str, list[tuple[Any, ...]]] = {}
        for sheet in workbook.worksheets:
            rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
            # read-only mode leaves out trailing empty cells
            width = max((len(row) for row in rows), default=0)
            sheets[sheet.title] = [row + (None,) * (width - len(row)) for row in rows]
        return sheets
    finally:
        workbook.close()


# --- codebook -------------------------------------------------------------------------------


def mode_codebook_row(lang: str | None = None) -> dict[str, str]:
    """The codebook row of the response mode: a design variable of every response (the
    ``mode`` column of the exports) with its codes and their labels."""
    labels = mode_labels(lang)
    return {
        "variable": MODE_COLUMN,
        "item_id": "",
        "question": t(f"exports.meta.{MODE_COLUMN}", lang),
        "kind": "meta",
        "codes": LABEL_SEPARATOR.join(f"{mode}={label}" for mode, label in labels.items()),
        "non_substantive": "",
        "tags": "",
        "design": MODE_COLUMN,
    }


def codebook_frame(questionnaire: Questionnaire, lang: str | None = None) -> pd.DataFrame:
    """The loader's codebook (one row per variable), then the row of the response mode (a
    column of every responses export), with headers in ``lang``."""
    lang = lang or current_language()
    variables = codebook(questionnaire, lang)
    mode = pd.DataFrame([mode_codebook_row(lang)], columns=variables.columns, dtype="string")
    frame = pd.concat([variables, mode], ignore_index=True)
    known = message_catalogue()
    return frame.rename(
        columns={
            c: t(f"exports.codebook.{c}", lang)
            for c in frame.columns
            if f"exports.codebook.{c}" in known
        }
    )


def codebook_csv(questionnaire: Questionnaire, lang: str | None = None) -> bytes:
    return frame_csv(codebook_frame(questionnaire, lang))


def codebook_xlsx(questionnaire: Questionnaire, lang: str | None = None) -> bytes:
    return frames_xlsx({t("exports.sheet_codebook", lang): codebook_frame(questionnaire, lang)})


# --- SPSS -----------------------------------------------------------------------------------

#: What SPSS keeps of a variable label and of a value label (bytes of UTF-8).
SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
SPSS_FILE_LABEL_BYTES = 64
#: Numeric user-missing values SPSS accepts per variable as a discrete list.
_MAX_DISCRETE_MISSING = 3


def _sav_column(series: pd.Series) -> pd.Series:
    """One column in a form pyreadstat writes: doubles, dates, or strings ("" = missing)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or _holds_dates(series):
        return pd.Series(
            [None if pd.isna(v) else pd.Timestamp(v).date() for v in series],
            index=series.index,
            dtype=object,
        )
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("Float64").to_numpy(dtype="float64", na_value=math.nan)
        return pd.Series(numbers, index=series.index)
    text = _safe_text(series)
    return text.fillna("").astype(object)


def _holds_dates(series: pd.Series) -> bool:
    """An object column of :class:`datetime.date` values (as some builders hand over days)."""
    if series.dtype != object:
        return False
    present = series.dropna()
    return len(present) > 0 and all(isinstance(v, dt.date) for v in present)


def _sav_user_missing(variable: Variable) -> list[Any] | None:
    if variable.scale is None or not variable.integer:
        return None
    codes: list[Code] = variable.scale.non_substantive_codes()
    if not codes or len(codes) > _MAX_DISCRETE_MISSING:
        return None
    return list(codes)


def write_responses_sav(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    path: str | Path,
    lang: str | None = None,
) -> None:
    """Write the responses as an SPSS ``.sav`` file with variable and value labels.

    Variable names are the questionnaire's ids (the loader guarantees they are SPSS-safe);
    string widths are the longest value in bytes. Non-substantive options become
    user-missing values, so SPSS leaves them out of statistics by default but keeps them.
    """
    lang = lang or current_language()
    variables = {v.id: v for v in questionnaire.variables()}
    data = pd.DataFrame({name: _sav_column(responses[name]) for name in responses.columns})
    column_labels: list[str | None] = []
    value_labels: dict[str, dict[Any, str]] = {}
    measures: dict[str, str] = {}
    user_missing: dict[str, list[Any]] = {}
    for name in responses.columns:
        variable = variables.get(str(name))
        if variable is None:
            column_labels.append(t(f"exports.meta.{name}", lang) if _is_meta(name) else None)
            measures[str(name)] = "nominal"
            if name == MODE_COLUMN:
                # A design variable: each mode's label, so SPSS tables read "Papier (erfasst)".
                value_labels[MODE_COLUMN] = {
                    mode: _safe_label(label, SPSS_VALUE_LABEL_BYTES)
                    for mode, label in mode_labels(lang).items()
                }
            continue
        column_labels.append(_safe_label(questionnaire.text(variable.label, lang)))
        kind = kind_of_variable(variable)
        labels = kind.value_labels(questionnaire, variable, lang)
        if labels:
            value_labels[variable.id] = {
                code: _safe_label(label, SPSS_VALUE_LABEL_BYTES) for code, label in labels.items()
            }
        measures[variable.id] = kind.measure(variable)
        missing = _sav_user_missing(variable)
        if missing:
            user_missing[variable.id] = missing
    pyreadstat.write_sav(
        data,
        str(path),
        file_label=_safe_label(
            questionnaire.text(questionnaire.meta.title, lang), SPSS_FILE_LABEL_BYTES
        ),
        column_labels=column_labels,
        variable_value_labels=value_labels,
        missing_ranges=user_missing,
        variable_measure=measures,
    )


def responses_sav(
    responses: pd.DataFrame, questionnaire: Questionnaire, lang: str | None = None
) -> bytes:
    """The responses as the bytes of an SPSS ``.sav`` file (see :func:`write_responses_sav`)."""
    with tempfile.TemporaryDirectory(prefix="sicherheitsanalyse-") as directory:
        path = Path(directory) / "responses.sav"
        write_responses_sav(responses, questionnaire, path, lang)
        return path.read_bytes()


def _is_meta(name: object) -> bool:
    return name in RESPONSE_META_COLUMNS


def _safe_label(text: str, limit: int = SPSS_VARIABLE_LABEL_BYTES) -> str:
    """A label SPSS keeps whole: neutralised, and cut at a character boundary to ``limit`` bytes.

    A cut label ends in "…", so nobody mistakes it for the full question.
    """
    label = neutralise_formula(remove_illegal_text(text))
    if len(label.encode("utf-8")) <= limit:
        return label
    ellipsis = "…"
    budget = limit - len(ellipsis.encode("utf-8"))
    cut = label.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut.rstrip() + ellipsis


# --- ranking --------------------------------------------------------------------------------


def ranking_table(
    ranking: pd.DataFrame,
    lang: str | None = None,
    catalogue: ActionFieldCatalogue | None = None,
) -> pd.DataFrame:
    """The ranking as published: suppressed, labelled columns in a fixed order.

    Keeps the known :data:`scoring.PUBLISHED_RANKING_COLUMNS` that are present (the reason in ``lang``),
    translates field ids (with ``catalogue``) and quadrant classes, rounds decimals to
    :data:`RANKING_DECIMALS` places and names the columns with the catalogue's headers
    (German by default).
    """
    lang = lang or current_language()
    table = suppress_ranking(ranking, blank_counts=True)
    if lang != "de" and "reason_en" in table.columns:
        table["reason"] = table["reason_en"]
    if catalogue is not None and "field" in table.columns:
        labels = {f.id: localized(f.label, lang, default=f.id) for f in catalogue.fields}
        table["field"] = table["field"].map(lambda f: labels.get(f, f))
    if "quadrant" in table.columns:
        table["quadrant"] = table["quadrant"].map(lambda q: _quadrant_label(q, lang))
    if "suppressed" in table.columns:
        table["suppressed"] = table["suppressed"].map(
            lambda s: t("questionnaire.codebook.yes" if s else "questionnaire.codebook.no", lang),
            na_action="ignore",
        )
    columns = [c for c in PUBLISHED_RANKING_COLUMNS if c in table.columns]
    table = table[columns]
    for column in columns:
        if pd.api.types.is_float_dtype(table[column].dtype):
            table[column] = table[column].round(RANKING_DECIMALS)
    table.columns = [t(f"exports.ranking.{c}", lang) for c in columns]
    return table.reset_index(drop=True)


def _quadrant_label(quadrant: object, lang: str) -> object:
    """The report's label of a 2×2 class; anything unknown is shown as it is."""
    key = f"chart.quadrant.{quadrant}"
    return t(key, lang) if isinstance(quadrant, str) and key in message_catalogue() else quadrant


def ranking_csv(
    ranking: pd.DataFrame,
    lang: str | None = None,
    catalogue: ActionFieldCatalogue | None = None,
) -> bytes:
    """The ranking as German CSV (see :func:`ranking_table` and :func:`frame_csv`)."""
    return frame_csv(ranking_table(ranking, lang, catalogue))


def ranking_xlsx(
    ranking: pd.DataFrame,
    lang: str | None = None,
    catalogue: ActionFieldCatalogue | None = None,
) -> bytes:
    """The ranking as a one-sheet workbook (see :func:`ranking_table`)."""
    return frames_xlsx({t("exports.sheet_ranking", lang): ranking_table(ranking, lang, catalogue)})
