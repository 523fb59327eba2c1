"""A small document model of the report, independent of its output format.

:mod:`app` fills a :class:`Document` from an analysis; the PDF, DOCX and HTML renderers only
lay it out. Everything is plain text (each renderer escapes for its own format), so a
respondent's or the manager's text can never become markup, and every format shows the same
headings in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

#: ``note`` is a hint in smaller type; ``caution`` a statement the data cannot carry (boxed).
ParagraphKind = Literal["text", "note", "caution"]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str
    kind: ParagraphKind = "text"


@dataclass(frozen=True)
class Bullets:
    """A bulleted (or, with ``numbered``, a numbered) list."""

    items: tuple[str, ...]
    numbered: bool = False


@dataclass(frozen=True)
class KeyFindings:
    """The boxed key findings of the summary."""

    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``numeric`` marks right-aligned columns."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError(f"table {self.caption!r}: every row needs {len(self.header)} cells")
        if self.numeric and len(self.numeric) != len(self.header):
            raise ValueError(f"table {self.caption!r}: numeric needs one flag per column")

    def is_numeric(self, column: int) -> bool:
        return bool(self.numeric) and self.numeric[column]


@dataclass(frozen=True)
class Figure:
    """A vector chart (an SVG document) with its caption and a text alternative."""

    svg: str
    caption: str
    alt: str
    #: The chart's width and height in points (its SVG viewBox), for the page layout.
    width: float
    height: float


Block = Paragraph | Bullets | KeyFindings | Table | Figure


@dataclass(frozen=True)
class Section:
    """A heading (level 1 = chapter, 2 = section, 3 = subsection) and what follows it."""

    title: str
    level: int
    blocks: tuple[Block, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in (1, 2, 3):
            raise ValueError(f"section {self.title!r}: level must be 1, 2 or 3")


@dataclass(frozen=True)
class Document:
    """The whole report: metadata, the title page and the sections in reading order."""

    lang: str
    title: str
    subtitle: str
    #: The issuing body (Herausgeber): the PDF's author and the title page's first line.
    publisher: str
    #: Label/value lines of the title page (date, survey period, data years ...).
    facts: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    #: Shown boxed on the title page (e.g. "DEMO – synthetic data"), or empty.
    banner: str = ""
    #: Heading of the table of contents and the running footer's page label, in ``lang``.
    contents_title: str = "Inhalt"
    page_label: str = "Seite"
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Accessible documents (PDF/UA) never skip a heading level: 1, then 2, then 3.
        previous = 0
        for section in self.sections:
            if section.level > previous + 1:
                raise ValueError(f"section {section.title!r} skips a heading level")
            previous = section.level

    def headings(self) -> Iterator[tuple[int, str]]:
        """Every heading as ``(level, title)`` in reading order."""
        for section in self.sections:
            yield section.level, section.title

    def figures(self) -> Iterator[Figure]:
        for section in self.sections:
            yield from (b for b in section.blocks if isinstance(b, Figure))


__all__ = [
    "Block",
    "Bullets",
    "Document",
    "Figure",
    "KeyFindings",
    "Paragraph",
    "ParagraphKind",
    "Section",
    "Table",
]
