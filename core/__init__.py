"""Shared ground for every package: problems and locations, the message catalogue, number and
date formatting, the one privacy rule, escaping, and shared types.

It imports nothing of the project's own; every other package may import it.
"""

from __future__ import annotations

from core._escaping import (
    FORMULA_PATTERN,
    FORMULA_TRIGGERS,
    ILLEGAL_TEXT,
    escape_free_text,
    escape_markdown,
    neutralise_formula,
    remove_illegal_text,
)
from core._format import (
    format_date,
    format_integer,
    format_number,
    format_percent,
    format_population,
    format_short,
    number_separators,
)
from core._privacy import MIN_CELL_SIZE, complementary_suppression, is_small, suppress_small_cells
from core._problems import InvalidInput, Location, Problem, StorageError, errors_only
from core._types import ImportResult, Layout, LocalizedText, localized
from core.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_ENV_VAR,
    UI_LANGUAGES,
    catalogue,
    current_language,
    t,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "FORMULA_PATTERN",
    "FORMULA_TRIGGERS",
    "ILLEGAL_TEXT",
    "LANGUAGE_ENV_VAR",
    "MIN_CELL_SIZE",
    "UI_LANGUAGES",
    "ImportResult",
    "InvalidInput",
    "Layout",
    "LocalizedText",
    "Location",
    "Problem",
    "StorageError",
    "catalogue",
    "complementary_suppression",
    "current_language",
    "errors_only",
    "escape_free_text",
    "escape_markdown",
    "format_date",
    "format_integer",
    "format_number",
    "format_percent",
    "format_population",
    "format_short",
    "is_small",
    "localized",
    "neutralise_formula",
    "number_separators",
    "remove_illegal_text",
    "suppress_small_cells",
    "t",
]
