"""The letter kit of a code batch: personalised invitation letters as a print-ready A4 PDF,
a DOCX mail-merge template and the codes table for the mail merge.

Each letter carries the survey's short address, the access code and a QR code. The QR code
opens ``<address>#code=<code>``: a URL fragment is never sent to a server, so the code reaches
no web server, proxy or access log; the survey page reads it in the browser and removes it
from the address bar (docs/privacy.md, "Codes on letters").

The PDF is laid out by Typst (``reporting/templates/letters.typ``), like the report: fonts
embedded from the Typst wheel, a tagged PDF/UA-1 file. Layout after DIN 5008 form B: the
address field (window envelope) stays empty for the address label of the register sample,
which the municipality applies; the PDF knows codes, not people.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib.resources import files

import pandas as pd
import segno
import typst
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Mm, Pt

from core import format_date, t
from reporting._exports import frame_csv
from survey import Questionnaire

#: The columns of the codes file, in order: the DOCX template's merge fields are named alike.
CODE_COLUMNS: tuple[str, ...] = ("code", "batch", "stratum")
#: The fragment key the survey page reads the code from.
CODE_FRAGMENT = "code"
TEMPLATE = files("reporting").joinpath("templates/letters.typ")
#: The DOCX template's page margins and QR size (mm), as in letters.typ.
_LEFT, _RIGHT, _TOP = 25.0, 20.0, 20.0
_QR_SIZE = 36.0


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


# --- the PDF ---------------------------------------------------------------------------------


def letters_pdf(kit: LetterKit, codes: Sequence[str]) -> bytes:
    """One A4 page per code, in the order given: laid out by Typst like the report, with its
    embedded fonts (subset) and as a tagged PDF (PDF/UA-1); each QR code is a vector image."""
    pdf = typst.compile(
        TEMPLATE.read_bytes(),
        format="pdf",
        sys_inputs={"letters": letters_json(kit, codes)},
        pdf_standards=["ua-1"],
        ignore_system_fonts=True,
    )
    assert isinstance(pdf, bytes)
    return pdf


def letters_json(kit: LetterKit, codes: Sequence[str]) -> str:
    """What the Typst template reads: the shared texts once, and per letter its code and QR."""
    q = kit.questionnaire
    letter = q.meta.letter
    title = kit.text(q.meta.title)
    body = kit.text(letter.text) or t("letters.default_text", kit.lang, title=title)
    deadline = (
        t("letters.deadline", kit.lang, date=format_date(kit.deadline, kit.lang))
        if kit.deadline is not None
        else ""
    )
    data = {
        "lang": kit.lang,
        "title": title,
        "sender": _sender(kit).replace("\n", " · "),
        "paragraphs": _paragraphs(body),
        "signature": kit.text(letter.signature),
        "url": kit.url,
        "deadline": deadline,
        "how_title": t("letters.how_title", kit.lang),
        "how_url": t("letters.how_url", kit.lang),
        "how_code": t("letters.how_code", kit.lang),
        "qr_alt": t("letters.qr_alt", kit.lang),
        "privacy_title": t("letters.privacy_title", kit.lang),
        "privacy_text": t("letters.privacy_text", kit.lang),
        "letters": [{"code": code, "qr": _qr_svg(letter_link(kit.url, code))} for code in codes],
    }
    return json.dumps(data, ensure_ascii=False)


def _sender(kit: LetterKit) -> str:
    return kit.text(kit.questionnaire.meta.letter.sender) or (
        kit.questionnaire.meta.municipality or ""
    )


def _paragraphs(body: str) -> list[str]:
    """Paragraphs separated by blank lines, each on one line (as a YAML block is written)."""
    return [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]


def _qr_svg(content: str) -> str:
    """``content`` as a QR code in SVG (vector: sharp at any printer resolution), with its
    quiet zone."""
    out = io.BytesIO()
    segno.make(content, error="m", micro=False).save(out, kind="svg", border=4, xmldecl=False)
    return out.getvalue().decode("utf-8")


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
    style.font.name = "Libertinus Serif"  # the PDF letters' font; Word substitutes if absent
    style.font.size = Pt(10.5)
    letter = kit.questionnaire.meta.letter
    sender = _sender(kit)
    if sender:
        document.add_paragraph().add_run(sender.replace("\n", " · ")).font.size = Pt(8)
    for _ in range(6):  # room for the address label in the window of the envelope
        document.add_paragraph()
    title = kit.text(kit.questionnaire.meta.title)
    heading = document.add_paragraph()
    run = heading.add_run(title)
    run.bold, run.font.size = True, Pt(13)
    body = kit.text(letter.text) or t("letters.default_text", kit.lang, title=title)
    for paragraph in _paragraphs(body):
        document.add_paragraph(paragraph)
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
