"""Bad input, reported the same way everywhere: where it is and what is expected.

Every importer (YAML questionnaires, action-field catalogue, CSV/XLSX uploads, access codes,
form fields, URLs) reports :class:`Problem` objects instead of raising tracebacks, and raises
:class:`InvalidInput` carrying *all* problems at once. Messages go through the catalogue
(:mod:`core.i18n`), so they are German by default and English on request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.i18n import t

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """Where a problem is. Fill what applies; all numbers are 1-based, as editors show them."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    #: Data row number in a table, counting the header as row 1 (as a spreadsheet shows it).
    row: int | None = None
    #: A path into a document (``sections[2].items[4].show_if``) or a column / form field name.
    field: str | None = None

    def render(self, lang: str | None = None) -> str:
        """``file:line:column``, then the table row where there is one (field names go last)."""
        head = ":".join(
            str(x) for x in (self.file, self.line, self.column) if x is not None and x != ""
        )
        row = t("problem.row", lang, row=self.row) if self.row is not None else ""
        return ": ".join(x for x in (head, row) if x)


@dataclass(frozen=True)
class Problem:
    """One piece of bad input. ``key`` names a catalogue message, ``params`` fill it."""

    location: Location
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = "error"

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def render(self, lang: str | None = None) -> str:
        """One line: ``file:line:column: Fehler: <field>: <message>`` (parts that apply)."""
        parts = [self.location.render(lang), t(f"problem.{self.severity}", lang)]
        if self.location.field:
            parts.append(self.location.field)
        parts.append(self.message(lang))
        return ": ".join(p for p in parts if p)


class InvalidInput(Exception):
    """Raised with every problem found; nothing was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.render("en") for p in self.problems))

    def render(self, lang: str | None = None) -> str:
        return "\n".join(p.render(lang) for p in self.problems)


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class StorageError(Exception):
    """The database could not store the data; nothing was written. Show it and keep the
    answers on screen."""

    def message(self, lang: str | None = None) -> str:
        return t("storage.write_failed", lang)
