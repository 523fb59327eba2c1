"""Exports: responses (CSV, XLSX, SPSS), the codebook alongside, and the ranking.

Pure functions from the codebook-layout DataFrame (:meth:`survey.Store.responses`) and the
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
(scale options; ``nein``/``ja`` for multi-choice options and yes/no items), non-substantive
options ("weiß nicht") as user-missing values, and dates as SPSS dates.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyreadstat
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from survey._action_fields import ActionFieldCatalogue
from survey._codebook import codebook
from survey._model import RESPONSE_META_COLUMNS, Code, Questionnaire, Variable
from survey.i18n import catalogue as message_catalogue
from survey.i18n import current_language, t

#: Published cells with fewer respondents than this are suppressed.
MIN_CELL_SIZE = 5

#: First characters that make a spreadsheet treat a cell as a formula (OWASP), including the
#: full-width forms that some spreadsheet programs normalise.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
#: Control characters XML 1.0 cannot hold (tab, LF and CR are allowed).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

CSV_SEPARATOR = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"

#: Ranking columns in export order; their headers are ``exports.ranking.<column>``.
RANKING_COLUMNS: tuple[str, ...] = (
    "area",
    "district",
    "field",
    "year",
    "rank",
    "rank_low",
    "rank_high",
    "priority",
    "quadrant",
    "reason",
    "cases",
    "population",
    "rate_per_100k",
    "rate_ci_low",
    "rate_ci_high",
    "reference_rate",
    "expected",
    "sir",
    "sir_ci_low",
    "sir_ci_high",
    "sir_p",
    "eb_rate",
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_respondents",
    "n_eff",
    "suppressed",
    "rank_shift",
)
#: Ranking columns computed from survey answers: blanked where respondents < MIN_CELL_SIZE.
SURVEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_eff",
)
RESPONDENTS_COLUMN = "n_respondents"
#: Decimals kept in the published ranking (the analysis keeps full precision).
RANKING_DECIMALS = 4


# --- cell safety ----------------------------------------------------------------------------


def neutralise_formula(value: str) -> str:
    """``value`` with a leading apostrophe if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def escape_free_text(value: object) -> str:
    """A free-text answer made safe for HTML (``<``, ``>``, ``&``, quotes); missing → ``""``.

    Use it wherever a respondent's text is shown in a page or the report.
    """
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
        return ""
    return html.escape(str(value), quote=True)


def _safe_text(series: pd.Series) -> pd.Series:
    """Neutralise formulas in every text cell of ``series`` (missing stays missing)."""
    text = series.astype("string")
    return text.mask(text.str.contains(_FORMULA_PATTERN, regex=True, na=False), "'" + text)


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


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


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


def _write_sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` as a sheet with a bold, frozen header row (cells already safe)."""
    sheet = workbook.create_sheet(title=title)
    assert isinstance(sheet, WriteOnlyWorksheet)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(str(name)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in frame.astype(object).itertuples(index=False, name=None):
        sheet.append([_xlsx_value(v) for v in row])


def frames_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Several tables as one workbook, one sheet per entry, every text cell neutralised."""
    workbook = Workbook(write_only=True)
    for title, frame in sheets.items():
        _write_sheet(workbook, title, _safe_frame(frame))
    buffer = io.BytesIO()
    workbook.save(buffer)
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


def codebook_frame(questionnaire: Questionnaire, lang: str | None = None) -> pd.DataFrame:
    """The loader's codebook (one row per variable) with headers in ``lang``."""
    frame = codebook(questionnaire, lang or current_language())
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

_NO, _YES = 0, 1
#: What SPSS keeps of a variable label and of a value label (bytes of UTF-8).
SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
SPSS_FILE_LABEL_BYTES = 64
#: Numeric user-missing values SPSS accepts per variable as a discrete list.
_MAX_DISCRETE_MISSING = 3


def _value_labels(variable: Variable, questionnaire: Questionnaire, lang: str) -> dict[Any, str]:
    if variable.kind in ("multi_option", "yesno"):
        return {
            _NO: t("questionnaire.codebook.no", lang),
            _YES: t("questionnaire.codebook.yes", lang),
        }
    return {option.code: questionnaire.text(option.label, lang) for option in variable.options}


def _measure(variable: Variable) -> str:
    if variable.kind == "number":
        return "scale"
    if variable.kind == "statement" or (
        variable.kind == "single" and variable.tags and variable.integer
    ):
        return "ordinal"
    return "nominal"


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
            continue
        column_labels.append(_safe_label(questionnaire.text(variable.label, lang)))
        labels = _value_labels(variable, questionnaire, lang)
        if labels:
            value_labels[variable.id] = {
                code: _safe_label(label, SPSS_VALUE_LABEL_BYTES) for code, label in labels.items()
            }
        measures[variable.id] = _measure(variable)
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
    label = neutralise_formula(_XML_ILLEGAL.sub("", text))
    if len(label.encode("utf-8")) <= limit:
        return label
    ellipsis = "…"
    budget = limit - len(ellipsis.encode("utf-8"))
    cut = label.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut.rstrip() + ellipsis


# --- ranking --------------------------------------------------------------------------------


def suppress_small_cells(
    frame: pd.DataFrame,
    columns: Sequence[str] = SURVEY_FIGURE_COLUMNS,
    respondents: str = RESPONDENTS_COLUMN,
    minimum: int = MIN_CELL_SIZE,
) -> pd.DataFrame:
    """A copy with ``columns`` blanked in every row based on 1 to ``minimum`` − 1 respondents.

    The row keeps its other figures (registered crime is not about respondents) and gets
    ``suppressed = True``.
    """
    out = frame.copy()
    if respondents not in out.columns:
        return out
    counts = out[respondents].astype("Float64").fillna(0)
    # 0 respondents: the field has no survey figure at all, so there is nothing to hide
    small = (counts > 0) & (counts < minimum)
    for column in columns:
        if column in out.columns:
            out[column] = out[column].astype("Float64").mask(small)
    previous = (
        out["suppressed"].astype("boolean").fillna(False)
        if "suppressed" in out.columns
        else pd.Series(False, index=out.index, dtype="boolean")
    )
    out["suppressed"] = (previous | small).astype("boolean")
    return out


def ranking_table(
    ranking: pd.DataFrame,
    lang: str | None = None,
    catalogue: ActionFieldCatalogue | None = None,
) -> pd.DataFrame:
    """The ranking as published: suppressed, labelled columns in a fixed order.

    Keeps the known :data:`RANKING_COLUMNS` that are present (the reason in ``lang``),
    translates field ids (with ``catalogue``) and quadrant classes, rounds decimals to
    :data:`RANKING_DECIMALS` places and names the columns with the catalogue's headers
    (German by default).
    """
    lang = lang or current_language()
    table = suppress_small_cells(ranking)
    if lang != "de" and "reason_en" in table.columns:
        table["reason"] = table["reason_en"]
    if catalogue is not None and "field" in table.columns:
        labels = {f.id: f.label.get(lang) or f.label.get("de") or f.id for f in catalogue.fields}
        table["field"] = table["field"].map(lambda f: labels.get(f, f))
    if "quadrant" in table.columns:
        table["quadrant"] = table["quadrant"].map(lambda q: _quadrant_label(q, lang))
    if "suppressed" in table.columns:
        table["suppressed"] = table["suppressed"].map(
            lambda s: t("questionnaire.codebook.yes" if s else "questionnaire.codebook.no", lang),
            na_action="ignore",
        )
    columns = [c for c in RANKING_COLUMNS if c in table.columns]
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
