"""Tables from outside: bytes to rows (CSV/XLSX detection once), police counts (tidy and the
BKA PKS layout), population, response tables keyed in from paper, and perceived reference
shares per action field.
"""

from __future__ import annotations

from sources._perceived import PerceivedReferenceTable, read_perceived_reference
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
    "PerceivedReferenceTable",
    "ResponseTable",
    "read_incidents",
    "read_perceived_reference",
    "read_population",
    "read_response_table",
]
