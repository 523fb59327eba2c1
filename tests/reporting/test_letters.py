"""The letter kit: the letters PDF read back (pages, text, embedded fonts, QR codes), the
mail-merge template and the codes file."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from docx import Document
from PIL import Image
from pypdf import PdfReader

from reporting import (
    CODE_COLUMNS,
    LetterKit,
    codes_csv,
    letter_link,
    letters_docx,
    letters_pdf,
)
from survey import generate_code, load_questionnaire

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"
URL = "https://befragung.kleinstadt.de"


@pytest.fixture(scope="module")
def kit() -> LetterKit:
    questionnaire = load_questionnaire(FIXTURE)
    return LetterKit(questionnaire, URL, date(2026, 12, 31), "de")


@pytest.fixture(scope="module")
def codes() -> list[str]:
    return [generate_code() for _ in range(3)]


@pytest.fixture(scope="module")
def pdf(kit: LetterKit, codes: list[str]) -> bytes:
    return letters_pdf(kit, codes)


def test_one_page_per_code_with_the_code_the_address_and_the_deadline(
    pdf: bytes, codes: list[str]
) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(codes)
    for page, code in zip(reader.pages, codes, strict=True):
        text = page.extract_text()
        assert code in text
        assert URL in text
        assert "31.12.2026" in text
        assert "bitte machen Sie mit." in text  # the greeting from meta.letter
        assert "Datenschutz" in text
        assert "Stadt Kleinstadt" in text
        assert page.mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
        assert page.mediabox.height == pytest.approx(841.89, abs=0.1)


def test_every_font_is_embedded(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (
                descendants[0].get_object()["/FontDescriptor"]
                if descendants
                else font["/FontDescriptor"]
            ).get_object()
            embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
            assert embedded, font["/BaseFont"]
            fonts += 1
    assert fonts >= 3  # regular, bold and the code's monospace


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None and os.environ.get("CI") != "true",
    reason="pdftoppm missing (Debian poppler-utils; .ci/run installs it, so CI never skips)",
)
def test_each_qr_code_opens_the_survey_with_its_code_in_the_fragment_only(
    pdf: bytes, codes: list[str], tmp_path: Path
) -> None:
    source = tmp_path / "letters.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "120", "-png", str(source), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(codes)
    for image, code in zip(pages, codes, strict=True):
        found = zxingcpp.read_barcodes(Image.open(image))
        assert [b.text for b in found] == [f"{URL}#code={code}"]
        assert letter_link(URL, code) == f"{URL}#code={code}"


def test_the_letter_in_english(kit: LetterKit, codes: list[str]) -> None:
    english = LetterKit(kit.questionnaire, URL, None, "en")
    text = PdfReader(io.BytesIO(letters_pdf(english, codes[:1]))).pages[0].extract_text()
    assert "Dear resident" in text
    assert "Data protection" in text
    assert "answer by" not in text  # no deadline, no deadline line


def test_the_mail_merge_template_has_a_field_per_codes_column(kit: LetterKit) -> None:
    document = Document(io.BytesIO(letters_docx(kit)))
    xml = document.element.xml
    for column in CODE_COLUMNS:
        assert f"MERGEFIELD {column} " in xml
        assert f"\u00ab{column}\u00bb" in xml
    text = "\n".join(p.text for p in document.paragraphs)
    assert URL in text
    assert "31.12.2026" in text
    assert len(document.inline_shapes) == 1  # the QR code of the address


def test_the_codes_file_is_semicolon_separated_like_every_export() -> None:
    data = codes_csv(["ABCD-EFGH-JKLM"], "b1", None).decode("utf-8-sig")
    assert data.splitlines() == ["code;batch;stratum", "ABCD-EFGH-JKLM;b1;"]
