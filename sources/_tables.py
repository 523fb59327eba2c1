"""Import of incident counts and population tables: tidy CSV/XLSX and the BKA PKS layout.

I/O lives here; the statistics over the imported tables are pure functions in ``scoring``.

Two incident layouts are recognised from the file itself:

``tidy``
    A header row ``area;year;key;count`` (``,``/``;``/tab separated, or the first sheet of an
    XLSX workbook), optionally ``area_name``. ``key`` is a PKS Straftatenschlüssel, an
    action-field id or a free source key.

``bka``
    The tables the Bundeskriminalamt (and the Land police offices) publish for the PKS, e.g.
    "T01 Grundtabelle – Kreise/Städte – Fälle" as CSV: Latin-1 (Windows-1252), ``;``-separated,
    title lines, then a row of column numbers ``1;2;3;…`` and the header ``Schlüssel`` (in the
    CSV also spelt ``Schluessel``/``Schluesse``), ``Straftat``, ``Gemeindeschlüssel``,
    ``Stadt-/Landkreis``, ``Kreisart``, ``erfasste Fälle``, ``HZ nach Zensus``, ``Versuche …``,
    ``mit Schusswaffe …``, ``aufgeklärte Fälle``, ``Aufklärungsquote``, ``Tatverdächtige …``.
    Numbers use ``,`` as thousands and ``.`` as decimal mark (``4,444,108``; ``7,268.70``); the
    German convention (``4.444.108``; ``7.268,70``) is recognised too. The reporting year comes
    from a ``Jahr`` column, else from the ``year`` argument, else from the title or file name.
    Only the key, the area, the cases and the HZ are read; other columns are ignored.

Areas are identified by the official key (Gemeindeschlüssel/AGS) where present, kept as text.
Spreadsheet programs drop the leading zero of the Länder 01–09, so an all-digit key of 4, 7 or
11 digits (a Kreis, Gemeinde or Regionalschlüssel without its zero) gets it back.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from core import ImportResult, InvalidInput, Location, Problem
from survey import normalise_pks_key

#: PKS keys of "Straftaten insgesamt" (the BKA writes ``------``), used to derive populations.
TOTAL_KEYS = frozenset({"------", "000000"})
HZ_PER = 100_000

_MIN_YEAR, _MAX_YEAR = 1950, 2100
#: No count or population is larger (the world has 8 billion people); bigger numbers are typos
#: or junk, and would not fit the int64 columns.
MAX_COUNT = 10_000_000_000
_HEADER_SEARCH_ROWS = 40

#: Upload limits, checked before anything is parsed: a PKS table of every Gemeinde of Germany
#: (about 11,000 areas × a few hundred keys) stays well inside them, a zip bomb or a runaway
#: export does not.
MAX_FILE_BYTES = 25 * 1024 * 1024
#: Uncompressed size of all members of an XLSX workbook together, and the largest ratio of
#: uncompressed to compressed size a member may have (real sheets compress about 5–20×).
MAX_XLSX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_ROWS = 500_000
MAX_CELLS = 10_000_000
#: Characters above ASCII that a German or English table plausibly holds once decoded as
#: Windows-1252; anything else in quantity means the file is in another encoding.
_PLAUSIBLE_NON_ASCII = frozenset(
    "ÄÖÜäöüßẞ€„“”‚‘’«»–—…•°§²³µ·×÷ÀÁÂÃÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕØÙÚÛÝàáâãåæçèéêëìíîïñòóôõøùúûýÿŒœŠšŽžŸ"
    "\u00a0\u00ad"
)


# --- reading bytes into a grid of text cells ---------------------------------------------------


@dataclass(frozen=True)
class _Row:
    number: int  # 1-based line (CSV) or row (XLSX), as an editor or spreadsheet shows it
    cells: list[str]

    def get(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index].strip()


def _read_bytes(source: Path | BinaryIO, filename: str) -> bytes:
    if isinstance(source, Path):
        try:
            if source.stat().st_size > MAX_FILE_BYTES:
                raise _file_problem(
                    filename, "tables.too_large", limit=MAX_FILE_BYTES // (1024 * 1024)
                )
            return source.read_bytes()
        except OSError as error:  # missing, a directory, no permission
            raise _file_problem(
                filename, "badinput.file_unreadable", detail=error.strerror or type(error).__name__
            ) from None
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _file_problem(filename, "tables.too_large", limit=MAX_FILE_BYTES // (1024 * 1024))
    return bytes(data)


def _file_problem(filename: str, key: str, **params: object) -> InvalidInput:
    return InvalidInput([Problem(Location(file=filename), key, params)])


def _header_problem(filename: str, header: _Row, key: str, **params: object) -> InvalidInput:
    """A problem with the header, at its real line (blank lines above it count too)."""
    location = Location(file=filename, line=header.number, row=header.number)
    return InvalidInput([Problem(location, key, params)])


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV export would show (12.0 → ``12``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes, filename: str) -> list[_Row]:
    """The rows of the first sheet that holds a table we know (the BKA's workbooks may open
    with a cover sheet), else of the first sheet."""
    import openpyxl  # a heavy import, only needed for workbooks

    _check_workbook_size(data, filename)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any parser error means: not a readable workbook
        raise _file_problem(filename, "tables.bad_xlsx", error=type(exc).__name__) from exc
    try:
        budget = _Budget(filename)
        sheets = [
            [
                _Row(number, budget.take([_cell_text(v) for v in values], number))
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
            for sheet in workbook.worksheets
        ]
    finally:
        workbook.close()
    for rows in sheets:
        filled = [row for row in rows if any(cell.strip() for cell in row.cells)]
        if filled and (len(_tidy_columns(filled[0])) >= 3 or _find_bka_header(filled) is not None):
            return rows
    return sheets[0] if sheets else []


def _check_workbook_size(data: bytes, filename: str) -> None:
    """Refuse a workbook whose members would unpack to more than the limits (a zip bomb),
    from the zip directory alone, before any member is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _file_problem(filename, "tables.bad_xlsx", error=type(exc).__name__) from exc
    total = sum(member.file_size for member in members)
    ratio = max(
        (member.file_size / max(member.compress_size, 1) for member in members), default=0.0
    )
    if total > MAX_XLSX_UNCOMPRESSED_BYTES or ratio > MAX_XLSX_RATIO:
        raise _file_problem(
            filename,
            "tables.xlsx_too_large",
            size=total // (1024 * 1024),
            limit=MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024),
        )


class _Budget:
    """Counts rows and cells while a file is read and stops at the limits, at the row where
    they were passed (reading on would only cost time and memory)."""

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._rows = 0
        self._cells = 0

    def take(self, cells: list[str], number: int) -> list[str]:
        self._rows += 1
        self._cells += len(cells)
        if self._rows > MAX_ROWS or self._cells > MAX_CELLS:
            raise InvalidInput(
                [
                    Problem(
                        Location(file=self._filename, line=number, row=number),
                        "tables.too_many_rows",
                        {"rows": MAX_ROWS, "cells": MAX_CELLS},
                    )
                ]
            )
        return cells


def _implausible_characters(text: str) -> str:
    """The characters of ``text`` (a sample) that no German or English table would hold."""
    return "".join(sorted({ch for ch in text if ord(ch) > 127 and ch not in _PLAUSIBLE_NON_ASCII}))


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise _file_problem(filename, "tables.unknown_encoding")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # BKA tables are Windows-1252 ("Westeuropäisch"). A byte Windows-1252 does not define,
        # or characters no German table holds (Shift-JIS, Big5, KOI8-R … read as Windows-1252),
        # mean another encoding: refused with a message instead of imported as garbage.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise _file_problem(
                filename, "tables.undeclared_encoding", found=f"0x{data[error.start]:02X}"
            ) from None
        strange = _implausible_characters(text[:65536])
        if len(strange) > 3:
            raise _file_problem(
                filename, "tables.undeclared_encoding", found=strange[:12]
            ) from None
    sample = text[:4096]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    if control:
        raise _file_problem(filename, "tables.binary_file")
    return text


def _csv_rows(text: str, filename: str) -> list[_Row]:
    head = text.splitlines()[:20]
    if any(";" in line for line in head):
        delimiter = ";"
    elif any("\t" in line for line in head):
        delimiter = "\t"
    else:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    start = 1
    budget = _Budget(filename)
    try:
        for cells in reader:
            rows.append(_Row(start, budget.take(cells, start)))
            start = reader.line_num + 1
    except csv.Error as error:  # e.g. a field longer than the csv module's limit (binary junk)
        raise InvalidInput(
            [
                Problem(
                    Location(file=filename, line=start),
                    "badinput.csv_unreadable",
                    {"detail": str(error)},
                )
            ]
        ) from None
    return rows


def _grid(source: Path | BinaryIO, filename: str) -> list[_Row]:
    """All non-empty rows of the file; file-level problems raise :class:`InvalidInput`."""
    data = _read_bytes(source, filename)
    if not data.strip():
        raise _file_problem(filename, "tables.empty_file")
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data, filename)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(filename, "tables.old_excel")
    elif data.startswith(b"%PDF"):
        raise _file_problem(filename, "tables.wrong_file_type", kind="PDF")
    else:
        rows = _csv_rows(_decode(data, filename), filename)
    rows = [row for row in rows if any(cell.strip() for cell in row.cells)]
    if not rows:
        raise _file_problem(filename, "tables.empty_file")
    return rows


# --- values ------------------------------------------------------------------------------------


def _normalise_header(text: str) -> str:
    text = text.strip().strip('"').lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return " ".join(text.split())


def normalise_area_key(value: str) -> str:
    """An area key as text; an all-digit AGS that lost its leading zero gets it back."""
    text = value.strip()
    if text.isdigit() and len(text) in (4, 7, 11):
        return "0" + text
    return text


_SPACES = re.compile(r"[\s\u00a0\u202f']")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def _parse_count(text: str) -> int | None:
    """A whole number, with ``.``/``,``/space as thousands separator; None if it is none."""
    body = _SPACES.sub("", text)
    negative = body.startswith("-") and len(body) > 1
    if negative:
        body = body[1:]
    if body.isdigit():
        number = int(body)
    elif _GROUPED.match(body):
        number = int(re.sub(r"[.,]", "", body))
    else:
        return None
    return -number if negative else number


def _decimal_mark(decimals: Iterable[str], counts: Iterable[str] = ()) -> str:
    """``,`` if the file writes numbers the German way (``7.268,70``), else ``.`` (the BKA's
    ``7,268.70``). Evidence: a decimal with two places or both marks, or a whole count
    grouped by ``.`` (``80.123``); without any, the BKA convention."""
    for value in decimals:
        body = _SPACES.sub("", value)
        if re.search(r",\d{1,2}$|,\d{4,}$|\.\d{3},", body):
            return ","
        if re.search(r"\.\d{1,2}$|\.\d{4,}$|,\d{3}\.", body):
            return "."
    for value in counts:
        body = _SPACES.sub("", value)
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", body):
            return ","
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", body):
            return "."
    return "."


#: ``1.667`` or ``1,667``: a decimal with three places or a thousands-grouped whole number.
_AMBIGUOUS_NUMBER = re.compile(r"\d{1,3}[.,]\d{3}")
#: No area's "Straftaten insgesamt" has fewer than this many cases per 100,000 inhabitants
#: (the lowest Kreis in Germany has about 2,500): a smaller reading of an HZ is a misreading.
_LOWEST_PLAUSIBLE_TOTAL_HZ = 100.0


def _has_mark_evidence(decimals: Iterable[str], counts: Iterable[str]) -> bool:
    """Whether any number of the file tells which decimal mark it uses."""
    for value in decimals:
        body = _SPACES.sub("", value)
        if re.search(r"[.,]\d{1,2}$|[.,]\d{4,}$|\.\d{3},|,\d{3}\.", body):
            return True
    return any(_GROUPED.fullmatch(_SPACES.sub("", value)) for value in counts)


def _plausible_mark(ambiguous: list[_IncidentRecord]) -> str:
    """The reading of ambiguous HZ values (``1.667``) that gives plausible rates: as decimals
    (BKA convention) unless that makes every one implausibly small, then as grouped thousands."""
    as_decimals = [_parse_decimal(r.hz or "", ".") or 0.0 for r in ambiguous]
    return "," if max(as_decimals) < _LOWEST_PLAUSIBLE_TOTAL_HZ else "."


def _ambiguous_hz(
    record: _IncidentRecord, header: _Row, columns: dict[str, int], filename: str, mark: str
) -> Problem:
    """A located warning: which reading of an ambiguous HZ was used and what the other gives."""
    other = "," if mark == "." else "."
    readings = {m: _parse_decimal(record.hz or "", m) for m in (mark, other)}
    populations = {
        m: round(record.count * HZ_PER / value) if value else None for m, value in readings.items()
    }
    return Problem(
        Location(
            file=filename,
            line=record.row,
            row=record.row,
            column=None if "hz" not in columns else columns["hz"] + 1,
            field=header.get(columns.get("hz")) or None,
        ),
        "tables.ambiguous_hz",
        {
            "value": record.hz,
            "area": record.area_name or record.area,
            "chosen": readings[mark],
            "population": populations[mark],
            "other": readings[other],
            "other_population": populations[other],
        },
        severity="warning",
    )


def _parse_decimal(text: str, mark: str) -> float | None:
    body = _SPACES.sub("", text)
    thousands = "," if mark == "." else "."
    body = body.replace(thousands, "").replace(mark, ".")
    try:
        return float(body)
    except ValueError:
        return None


def _parse_year(text: str) -> int | None:
    body = text.strip()
    if re.fullmatch(r"\d{4}", body) and _MIN_YEAR <= int(body) <= _MAX_YEAR:
        return int(body)
    return None


def _normalise_key(text: str) -> str:
    return normalise_pks_key(text)


# --- column recognition ------------------------------------------------------------------------

_TIDY_ALIASES: dict[str, tuple[str, ...]] = {
    "area": ("area", "gebiet", "area_key", "ags", "gemeindeschluessel"),
    "area_name": ("area_name", "name", "gebietsname"),
    "year": ("year", "jahr"),
    "key": ("key", "schluessel"),
    "count": ("count", "cases", "anzahl", "faelle"),
    "population": ("population", "bevoelkerung", "einwohner"),
    "sex": ("sex", "geschlecht"),
    "age_group": ("age_group", "altersgruppe"),
}


def _tidy_columns(header: _Row) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        name = _normalise_header(cell)
        for column, aliases in _TIDY_ALIASES.items():
            if name in aliases and column not in found:
                found[column] = index
    return found


def _bka_column(name: str) -> str | None:
    if name in ("schluessel", "schluesse", "strft. schl.", "schl.", "straftatenschluessel"):
        return "key"
    if name.startswith("schluesselzahl"):
        return "key"
    if name == "straftat":
        return "offence"
    if name.startswith(("gemeindeschluessel", "kreisschluessel", "regionalschluessel")):
        return "area"
    if name in ("ags", "stadt", "gemeinde", "stadt/gemeinde", "bundesland", "land", "kreis"):
        return "area_name"
    if name.startswith("stadt-/landkreis") or name == "landkreis":
        return "area_name"
    if name.startswith(("erfasste faelle", "anzahl erfasste faelle")) or name == "faelle":
        return "count"
    if name.startswith("hz") and "vor zensus" not in name:
        return "hz"
    if name == "jahr":
        return "year"
    return None


def _bka_columns(header: _Row) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        column = _bka_column(_normalise_header(cell))
        if column is not None and column not in found:
            found[column] = index
    return found


def _is_bka_header(row: _Row) -> bool:
    columns = _bka_columns(row)
    return "key" in columns and "offence" in columns


def _is_column_number_row(row: _Row) -> bool:
    if not row.cells or row.cells[0].strip().strip("()") != "1":
        return False
    cells = [c.strip().strip("()") for c in row.cells if c.strip()]
    return len(cells) > 1 and cells == [str(i) for i in range(1, len(cells) + 1)]


# --- collecting row problems -------------------------------------------------------------------


@dataclass
class _Collector:
    filename: str
    header: _Row
    problems: dict[int, list[Problem]] = field(default_factory=dict)

    def add(self, row: _Row, index: int | None, message: str, /, **params: object) -> None:
        name = self.header.get(index) if index is not None else None
        location = Location(
            file=self.filename,
            line=row.number,
            column=None if index is None else index + 1,
            row=row.number,
            field=name or None,
        )
        self.problems.setdefault(row.number, []).append(Problem(location, message, params))

    def bad(self, row: _Row) -> bool:
        return row.number in self.problems

    def finish(self, skip_bad_rows: bool) -> list[Problem]:
        """Raise with every problem unless skipping; return the skipped rows' problems."""
        problems = [p for number in sorted(self.problems) for p in self.problems[number]]
        if problems and not skip_bad_rows:
            raise InvalidInput(problems)
        return problems


def _required(
    collector: _Collector, row: _Row, columns: dict[str, int], names: Sequence[str]
) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        value = row.get(columns[name])
        if not value:
            collector.add(row, columns[name], "tables.missing_value", column=name)
        values[name] = value
    return values


def _check_count(
    collector: _Collector, row: _Row, column: int, text: str, *, positive: bool = False
) -> int | None:
    if not text:
        return None  # already reported as missing
    number = _parse_count(text)
    if positive:
        if number is None or number <= 0:
            collector.add(row, column, "tables.bad_population", value=text)
            return None
        return _check_not_too_large(collector, row, column, text, number)
    if number is None:
        collector.add(row, column, "tables.not_a_count", value=text)
        return None
    if number < 0:
        collector.add(row, column, "tables.negative_count", value=text)
        return None
    return _check_not_too_large(collector, row, column, text, number)


def _check_not_too_large(
    collector: _Collector, row: _Row, column: int, text: str, number: int
) -> int | None:
    if number > MAX_COUNT:
        collector.add(row, column, "badinput.count_too_large", value=text[:40])
        return None
    return number


def _check_year(collector: _Collector, row: _Row, column: int, text: str) -> int | None:
    if not text:
        return None
    year = _parse_year(text)
    if year is None:
        collector.add(row, column, "tables.bad_year", value=text)
    return year


def _check_duplicate(
    collector: _Collector,
    row: _Row,
    column: int,
    seen: dict[tuple[object, ...], int],
    identity: tuple[object, ...],
    key_label: str,
) -> None:
    if identity in seen:
        collector.add(
            row,
            column,
            "tables.duplicate",
            area=identity[0],
            year=identity[1],
            key=key_label,
            first_row=seen[identity],
        )
    else:
        seen[identity] = row.number


def _missing_columns(
    filename: str, header: _Row, columns: dict[str, int], required: Sequence[str]
) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise _header_problem(
            filename,
            header,
            "tables.missing_columns",
            missing=", ".join(missing),
            expected=";".join(required),
            found=";".join(c.strip() for c in header.cells if c.strip()) or "—",
        )


# --- incident rows (both layouts) --------------------------------------------------------------

_INCIDENT_COLUMNS = ("area", "year", "key", "count")
#: Column types of an imported incident table (synthetic data and tests build the same).
INCIDENT_DTYPES = {
    "area": "string",
    "area_name": "string",
    "year": "int64",
    "key": "string",
    "count": "int64",
}
#: Column types of an imported population table with its margins (synthetic data build the
#: same); the totals table has the same types without ``sex`` and ``age_group``.
POPULATION_DTYPES = {
    "area": "string",
    "area_name": "string",
    "year": "int64",
    "sex": "string",
    "age_group": "string",
    "population": "int64",
}


@dataclass(frozen=True)
class _IncidentRecord:
    row: int
    area: str
    area_name: str | None
    year: int
    key: str
    count: int
    hz: str  # the BKA's Häufigkeitszahl as written; empty in the tidy layout
    count_text: str


def _incident_records(
    data: list[_Row],
    columns: dict[str, int],
    collector: _Collector,
    file_year: int | None,
) -> list[_IncidentRecord]:
    """Check every row; the good ones as records (the year column wins over ``file_year``)."""
    seen: dict[tuple[object, ...], int] = {}
    records: list[_IncidentRecord] = []
    required = {name: columns[name] for name in (*_INCIDENT_COLUMNS,) if name in columns}
    for row in data:
        values = _required(collector, row, required, list(required))
        year = (
            _check_year(collector, row, columns["year"], values["year"])
            if "year" in columns
            else file_year
        )
        count = _check_count(collector, row, columns["count"], values["count"])
        area = normalise_area_key(values["area"])
        key = _normalise_key(values["key"])
        if area and key and year is not None:
            _check_duplicate(collector, row, columns["key"], seen, (area, year, key), key)
        if collector.bad(row) or year is None or count is None:
            continue
        name = row.get(columns.get("area_name")) or None
        hz = row.get(columns.get("hz"))
        records.append(
            _IncidentRecord(row.number, area, name, year, key, count, hz, values["count"])
        )
    return records


def _incident_frame(records: list[_IncidentRecord]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(r.area, r.area_name, r.year, r.key, r.count) for r in records],
        columns=list(INCIDENT_DTYPES),
    )
    return frame.astype(INCIDENT_DTYPES)


def _tidy_incidents(
    rows: list[_Row], filename: str, skip_bad_rows: bool
) -> tuple[pd.DataFrame, list[Problem]]:
    header, data = rows[0], rows[1:]
    columns = _tidy_columns(header)
    _missing_columns(filename, header, columns, _INCIDENT_COLUMNS)
    if not data:
        raise _header_problem(filename, header, "tables.no_rows")
    collector = _Collector(filename, header)
    records = _incident_records(data, columns, collector, None)
    skipped = collector.finish(skip_bad_rows)
    return _incident_frame(records), skipped


# --- BKA layout --------------------------------------------------------------------------------

_YEAR_IN_TEXT = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


def _bka_year(title_rows: list[_Row], filename: str, year: int | None) -> int | None:
    if year is not None:
        return year
    for row in title_rows:
        for cell in row.cells:
            match = _YEAR_IN_TEXT.search(cell)
            if match:
                return int(match.group(1))
    match = _YEAR_IN_TEXT.search(Path(filename).name)
    return int(match.group(1)) if match else None


def _bka_incidents(
    rows: list[_Row], header_index: int, filename: str, skip_bad_rows: bool, year: int | None
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame, list[Problem]]:
    header = rows[header_index]
    columns = _bka_columns(header)
    if "area_name" in columns and "area" not in columns:
        columns["area"] = columns["area_name"]  # a table by name only (e.g. the Länder)
    _missing_columns(filename, header, columns, ("key", "count", "area"))
    file_year = None if "year" in columns else _bka_year(rows[:header_index], filename, year)
    if "year" not in columns and file_year is None:
        raise _file_problem(filename, "tables.no_year")
    data = [
        row
        for row in rows[header_index + 1 :]
        if not _is_column_number_row(row)
        # notes and sources below the table ("Quelle: …") have neither an area nor a count
        and (row.get(columns["area"]) or row.get(columns["count"]))
    ]
    if not data:
        raise _header_problem(filename, header, "tables.no_rows")
    collector = _Collector(filename, header)
    records = _incident_records(data, columns, collector, file_year)
    skipped = collector.finish(skip_bad_rows)
    derived, warnings = _derive_population(records, header, columns, filename)
    return _incident_frame(records), skipped, derived, warnings


def _derive_population(
    records: list[_IncidentRecord], header: _Row, columns: dict[str, int], filename: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Population = cases × 100,000 / HZ from each area's "Straftaten insgesamt" row."""
    out: list[tuple[str, str | None, int, int]] = []
    warnings: list[Problem] = []
    totals = [r for r in records if r.key in TOTAL_KEYS]
    mark = _decimal_mark((r.hz for r in totals), (r.count_text for r in records))
    ambiguous = [r for r in totals if _AMBIGUOUS_NUMBER.fullmatch(_SPACES.sub("", r.hz or ""))]
    if ambiguous and not _has_mark_evidence(
        (r.hz for r in totals), (r.count_text for r in records)
    ):
        mark = _plausible_mark(ambiguous)
        warnings += [_ambiguous_hz(record, header, columns, filename, mark) for record in ambiguous]
    for record in totals:
        hz = _parse_decimal(record.hz, mark) if record.hz else None
        derived = (
            record.count * HZ_PER / hz
            if hz is not None and math.isfinite(hz) and hz > 0 and record.count > 0
            else None
        )
        if derived is None or derived > MAX_COUNT:
            location = Location(
                file=filename,
                line=record.row,
                row=record.row,
                column=None if "hz" not in columns else columns["hz"] + 1,
                field=header.get(columns.get("hz")) or None,
            )
            warnings.append(
                Problem(
                    location,
                    "tables.no_hz",
                    {"area": record.area_name or record.area, "year": record.year},
                    severity="warning",
                )
            )
            continue
        out.append((record.area, record.area_name, record.year, round(derived)))
    frame = pd.DataFrame(out, columns=["area", "area_name", "year", "population"])
    frame = frame.astype(
        {"area": "string", "area_name": "string", "year": "int64", "population": "int64"}
    )
    frame["derived"] = True
    return frame, warnings


# --- public readers ----------------------------------------------------------------------------


def _find_bka_header(rows: list[_Row]) -> int | None:
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if _is_bka_header(row):
            return index
    return None


def _unknown_layout(rows: list[_Row], filename: str, expected: Sequence[str]) -> InvalidInput:
    return _header_problem(
        filename,
        rows[0],
        "tables.unknown_layout",
        expected=";".join(expected),
        found=";".join(c.strip() for c in rows[0].cells if c.strip())[:120],
    )


def read_incidents(
    source: Path | BinaryIO,
    *,
    filename: str,
    skip_bad_rows: bool = False,
    year: int | None = None,
) -> ImportResult:
    """Read incident counts in the tidy layout or the BKA PKS table layout.

    Parameters
    ----------
    source
        A path or an open binary file (an upload).
    filename
        The name shown in messages; its extension is not trusted, the content decides.
    skip_bad_rows
        If False (default), any bad row raises :class:`~survey.InvalidInput` with *all*
        problems and nothing is imported. If True, bad rows are left out and their problems
        listed in ``ImportResult.skipped``.
    year
        The reporting year of a BKA table without a ``Jahr`` column; by default it is read
        from the title lines or the file name.

    Returns
    -------
    ImportResult
        ``table`` with ``area, area_name, year, key, count``; for the BKA layout also
        ``derived_population`` (``area, area_name, year, population, derived``), where
        population = cases × 100,000 / HZ of the "Straftaten insgesamt" row (key ``------``).

    Raises
    ------
    InvalidInput
        For an empty, binary or unreadable file, an unknown layout, missing columns, and (unless
        ``skip_bad_rows``) rows with an empty value, a count that is not a whole number ≥ 0, a
        bad year or a repeated (area, year, key).
    """
    rows = _grid(source, filename)
    tidy = _tidy_columns(rows[0])
    if all(c in tidy for c in _INCIDENT_COLUMNS):
        table, skipped = _tidy_incidents(rows, filename, skip_bad_rows)
        return ImportResult(table=table, layout="tidy", skipped=skipped)
    header_index = _find_bka_header(rows)
    if header_index is None:
        if {"area", "year"} <= tidy.keys() or "count" in tidy:
            _missing_columns(filename, rows[0], tidy, _INCIDENT_COLUMNS)
        raise _unknown_layout(rows, filename, _INCIDENT_COLUMNS)
    table, skipped, derived, warnings = _bka_incidents(
        rows, header_index, filename, skip_bad_rows, year
    )
    return ImportResult(
        table=table,
        layout="bka",
        skipped=skipped,
        derived_population=derived,
        warnings=warnings,
    )


_TOTAL_WORDS = frozenset({"", "insgesamt", "total", "all", "gesamt", "alle"})
_POPULATION_COLUMNS = ("area", "year", "population")


def read_population(
    source: Path | BinaryIO, *, filename: str, skip_bad_rows: bool = False
) -> ImportResult:
    """Read a population table ``area;year;population``, optionally with ``sex;age_group``.

    Rows whose ``sex`` and ``age_group`` are empty (or ``insgesamt``/``total``) are the area's
    total; the others are margins for weighting. An area × year without a total row gets the
    sum of its joint ``sex × age_group`` cells, else of its ``sex`` rows, else of its
    ``age_group`` rows. Areas are never summed into each other: a municipality's population is
    its own row even where its districts are listed too.

    Returns
    -------
    ImportResult
        ``table`` with ``area, area_name, year, population`` (one row per area × year) and
        ``margins`` with ``area, year, sex, age_group, population`` (empty cells as NA).

    Raises
    ------
    InvalidInput
        As :func:`read_incidents`; a population must be a whole number > 0.
    """
    rows = _grid(source, filename)
    header, data = rows[0], rows[1:]
    columns = _tidy_columns(header)
    if not ({"area", "year"} & columns.keys()):
        raise _unknown_layout(rows, filename, _POPULATION_COLUMNS)
    _missing_columns(filename, header, columns, _POPULATION_COLUMNS)
    if not data:
        raise _header_problem(filename, header, "tables.no_rows")
    collector = _Collector(filename, header)
    seen: dict[tuple[object, ...], int] = {}
    records: list[tuple[str, str | None, int, str | None, str | None, int]] = []
    for row in data:
        values = _required(collector, row, columns, _POPULATION_COLUMNS)
        year = _check_year(collector, row, columns["year"], values["year"])
        population = _check_count(
            collector, row, columns["population"], values["population"], positive=True
        )
        area = normalise_area_key(values["area"])
        sex = _margin_value(row.get(columns.get("sex")))
        age = _margin_value(row.get(columns.get("age_group")))
        if area and year is not None:
            label = "/".join(x for x in (sex, age) if x) or "population"
            _check_duplicate(
                collector, row, columns["population"], seen, (area, year, sex, age), label
            )
        if collector.bad(row) or year is None or population is None:
            continue
        name = row.get(columns.get("area_name")) or None
        records.append((area, name, year, sex, age, population))
    skipped = collector.finish(skip_bad_rows)
    frame = pd.DataFrame(records, columns=list(POPULATION_DTYPES)).astype(POPULATION_DTYPES)
    return ImportResult(
        table=_population_totals(frame),
        layout="tidy",
        skipped=skipped,
        margins=frame[frame["sex"].notna() | frame["age_group"].notna()]
        .drop(columns="area_name")
        .reset_index(drop=True),
    )


def _margin_value(text: str) -> str | None:
    return None if text.strip().lower() in _TOTAL_WORDS else text.strip()


def _population_totals(frame: pd.DataFrame) -> pd.DataFrame:
    kinds: list[tuple[int, Callable[[pd.DataFrame], pd.Series]]] = [
        (0, lambda f: ~(f["sex"].notna() | f["age_group"].notna())),
        (1, lambda f: f["sex"].notna() & f["age_group"].notna()),
        (2, lambda f: f["sex"].notna() & f["age_group"].isna()),
        (3, lambda f: f["sex"].isna() & f["age_group"].notna()),
    ]
    parts = []
    for priority, select in kinds:
        part = frame[select(frame)]
        summed = part.groupby(["area", "year"], as_index=False, sort=False).agg(
            area_name=("area_name", "first"), population=("population", "sum")
        )
        summed["priority"] = priority
        parts.append(summed)
    totals = pd.concat(parts, ignore_index=True).sort_values(["area", "year", "priority"])
    totals = totals.drop_duplicates(["area", "year"], keep="first").drop(columns="priority")
    return totals[["area", "area_name", "year", "population"]].reset_index(drop=True)
