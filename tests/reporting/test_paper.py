"""The paper questionnaire PDF read back: pages, numbers, skip instructions, codes, fonts,
page marks decodable after rasterising, and boxes printed exactly where the layout says."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from pypdf import PdfReader

from app._synthetic_scans import rasterise
from reporting import (
    FIDUCIALS,
    MARK_ORIGIN,
    MARK_SIZE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PageMark,
    mark_modules,
    page_mark_text,
    paper_layout,
    paper_pdf,
    parse_page_mark,
    skip_rules,
)
from survey import Form, load_questionnaire, question_numbers
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import small_questionnaire

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
CODES = ["K7QM-P3XA-9TFD", "ABCD-EFGH-JKMN"]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return paper_pdf(QUESTIONNAIRE, CODES, "de")


def _text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_one_form_per_code_numbered_like_the_online_form(pdf: bytes) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    pages = _text(pdf)
    assert len(pages) == len(CODES) * layout.pages
    first = "\n".join(pages[: layout.pages])
    numbers = sorted(set(question_numbers(QUESTIONNAIRE).values()))
    for number in numbers:
        assert re.search(rf"(^|\n){number}\.", first), number
    assert "Wie sicher fühlen Sie sich nachts ohne Begleitung in Ihrer Wohngegend?" in first
    # Every page names its form's code; the second form's pages the second code.
    for index, text in enumerate(pages):
        assert CODES[index // layout.pages] in text


def test_skip_instructions_in_words(pdf: bytes) -> None:
    first = " ".join(_text(pdf)[: paper_layout(QUESTIONNAIRE, "de").pages])
    numbers = question_numbers(QUESTIONNAIRE)
    # "Gibt es Orte, die Sie meiden?" nein -> the question after its two follow-ups.
    assert f"weiter mit Frage {numbers['vict_theft']}" in first
    assert f"Nur beantworten, wenn Sie bei Frage {numbers['avoid_places']} „ja“" in first
    rules = skip_rules(QUESTIONNAIRE, "de")
    assert rules.jumps[("avoid_places", False)] == numbers["vict_theft"]
    assert rules.jumps[("vict_theft", False)] == numbers["vict_burglary"]
    assert ("avoid_places", True) not in rules.jumps
    # The last follow-up of a section jumps into the next section.
    assert rules.jumps[("vict_arson", False)] == numbers["satisfaction"]


def test_fonts_are_embedded(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            if "/DescendantFonts" in descriptor:
                descriptor = descriptor["/DescendantFonts"][0].get_object()
            file_keys = {"/FontFile", "/FontFile2", "/FontFile3"}
            assert file_keys & set(descriptor["/FontDescriptor"].keys())
            fonts += 1
    assert fonts > 0


def test_page_marks_decode_after_rasterising(pdf: bytes) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    for index, image in enumerate(rasterise(pdf, 150)):
        found = zxingcpp.read_barcodes(image)
        marks = [parse_page_mark(b.text) for b in found]
        mark = next(m for m in marks if m is not None)
        assert mark == PageMark(
            QUESTIONNAIRE.id,
            QUESTIONNAIRE.revision[:12],
            "de",
            False,
            index % layout.pages + 1,
            layout.pages,
            CODES[index // layout.pages],
        )


def test_boxes_are_printed_where_the_layout_says(pdf: bytes) -> None:
    """In every form, each box's frame is dark and its inside white; the corner squares are
    solid; nothing lies outside the sheet."""
    dpi = 200
    s = dpi / 25.4
    layout = paper_layout(QUESTIONNAIRE, "de")
    images = rasterise(pdf, dpi)
    for form in range(len(CODES)):
        for mark in layout.marks:
            image = images[form * layout.pages + mark.page - 1]
            x0, y0, size = mark.x * s, mark.y * s, mark.size * s
            edge = image[round(y0 + size / 2), round(x0) - 1 : round(x0) + 2]
            inside = image[
                round(y0 + 0.25 * size) : round(y0 + 0.75 * size),
                round(x0 + 0.25 * size) : round(x0 + 0.75 * size),
            ]
            assert edge.min() < 128, mark
            assert inside.min() > 200, mark
            assert 0 < mark.x < PAGE_WIDTH
            assert 0 < mark.y < PAGE_HEIGHT
    for x, y in FIDUCIALS:
        assert images[0][round(y * s), round(x * s)] < 50


def test_every_answer_has_boxes_or_a_field() -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    rules = Form(QUESTIONNAIRE)
    answers = {a for a in question_numbers(QUESTIONNAIRE)}
    batteries = {i.id for i in QUESTIONNAIRE.items() if i.kind == "battery"}
    assert set(layout.answer_ids()) == answers - batteries
    for mark in layout.marks:
        assert mark.number == rules.question_number(mark.answer_id)
    boxes = {(m.page, round(m.x, 1), round(m.y, 1)) for m in layout.marks}
    assert len(boxes) == len(layout.marks)  # no two boxes on one spot


def test_every_kind_and_both_languages_and_large_print() -> None:
    small = small_questionnaire()
    layout = paper_layout(small, "en")
    assert {f.kind for f in layout.fields} >= {"number", "date", "text"}
    large = paper_layout(QUESTIONNAIRE, "en", large_print=True)
    normal = paper_layout(QUESTIONNAIRE, "en")
    assert large.pages > normal.pages
    assert large.marks[0].size > normal.marks[0].size
    english = _text(paper_pdf(QUESTIONNAIRE, CODES[:1], "en", large_print=True))
    joined = " ".join(english)
    assert "How safe do you feel" in joined
    assert "go on with question" in joined
    assert len(english) == large.pages


def test_page_mark_text_round_trips() -> None:
    mark = PageMark("q", "0123456789abcdef", "de", True, 3, 8, "K7QM-P3XA-9TFD")
    text = page_mark_text(mark)
    assert parse_page_mark(text) == PageMark("q", "0123456789ab", "de", True, 3, 8, mark.code)
    assert parse_page_mark("https://example.org") is None
    assert parse_page_mark("SA2|q|r|de|N|1|8|c") is None


def test_the_mark_is_printed_where_the_scanner_expects_it(pdf: bytes) -> None:
    """The QR symbol's corners (without quiet zone) lie where :func:`mark_modules` and the
    mark's origin and size put them, within a quarter millimetre."""
    dpi = 200
    s = dpi / 25.4
    image = rasterise(pdf, dpi)[0]
    (barcode,) = zxingcpp.read_barcodes(image)
    modules = mark_modules(barcode.text)
    module = MARK_SIZE / (modules + 8)
    x0, y0 = MARK_ORIGIN[0] + 4 * module, MARK_ORIGIN[1] + 4 * module
    side = modules * module
    p = barcode.position
    found = [(p.top_left.x, p.top_left.y), (p.bottom_right.x, p.bottom_right.y)]
    expected = [(x0, y0), (x0 + side, y0 + side)]
    for (fx, fy), (ex, ey) in zip(found, expected, strict=True):
        assert abs(fx / s - ex) < 0.25
        assert abs(fy / s - ey) < 0.25
