"""Reading scans of the paper questionnaire: synthetic scans made from the printed PDF (boxes
ticked by the test, ±2° rotation, shift, noise, blur, 150 and 300 dpi) are read correctly,
every uncertain box is flagged, and each class of bad input is a located problem with no
forms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import typst

from app import layout_for, read_scans
from app._scanning import box_state
from app._synthetic_scans import (
    box_counts,
    draw_smudge,
    encode_png,
    fill_form,
    images_pdf,
    office_scan,
    rasterise,
)
from reporting import paper_layout, paper_pdf
from survey import load_questionnaire
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import small_questionnaire

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
CODES = ["K7QM-P3XA-9TFD", "ABCD-EFGH-JKMN"]
RESOLVE = layout_for(QUESTIONNAIRE)


@pytest.fixture(scope="module")
def printed() -> bytes:
    return paper_pdf(QUESTIONNAIRE, CODES, "de")


@pytest.fixture(scope="module")
def pages_150(printed: bytes) -> list[np.ndarray]:
    return rasterise(printed, 150)


def _spoil(pages: list[np.ndarray], dpi: int, rng: np.random.Generator) -> list[np.ndarray]:
    return office_scan(pages, dpi, rng)


@pytest.mark.parametrize("dpi", [150, 300])
def test_synthetic_scans_read_correctly(printed: bytes, dpi: int, rng: np.random.Generator) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    pages = rasterise(printed, dpi)
    per_form = layout.pages
    filled = [
        fill_form(pages[i * per_form : (i + 1) * per_form], layout, dpi, rng, smudge_rate=0.004)
        for i in (0, 1)
    ]
    scan = images_pdf(_spoil([p for f in filled for p in f.pages], dpi, rng), dpi)
    result = read_scans([("scan.pdf", scan)], RESOLVE)
    assert result.problems == []
    assert [f.code for f in result.forms] == CODES
    total, correct, wrong, flagged = box_counts(result.forms, filled, layout)
    # The blots are ambiguous by design: flagged (or read as the empty boxes they are).
    smudges = sum(1 for f in filled for style in f.styles.values() if style == "smudge")
    assert wrong == 0
    assert flagged <= smudges
    assert correct / total >= 0.995
    # Every written field is shown for typing, every empty one is not.
    for form, truth in zip(result.forms, filled, strict=True):
        written = {r.answer_id for r in form.reviews if r.reason == "written"}
        assert written == set(truth.written)


def test_every_uncertain_box_is_flagged(
    pages_150: list[np.ndarray], rng: np.random.Generator
) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    pages = [p.copy() for p in pages_150[: layout.pages]]
    smudged = [m for m in layout.marks if m.answer_id in ("safe_night", "prob_litter", "measures")]
    for mark in smudged[::3]:
        draw_smudge(pages[mark.page - 1], mark, 150, 0.05)
    result = read_scans([("scan.pdf", images_pdf(_spoil(pages, 150, rng), 150))], RESOLVE)
    form = result.forms[0]
    flagged = {r.answer_id for r in form.reviews if r.reason == "uncertain"}
    assert flagged == {m.answer_id for m in smudged[::3]}
    assert not flagged & set(form.answers)
    assert form.uncertain_boxes == len(smudged[::3])
    review = next(r for r in form.reviews if r.answer_id == "safe_night")
    assert review.image.startswith(b"\x89PNG")


def test_box_states() -> None:
    assert box_state(0.0) == "empty"
    assert box_state(0.3) == "ticked"
    assert box_state(1.0) == "cancelled"
    assert box_state(0.07) == box_state(0.85) == "uncertain"


def test_images_as_png_jpeg_and_tiff(pages_150: list[np.ndarray], rng: np.random.Generator) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    pages = _spoil(pages_150[: layout.pages], 150, rng)
    blank = np.full_like(pages[0], 250)  # the empty back of a duplex scan
    ok, tiff = cv2.imencodemulti(".tiff", [*pages[2:], blank])
    assert ok
    files = [
        ("p1.png", encode_png(pages[0])),
        ("p2.jpg", cv2.imencode(".jpg", pages[1], [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()),
        ("rest.tiff", tiff.tobytes()),
    ]
    result = read_scans(files, RESOLVE)
    assert result.problems == []
    assert [f.code for f in result.forms] == CODES[:1]
    assert (result.pages, result.blank_pages) == (layout.pages + 1, 1)


# --- bad input ---------------------------------------------------------------------------


def _keys(result: object) -> list[tuple[str | None, int | None, str]]:
    return [(p.location.file, p.location.line, p.key) for p in result.problems]  # type: ignore[attr-defined]


def test_foreign_pdf_and_unreadable_file() -> None:
    foreign = typst.compile(b"= Ein anderes Dokument\n\nKein Fragebogen.", format="pdf")
    result = read_scans([("brief.pdf", foreign), ("notes.txt", b"hello")], RESOLVE)
    assert _keys(result) == [
        ("brief.pdf", 1, "paper.scan.no_mark"),
        ("notes.txt", None, "paper.scan.unreadable"),
    ]
    assert result.forms == []


def test_page_of_another_questionnaire_or_revision() -> None:
    other = paper_pdf(small_questionnaire(), CODES[:1], "de")
    older = QUESTIONNAIRE.model_copy(update={"revision": "0" * 64})
    old = rasterise(paper_pdf(older, CODES[:1], "de"), 150)[0]
    result = read_scans([("other.pdf", other), ("old.png", encode_png(old))], RESOLVE)
    keys = _keys(result)
    assert ("other.pdf", 1, "paper.scan.other_questionnaire") in keys
    assert ("old.png", 1, "paper.scan.other_revision") in keys
    assert result.forms == []


def test_missing_and_duplicate_pages(pages_150: list[np.ndarray]) -> None:
    layout = paper_layout(QUESTIONNAIRE, "de")
    form = pages_150[: layout.pages]
    missing = read_scans([("a.pdf", images_pdf(form[:2] + form[3:], 150))], RESOLVE)
    assert _keys(missing) == [("a.pdf", 1, "paper.scan.missing_pages")]
    assert missing.problems[0].params["pages"] == "3"
    twice = read_scans([("a.pdf", images_pdf(form, 150)), ("b.png", encode_png(form[1]))], RESOLVE)
    assert _keys(twice) == [("b.png", 1, "paper.scan.duplicate_page")]
    assert twice.forms == []


def test_blurred_and_coarse_scans(pages_150: list[np.ndarray]) -> None:
    blurred = cv2.GaussianBlur(pages_150[0], (0, 0), 9)
    coarse = cv2.resize(pages_150[1], None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    result = read_scans(
        [("blurred.png", encode_png(blurred)), ("coarse.png", encode_png(coarse))], RESOLVE
    )
    assert _keys(result) == [
        ("blurred.png", 1, "paper.scan.blurred"),
        ("coarse.png", 1, "paper.scan.low_resolution"),
    ]
