"""Tables from outside: bytes to rows (CSV/XLSX detection once), police counts (tidy and the
BKA PKS layout), population, and response tables keyed in from paper.
"""

from __future__ import annotations

from sources._responses import ResponseTable, read_response_table
from sources._tables import (
    INCIDENT_DTYPES,
    MAX_COUNT,
    POPULATION_DTYPES,
    read_incidents,
    read_population,
)

__all__ = [
    "INCIDENT_DTYPES",
    "MAX_COUNT",
    "POPULATION_DTYPES",
    "ResponseTable",
    "read_incidents",
    "read_population",
    "read_response_table",
]
