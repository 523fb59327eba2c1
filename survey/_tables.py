"""Import of incident counts and population tables: tidy CSV/XLSX and the BKA PKS layout.

I/O lives here; the statistics over the imported tables are pure functions in ``scoring``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd

from survey._problems import Problem

Layout = Literal["tidy", "bka"]


@dataclass(frozen=True)
class ImportResult:
    """An imported table and what was left out.

    ``table`` has the columns ``area, area_name, year, key, count`` (incidents) or
    ``area, area_name, year, population`` (population totals). ``margins`` holds the
    ``sex × age_group`` rows of a population table; ``derived_population`` the populations
    derived from a BKA table's "Straftaten insgesamt" row (``derived`` is True there).
    """

    table: pd.DataFrame
    layout: Layout
    skipped: list[Problem] = field(default_factory=list)
    derived_population: pd.DataFrame | None = None
    margins: pd.DataFrame | None = None
    warnings: list[Problem] = field(default_factory=list)


def read_incidents(
    source: Path | BinaryIO,
    *,
    filename: str,
    skip_bad_rows: bool = False,
    year: int | None = None,
) -> ImportResult:
    """Read incident counts (tidy ``area;year;key;count`` or the BKA PKS layout)."""
    raise NotImplementedError


def read_population(
    source: Path | BinaryIO, *, filename: str, skip_bad_rows: bool = False
) -> ImportResult:
    """Read a population table ``area;year;population`` (optionally ``sex;age_group`` rows)."""
    raise NotImplementedError
