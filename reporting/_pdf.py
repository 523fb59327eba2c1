"""The report as a PDF: the document model laid out by Typst (``reporting/templates/report.typ``).

Typst comes as a wheel with its compiler and fonts inside: no browser, no system library, no
network. It writes A4 pages with page numbers, a table of contents and PDF bookmarks from the
headings, embeds subsetted fonts, keeps the SVG charts as vectors, sets title, author and
language, and writes a tagged PDF checked against PDF/UA-1. Only the embedded fonts are used,
so the file looks the same on every server.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib.resources import files
from typing import Any

import typst

from reporting._document import Bullets, Document, Figure, KeyFindings, Paragraph, Table

TEMPLATE = files("reporting").joinpath("templates/report.typ")


def _block(block: object) -> dict[str, Any]:
    """One block as JSON for the template, tagged with its ``type``."""
    kinds = {
        Paragraph: "paragraph",
        Bullets: "bullets",
        KeyFindings: "key_findings",
        Table: "table",
        Figure: "figure",
    }
    data = asdict(block)  # type: ignore[call-overload]
    data["type"] = kinds[type(block)]
    return dict(data)


def document_json(document: Document) -> str:
    """The document as the JSON the Typst template reads."""
    data = {
        "lang": document.lang,
        "title": document.title,
        "subtitle": document.subtitle,
        "publisher": document.publisher,
        "facts": [list(f) for f in document.facts],
        "banner": document.banner,
        "contents_title": document.contents_title,
        "page_label": document.page_label,
        "keywords": list(document.keywords),
        "sections": [
            {
                "title": s.title,
                "level": s.level,
                "blocks": [_block(b) for b in s.blocks],
            }
            for s in document.sections
        ],
    }
    return json.dumps(data, ensure_ascii=False)


def render_pdf(document: Document) -> bytes:
    """The report as PDF bytes (PDF/UA-1, tagged)."""
    pdf = typst.compile(
        TEMPLATE.read_bytes(),
        format="pdf",
        sys_inputs={"document": document_json(document)},
        pdf_standards=["ua-1"],
        ignore_system_fonts=True,
    )
    assert isinstance(pdf, bytes)
    return pdf


__all__ = ["document_json", "render_pdf"]
