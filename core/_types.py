"""Types shared across the packages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from core._problems import Problem
from core.i18n import DEFAULT_LANGUAGE

#: A text in several languages, by language code (``{"de": …, "en": …}``).
LocalizedText = dict[str, str]


def localized(
    text: Mapping[str, str] | None,
    lang: str,
    *,
    fallback: str = DEFAULT_LANGUAGE,
    default: str = "",
) -> str:
    """The one language-fallback rule: ``text`` in ``lang``, else in ``fallback`` (German by
    default, or a questionnaire's default language), else in any language it has, else
    ``default`` (an id, so a label is never blank). Empty or blank texts count as missing."""
    if text:
        for candidate in (lang, fallback):
            value = text.get(candidate)
            if value and value.strip():
                return value
        for value in text.values():
            if value and value.strip():
                return value
    return default


#: The layout an incident or population table was recognised in.
Layout = Literal["tidy", "bka"]


@dataclass(frozen=True)
class ImportResult:
    """An imported table and what was left out.

    ``table`` has the columns ``area, area_name, year, key, count`` (incidents) or
    ``area, area_name, year, population`` (population totals). ``margins`` holds the
    ``sex``/``age_group`` rows of a population table (``area, year, sex, age_group,
    population``; an empty cell means "all"). ``derived_population`` holds the populations
    derived from a BKA table's "Straftaten insgesamt" row (column ``derived`` is True).
    ``skipped`` lists the problems of rows left out with ``skip_bad_rows=True``;
    ``warnings`` what was imported but deserves a look.
    """

    table: pd.DataFrame
    layout: Layout
    skipped: list[Problem] = field(default_factory=list)
    derived_population: pd.DataFrame | None = None
    margins: pd.DataFrame | None = None
    warnings: list[Problem] = field(default_factory=list)
