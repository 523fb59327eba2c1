"""Response tables from outside: keyed-in paper questionnaires as CSV or XLSX in the codebook
layout, read as text cells for :meth:`storage.Store.import_responses`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pandas as pd

from sources._tables import _grid, _header_problem

_MIDNIGHT = re.compile(r"(?<=^\d{4}-\d{2}-\d{2})[ T]00:00(:00)?$")


class ResponseTable(NamedTuple):
    """A response table as read from its file, with the lines problems are reported at."""

    #: One row per response, text cells, the header's titles as columns.
    frame: pd.DataFrame
    #: Each frame row's line (CSV) or row (XLSX) in the file.
    row_numbers: list[int]
    #: The header's line or row in the file (blank lines above it count).
    header_row: int


def read_response_table(source: Path | BinaryIO, *, filename: str | None = None) -> ResponseTable:
    """A CSV or XLSX file in the codebook layout as text cells for
    :meth:`storage.Store.import_responses`, with each data row's and the header's number in
    the file (pass them as ``row_numbers`` and ``header_row``).

    The file is read as the data uploads are (encoding, delimiter and workbooks detected the
    same way); the first non-empty row is the header. Columns without a header and without
    any value (a trailing separator, an empty spreadsheet column) are left out. A workbook's
    date cells come as ``2026-09-07 00:00:00``; the time of day is dropped (there is none).
    A header without data rows is a problem (importing nothing is never what was meant).
    """
    name = filename or (source.name if isinstance(source, Path) else "upload")
    rows = _grid(source, name)
    header = [cell.strip() for cell in rows[0].cells]
    body = rows[1:]
    if not body:
        raise _header_problem(name, rows[0], "tables.no_rows")
    width = max([len(header), *(len(row.cells) for row in body)])
    header += [""] * (width - len(header))
    cells = [
        [_MIDNIGHT.sub("", cell) for cell in [*row.cells, *([""] * (width - len(row.cells)))]]
        for row in body
    ]
    keep = [i for i, title in enumerate(header) if title or any(line[i].strip() for line in cells)]
    frame = pd.DataFrame(
        [[line[i] for i in keep] for line in cells],
        columns=[header[i] for i in keep],
        dtype="string",
    )
    return ResponseTable(frame, [row.number for row in body], rows[0].number)
