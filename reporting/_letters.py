"""The letter kit of a code batch: personalised invitation letters as a print-ready A4 PDF,
a DOCX mail-merge template and the codes table for the mail merge.

Each letter carries the survey's short address, the access code and a QR code. The QR code
opens ``<address>#code=<code>``: a URL fragment is never sent to a server, so the code reaches
no web server, proxy or access log; the survey page reads it in the browser and removes it
from the address bar (docs/privacy.md, "Codes on letters").

Layout after DIN 5008 form B: the address field (window envelope, 45 mm from the top, 20 mm
from the left) stays empty for the address label of the register sample, which the
municipality applies; the PDF knows codes, not people.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import segno
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Mm, Pt
from fpdf import FPDF

from core import InvalidInput, Location, Problem, format_date, t
from reporting._exports import frame_csv
from survey import Questionnaire

#: The columns of the codes file, in order: the DOCX template's merge fields are named alike.
CODE_COLUMNS: tuple[str, ...] = ("code", "batch", "stratum")
#: The fragment key the survey page reads the code from.
CODE_FRAGMENT = "code"
#: Where Debian's ``fonts-dejavu-core`` puts its fonts (embedded in every PDF).
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_FONT = "DejaVu"

# A4 in millimetres, and the DIN 5008 form B margins and fields the layout follows.
_LEFT, _RIGHT, _TOP = 25.0, 20.0, 20.0
_ADDRESS_TOP, _ADDRESS_HEIGHT = 45.0, 45.0
_QR_SIZE = 34.0
#: The participation box holds five lines of text beside the QR code.
_BOX_HEIGHT = 54.0


@dataclass(frozen=True)
class LetterKit:
    """What every letter of one batch shares."""

    questionnaire: Questionnaire
    #: The short address printed on the letter, e.g. ``https://befragung.musterstadt.de``.
    url: str
    deadline: date | None
    lang: str

    def text(self, texts: dict[str, str]) -> str:
        return self.questionnaire.text(texts, self.lang) if texts else ""


def letter_link(url: str, code: str) -> str:
    """What a letter's QR code opens: the address with the code in the fragment only."""
    return f"{url.split('#', 1)[0]}#{CODE_FRAGMENT}={code}"


def codes_table(codes: Sequence[str], batch_id: str, stratum: str | None) -> pd.DataFrame:
    """The codes file of a batch: one row per code, columns :data:`CODE_COLUMNS`."""
    return pd.DataFrame(
        {"code": list(codes), "batch": batch_id, "stratum": stratum or ""},
        columns=list(CODE_COLUMNS),
        dtype="string",
    )


def codes_csv(codes: Sequence[str], batch_id: str, stratum: str | None) -> bytes:
    """:func:`codes_table` as every other export: ``;``-separated UTF-8 with BOM."""
    return frame_csv(codes_table(codes, batch_id, stratum))


def font_dir(candidates: Sequence[Path] = FONT_DIRS) -> Path:
    """The folder with the DejaVu fonts, or :class:`InvalidInput` naming the package."""
    for folder in candidates:
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            return folder
    raise InvalidInput(
        [
            Problem(
                Location(file=str(candidates[0] / FONT_FILES[""])),
                "letters.font_missing",
            )
        ]
    )


# --- the PDF ---------------------------------------------------------------------------------


def letters_pdf(kit: LetterKit, codes: Sequence[str], *, fonts: Path | None = None) -> bytes:
    """One A4 page per code, in the order given; the fonts are embedded (subset)."""
    folder = fonts or font_dir()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(_LEFT, _TOP, _RIGHT)
    pdf.set_auto_page_break(auto=False)
    for style, name in FONT_FILES.items():
        pdf.add_font(_FONT, style, str(folder / name))
    title = kit.text(kit.questionnaire.meta.title)
    pdf.set_title(title)
    pdf.set_lang(kit.lang)
    pdf.set_creator("Sicherheitsanalyse")
    for code in codes:
        _letter_page(pdf, kit, title, code)
    return bytes(pdf.output())


def _letter_page(pdf: FPDF, kit: LetterKit, title: str, code: str) -> None:
    pdf.add_page()
    width = pdf.w - _LEFT - _RIGHT
    letter = kit.questionnaire.meta.letter
    pdf.set_text_color(0, 0, 0)
    sender = kit.text(letter.sender) or (kit.questionnaire.meta.municipality or "")
    if sender:
        pdf.set_font(_FONT, "", 8)
        pdf.set_xy(_LEFT, _ADDRESS_TOP - 6)
        pdf.cell(85, 4, sender.replace("\n", " · "))
    # The address field stays empty: the municipality's address label goes here.
    pdf.set_xy(_LEFT, _ADDRESS_TOP + _ADDRESS_HEIGHT + 8)
    pdf.set_font(_FONT, "B", 13)
    pdf.multi_cell(width, 6.5, title, align="L")
    pdf.ln(3)
    pdf.set_font(_FONT, "", 11)
    body = kit.text(letter.text) or t("letters.default_text", kit.lang, title=title)
    for paragraph in (p.strip() for p in body.split("\n\n")):
        if paragraph:
            pdf.multi_cell(width, 5.6, " ".join(paragraph.split()), align="L")
            pdf.ln(2.5)
    signature = kit.text(letter.signature)
    if signature:
        pdf.multi_cell(width, 5.6, signature, align="L")
    pdf.ln(4)
    _participation_box(pdf, kit, code, width)
    pdf.set_xy(_LEFT, pdf.h - 48)
    pdf.set_font(_FONT, "B", 8.5)
    pdf.cell(width, 4.5, t("letters.privacy_title", kit.lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 8.5)
    pdf.multi_cell(width, 4.2, t("letters.privacy_text", kit.lang), align="L")


def _participation_box(pdf: FPDF, kit: LetterKit, code: str, width: float) -> None:
    """The framed block a resident needs: address, QR code, code and deadline."""
    top = pdf.get_y()
    height = _BOX_HEIGHT
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.3)
    pdf.rect(_LEFT, top, width, height)
    qr_top = top + (height - _QR_SIZE) / 2
    _qr(pdf, letter_link(kit.url, code), _LEFT + width - _QR_SIZE - 6, qr_top, _QR_SIZE)
    text_width = width - _QR_SIZE - 18
    pdf.set_xy(_LEFT + 6, top + 4)
    pdf.set_font(_FONT, "B", 10.5)
    pdf.cell(text_width, 5.5, t("letters.how_title", kit.lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(_LEFT + 6)
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(text_width, 5.2, t("letters.how_url", kit.lang), align="L")
    pdf.set_x(_LEFT + 6)
    pdf.set_font(_FONT, "B", 12)
    pdf.cell(text_width, 7, kit.url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(_LEFT + 6)
    pdf.set_font(_FONT, "", 10)
    pdf.cell(text_width, 6, t("letters.how_code", kit.lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(_LEFT + 6)
    pdf.set_font(_FONT, "B", 15)
    pdf.cell(text_width, 8, code, new_x="LMARGIN", new_y="NEXT")
    if kit.deadline is not None:
        pdf.set_x(_LEFT + 6)
        pdf.set_font(_FONT, "", 10)
        pdf.cell(
            text_width,
            6,
            t("letters.deadline", kit.lang, date=format_date(kit.deadline, kit.lang)),
        )
    pdf.set_y(top + height + 4)


def _qr(pdf: FPDF, content: str, x: float, y: float, size: float) -> None:
    """``content`` as a vector QR code (sharp at any printer resolution), with a quiet zone
    left white around it by the surrounding layout."""
    qr = segno.make(content, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules: a smaller file
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module, "F")
            else:
                c += 1


# --- the DOCX mail-merge template ------------------------------------------------------------


def letters_docx(kit: LetterKit) -> bytes:
    """A Word mail-merge template for the codes file: the same letter with merge fields named
    like the file's columns (``«code»``, ``«batch»``, ``«stratum»``).

    Its QR code opens the address without a code (a merge cannot draw one QR code per letter
    in every word processor); the resident types the printed code.
    """
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.left_margin, section.right_margin = Mm(_LEFT), Mm(_RIGHT)
    section.top_margin = Mm(_TOP)
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10.5)
    letter = kit.questionnaire.meta.letter
    sender = kit.text(letter.sender) or (kit.questionnaire.meta.municipality or "")
    if sender:
        document.add_paragraph().add_run(sender.replace("\n", " · ")).font.size = Pt(8)
    for _ in range(6):  # room for the address label in the window of the envelope
        document.add_paragraph()
    title = kit.text(kit.questionnaire.meta.title)
    heading = document.add_paragraph()
    run = heading.add_run(title)
    run.bold, run.font.size = True, Pt(13)
    body = kit.text(letter.text) or t("letters.default_text", kit.lang, title=title)
    for paragraph in (p.strip() for p in body.split("\n\n")):
        if paragraph:
            document.add_paragraph(" ".join(paragraph.split()))
    signature = kit.text(letter.signature)
    if signature:
        document.add_paragraph(signature)
    document.add_paragraph().add_run(t("letters.how_title", kit.lang)).bold = True
    document.add_paragraph(t("letters.how_url", kit.lang))
    address = document.add_paragraph()
    address.add_run(kit.url).bold = True
    qr_image = io.BytesIO()
    segno.make(kit.url, error="m", micro=False).save(qr_image, kind="png", scale=8, border=4)
    qr_image.seek(0)
    document.add_picture(qr_image, width=Mm(_QR_SIZE))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.LEFT
    document.add_paragraph(t("letters.how_code", kit.lang))
    code_line = document.add_paragraph()
    _merge_field(code_line, "code", bold=True, size=15)
    if kit.deadline is not None:
        document.add_paragraph(
            t("letters.deadline", kit.lang, date=format_date(kit.deadline, kit.lang))
        )
    document.add_paragraph().add_run(t("letters.privacy_title", kit.lang)).bold = True
    privacy = document.add_paragraph().add_run(t("letters.privacy_text", kit.lang))
    privacy.font.size = Pt(8.5)
    batch_line = document.add_paragraph()
    batch_line.add_run(t("letters.batch_label", kit.lang) + " ").font.size = Pt(7)
    _merge_field(batch_line, "batch", size=7)
    batch_line.add_run(" ").font.size = Pt(7)
    _merge_field(batch_line, "stratum", size=7)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _merge_field(paragraph: object, name: str, *, bold: bool = False, size: float = 10.5) -> None:
    """A Word MERGEFIELD showing ``«name»`` until merged (also a plain placeholder for tools
    that replace text instead of fields)."""
    run_format = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{int(size * 2)}"/></w:rPr>'
    field = parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" MERGEFIELD {name} ">'
        f"<w:r>{run_format}<w:t>\u00ab{name}\u00bb</w:t></w:r></w:fldSimple>"
    )
    paragraph._p.append(field)  # type: ignore[attr-defined]
