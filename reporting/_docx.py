"""The report as an editable Word document (python-docx), with the same headings as the PDF.

Municipalities finish reports in Word, so the DOCX uses Word's own building blocks: the
built-in heading styles (the navigation pane and a table of contents work), a TOC field that
Word fills when the file is opened, real tables with a repeating header row, page numbers in
the footer, and the charts as pictures with their text alternative. Word cannot show SVG
without a PNG fallback, so each chart is rasterised by Typst (no browser, no system library).
"""

from __future__ import annotations

import io

import docx as python_docx
import typst
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from reporting._document import Bullets, Document, Figure, KeyFindings, Paragraph, Table

#: Resolution of the chart pictures: sharp in print at their A4 width.
PICTURE_PPI = 220
_PICTURE = b"""#set page(width: auto, height: auto, margin: 0pt)
#image(bytes(sys.inputs.svg), format: "svg")
"""


def figure_png(figure: Figure) -> bytes:
    """The chart as a PNG picture (for formats that cannot embed SVG)."""
    png = typst.compile(_PICTURE, format="png", ppi=PICTURE_PPI, sys_inputs={"svg": figure.svg})
    assert isinstance(png, bytes)
    return png


def _field(paragraph: DocxParagraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (``PAGE``, ``TOC``) in ``paragraph``; Word computes its value."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = instruction
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    text = OxmlElement("w:t")
    text.text = placeholder
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, code, separate, text, end):
        run._r.append(element)


def _language(docx: DocxDocument, lang: str) -> None:
    """The proofing language of every style (Word's spelling check) and the core property."""
    tag = {"de": "de-DE", "en": "en-GB"}.get(lang, lang)
    docx.core_properties.language = tag
    defaults = docx.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    run = defaults.find(qn("w:rPrDefault"))
    properties = run.find(qn("w:rPr")) if run is not None else None
    if properties is None:
        return
    element = properties.find(qn("w:lang"))
    if element is None:
        element = OxmlElement("w:lang")
        properties.append(element)
    element.set(qn("w:val"), tag)


def _update_fields_on_open(docx: DocxDocument) -> None:
    """Ask Word to fill the table of contents when the file is opened."""
    setting = OxmlElement("w:updateFields")
    setting.set(qn("w:val"), "true")
    docx.settings.element.append(setting)


def _title_page(docx: DocxDocument, document: Document) -> None:
    publisher = docx.add_paragraph(document.publisher)
    publisher.runs[0].font.size = Pt(12)
    docx.add_paragraph(document.title, style="Title")
    docx.add_paragraph(document.subtitle, style="Subtitle")
    facts = docx.add_table(rows=0, cols=2)
    for label, value in document.facts:
        cells = facts.add_row().cells
        cells[0].text = label
        cells[1].text = value
    if document.banner:
        banner = docx.add_paragraph(style="Intense Quote")
        banner.add_run(document.banner).bold = True
    docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    docx.add_paragraph(document.contents_title, style="TOC Heading")
    # Word fills the field on opening (updateFields); until then it stays empty.
    _field(docx.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u')
    docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _table(docx: DocxDocument, table: Table) -> None:
    docx.add_paragraph(table.caption, style="Caption")
    grid = docx.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    header = grid.rows[0]
    # The header row repeats on every page of a long table.
    properties = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)
    for column, text in enumerate(table.header):
        cell = header.cells[column]
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        for column, text in enumerate(row):
            cells[column].text = text
            if table.is_numeric(column):
                cells[column].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)


def _figure(docx: DocxDocument, figure: Figure) -> None:
    width = Mm(160)
    shape = docx.add_picture(io.BytesIO(figure_png(figure)), width=width)
    shape._inline.docPr.set("descr", figure.alt)
    docx.add_paragraph(figure.caption, style="Caption")


def render_docx(document: Document) -> bytes:
    """The report as DOCX bytes."""
    docx = python_docx.Document()
    docx.core_properties.title = document.title
    docx.core_properties.author = document.publisher
    docx.core_properties.subject = document.subtitle
    docx.core_properties.keywords = ", ".join(document.keywords)
    _language(docx, document.lang)
    _update_fields_on_open(docx)
    section = docx.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(25))
    footer = section.footer.paragraphs[0]
    footer.text = f"{document.title} · {document.page_label} "
    _field(footer, "PAGE", "1")
    _title_page(docx, document)
    for part in document.sections:
        docx.add_heading(part.title, level=part.level)
        for block in part.blocks:
            if isinstance(block, Paragraph):
                style = {"text": None, "note": "Quote", "caution": "Intense Quote"}[block.kind]
                docx.add_paragraph(block.text, style=style)
            elif isinstance(block, Bullets):
                style = "List Number" if block.numbered else "List Bullet"
                for item in block.items:
                    docx.add_paragraph(item, style=style)
            elif isinstance(block, KeyFindings):
                title = docx.add_paragraph()
                run = title.add_run(block.title)
                run.bold = True
                run.font.color.rgb = RGBColor(0x7A, 0x10, 0x20)
                for item in block.items:
                    docx.add_paragraph(item, style="List Bullet")
            elif isinstance(block, Table):
                _table(docx, block)
            else:
                _figure(docx, block)
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()


__all__ = ["figure_png", "render_docx"]
