"""A perceived reference table: per action field, the share of residents seeing a problem (or
feeling unsafe) that the survey's share is compared with instead of the 25 % benchmark.

Layout (CSV or XLSX, read like every other table: :func:`sources._tables._grid`)::

    field;share
    graffiti;31 %
    gewalt;0,18

``field`` is an action-field key of the catalogue (``feld``/``handlungsfeld`` also work);
``share`` (``anteil``) a fraction 0–1 or a percentage 0–100 written with ``%``; a column
without any ``%`` whose values exceed 1 is read as percentages throughout. Every bad row is
reported with its line and column: an unknown field key (with the nearest known one), a share
that is no number or lies outside 0–1 / 0–100 %, a field listed twice.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sources._tables import (
    _Collector,
    _grid,
    _header_problem,
    _missing_columns,
    _normalise_header,
    _parse_decimal,
    _required,
    _Row,
)

#: Accepted header names per column (normalised: lower case, umlauts spelled out).
_ALIASES: dict[str, frozenset[str]] = {
    "field": frozenset({"field", "feld", "handlungsfeld", "action_field", "action field"}),
    "share": frozenset({"share", "anteil", "anteil_problem", "share_problem", "prozent"}),
}
_COLUMNS = ("field", "share")


@dataclass(frozen=True)
class PerceivedReferenceTable:
    """The shares read (``field → share`` as a fraction 0–1), and how they were written."""

    shares: dict[str, float]
    #: ``True`` when the shares were read as percentages (``%`` or values above 1).
    percent: bool


def _columns(header: _Row) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        name = _normalise_header(cell)
        for column, aliases in _ALIASES.items():
            if name in aliases and column not in found:
                found[column] = index
    return found


def _number(text: str) -> float | None:
    """A share as written: ``0,31``, ``0.31``, ``31 %``, ``31,5%``."""
    body = text.replace("%", "").strip()
    mark = "," if "," in body and "." not in body else "."
    return _parse_decimal(body, mark)


def read_perceived_reference(
    source: Path | BinaryIO, *, filename: str, fields: Sequence[str]
) -> PerceivedReferenceTable:
    """Read a perceived reference table (see the module) for the action fields ``fields``.

    Raises
    ------
    core.InvalidInput
        With every problem, located at file, line and column: missing columns (with the
        header found), no data rows, an empty cell, an unknown field key (with a did-you-mean),
        a share that is no number or lies outside 0–1 (0–100 %), a field listed twice.
    """
    rows = _grid(source, filename)
    header, data = rows[0], rows[1:]
    columns = _columns(header)
    _missing_columns(filename, header, columns, _COLUMNS)
    if not data:
        raise _header_problem(filename, header, "tables.no_rows")
    share_texts = [row.get(columns["share"]) for row in data]
    percent = any("%" in text for text in share_texts) or any(
        (value := _number(text)) is not None and value > 1 for text in share_texts
    )
    collector = _Collector(filename, header)
    known = set(fields)
    seen: dict[str, int] = {}
    shares: dict[str, float] = {}
    for row in data:
        values = _required(collector, row, columns, _COLUMNS)
        key, text = values["field"], values["share"]
        if key and key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            collector.add(
                row,
                columns["field"],
                "tables.perceived.unknown_field",
                field=key,
                suggestion=close[0] if close else "–",
                known=", ".join(fields),
            )
        elif key in seen:
            collector.add(
                row, columns["field"], "tables.perceived.duplicate", field=key, first_row=seen[key]
            )
        elif key:
            seen[key] = row.number
        if not text:
            continue
        number = _number(text)
        if number is None:
            collector.add(row, columns["share"], "tables.perceived.not_a_share", value=text)
            continue
        share = number / 100 if percent else number
        if not 0 <= share <= 1:
            key_name = "out_of_range_percent" if percent else "out_of_range"
            collector.add(row, columns["share"], f"tables.perceived.{key_name}", value=text)
            continue
        if key in known and not collector.bad(row):
            shares[key] = share
    collector.finish(skip_bad_rows=False)
    return PerceivedReferenceTable(shares, percent)
