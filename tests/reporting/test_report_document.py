"""The report's renderers: one document model, the same headings in PDF, DOCX and HTML.

The PDF is opened with pypdf (bookmarks in order, page numbers on the pages, embedded fonts,
title, language, tags), the DOCX with python-docx, the HTML with the standard parser.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import docx
import pytest
from pypdf import PdfReader

from reporting import (
    Bar,
    Bullets,
    Document,
    KeyFindings,
    Paragraph,
    Point,
    Section,
    Table,
    quadrant_figure,
    ratio_figure,
    render_docx,
    render_html_document,
    render_pdf,
    share_figure,
)


def sample_document(lang: str = "de") -> Document:
    """A small report with every kind of block, and text that is markup in every format."""
    share = share_figure(
        [Bar("Graffiti", 0.51, 0.47, 0.55), Bar("Gewalt <b>", 0.3, 0.27, 0.34, True)],
        caption="Anteil",
        alt="Graffiti 51 %, Gewalt 30 %",
        axis_label="Anteil",
        lang=lang,
    )
    ratio = ratio_figure(
        [Bar("Graffiti", 1.68, 1.38, 2.02)],
        caption="SIR",
        alt="SIR 1,68",
        axis_label="SIR",
        lang=lang,
    )
    quadrant = quadrant_figure(
        [Point("1", 0.65, 1.4), Point("2", 0.2, 0.8)],
        x_split=0.4,
        caption="Einordnung",
        alt="zwei Felder",
        x_label="Anteil",
        y_label="SIR",
        lang=lang,
    )
    sections = (
        Section(
            "Kurzfassung",
            1,
            (
                KeyFindings("Die wichtigsten Ergebnisse", ("54 % unsicher", "Graffiti vorn")),
                Paragraph("Text mit #typst $math$ *stern* _unter_ [klammer] <script>&"),
                Paragraph("Nicht auswertbar", "caution"),
                Paragraph("Hinweis", "note"),
            ),
        ),
        Section("Presse", 2, (Paragraph("Kurz."),)),
        Section(
            "Ergebnisse",
            1,
            (
                share,
                ratio,
                quadrant,
                Table(
                    "Tabelle",
                    ("Feld", "Wert"),
                    (("Graffiti", "1,5"), ("Gewalt", "0,8")),
                    (False, True),
                ),
                Bullets(("eins", "zwei"), numbered=True),
            ),
        ),
        Section("Stadtteil Nord", 2, (Paragraph("Wenig Antworten."),)),
        Section("Eine Unterseite", 3, (Paragraph("Ohne Nummer."),)),
        Section("Anhang", 1, (Bullets(tuple(f"Frage {i}" for i in range(120))),)),
    )
    return Document(
        lang=lang,
        title="Sicherheitsanalyse Musterstadt 2026",
        subtitle="Befragung und Polizeidaten",
        publisher="Stadt Musterstadt",
        facts=(("Stand", "27.11.2026"), ("Befragungszeitraum", "07.09.2026 bis 18.10.2026")),
        sections=sections,
        banner="DEMO",
        contents_title="Inhalt",
        page_label="Seite",
    )


def outline_titles(reader: PdfReader) -> list[str]:
    titles: list[str] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(str(item.title))  # type: ignore[attr-defined]

    walk(reader.outline)
    return titles


def strip_number(title: str) -> str:
    return re.sub(r"^[\d.]+\s+", "", title.strip())


def test_pdf_has_bookmarks_in_order_page_numbers_fonts_and_metadata() -> None:
    document = sample_document()
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    pages = len(reader.pages)
    assert pages >= 4  # title page, contents, chapters, a long appendix
    assert [strip_number(t) for t in outline_titles(reader)] == [t for _, t in document.headings()]
    # Numbered pages after the title page: "Seite n / N".
    for number in range(2, pages + 1):
        assert f"Seite {number} / {pages}" in reader.pages[number - 1].extract_text()
    assert reader.metadata is not None
    assert reader.metadata.title == document.title
    assert reader.metadata.author == document.publisher
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "de"
    assert root["/MarkInfo"]["/Marked"]  # tagged for assistive technology
    assert "/StructTreeRoot" in root
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            )
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())


def test_pdf_text_is_never_read_as_markup() -> None:
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(sample_document()))).pages
    )
    assert "#typst $math$ *stern* _unter_ [klammer] <script>&" in text


def test_docx_has_the_same_headings_metadata_and_pictures_with_alt_text() -> None:
    document = sample_document()
    word = docx.Document(io.BytesIO(render_docx(document)))
    headings = [
        (int(p.style.name.removeprefix("Heading ")), p.text)
        for p in word.paragraphs
        if p.style is not None and p.style.name.startswith("Heading ")
    ]
    assert headings == list(document.headings())
    assert word.core_properties.title == document.title
    assert word.core_properties.language == "de-DE"
    assert len(word.inline_shapes) == 3
    descriptions = [s._inline.docPr.get("descr") for s in word.inline_shapes]
    assert descriptions[0] == "Graffiti 51 %, Gewalt 30 %"
    assert any("<script>" in p.text for p in word.paragraphs)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.external: list[str] = []
        self.scripts = 0
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[2-4]", tag):
            self._heading = int(tag[1]) - 1
            self.headings.append((self._heading, ""))
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in {"src", "href"} and value and not value.startswith("#"):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[2-4]", tag):
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_html_is_self_contained_escaped_and_has_the_same_headings(lang: str) -> None:
    document = sample_document(lang)
    page = render_html_document(document)
    parser = _Html()
    parser.feed(page)
    main = page.split("<main>", 1)[1]
    body = _Html()
    body.feed(main)
    assert body.headings == list(document.headings())
    assert parser.scripts == 0
    assert parser.external == []
    assert "<script>&" not in page
    assert "&lt;script&gt;&amp;" in page
    assert f'<html lang="{lang}">' in page
    assert page.count("<svg") == 3


def test_a_document_never_skips_a_heading_level() -> None:
    document = sample_document()
    with pytest.raises(ValueError, match="skips a heading level"):
        Document(
            lang="de",
            title="t",
            subtitle="s",
            publisher="p",
            facts=(),
            sections=(Section("Eins", 1), Section("Drei", 3)),
        )
    assert [level for level, _ in document.headings()] == [1, 2, 1, 2, 3, 1]


def test_charts_are_small_vector_svg_with_escaped_labels() -> None:
    figure = share_figure(
        [Bar("A & <B>", 0.2, 0.1, 0.3)], caption="c", alt="a", axis_label="x", lang="de"
    )
    assert figure.svg.startswith("<svg")
    assert len(figure.svg) < 5_000
    assert "A &amp; &lt;B&gt;" in figure.svg
    # The share axis ends at the next 10 % above the highest interval, never at 400 %.
    assert "30 %" in figure.svg
    assert "40 %" not in figure.svg
    with pytest.raises(ValueError, match="sentence"):
        share_figure([], caption="c", alt="a", axis_label="x", lang="de")
