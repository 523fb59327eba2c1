"""Reading scanned paper questionnaires: pages located by their QR mark and corner squares,
boxes read by how much of them is inked.

Each page image goes through the same steps: its QR page mark is decoded (zxing-cpp) and says
which questionnaire, revision, print variant, page and access code it is; the mark's corners
give a first estimate of where the four corner squares are, each square's centre is then
measured, and the homography from the printed positions (millimetres,
:data:`reporting.FIDUCIALS`) to the image maps every box of the :class:`reporting.PaperLayout`
onto the scan. The page is warped to a fixed resolution and every box is read by its fill
ratio: the share of dark pixels inside the printed frame.

A fill ratio is *empty* below :data:`EMPTY_BELOW`, *ticked* between :data:`TICKED_FROM` and
:data:`TICKED_UP_TO`, and *cancelled* (filled in completely, the form's way of taking a tick
back) from :data:`CANCELLED_FROM`; the bands between are *uncertain*, and a person decides
them from an image snippet. The thresholds were calibrated on synthetic scans
(``bench/paper_scanning.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from numpy.typing import NDArray

from core import Location, Problem
from reporting import (
    FIDUCIAL_SIZE,
    FIDUCIALS,
    MARK_ORIGIN,
    MARK_SIZE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Mark,
    PageMark,
    PaperLayout,
    WriteIn,
    mark_modules,
    parse_page_mark,
)

Gray = NDArray[np.uint8]
#: The resolution pages are warped to for reading (pixels per millimetre, about 203 dpi).
PX_PER_MM = 8.0
#: PDF pages are rasterised at this resolution.
PDF_DPI = 200
#: Below this resolution (dots per inch, from the page width) a scan is not read.
MIN_DPI = 100.0
#: The share of dark pixels inside a box that separates its states (see the module text).
EMPTY_BELOW = 0.045
TICKED_FROM = 0.10
TICKED_UP_TO = 0.80
CANCELLED_FROM = 0.92
#: Grey level (0-255, after normalising the paper to white) below which a pixel is ink.
INK_LEVEL = 150
#: A write-in field with more ink than this share of its area is answered.
WRITTEN_FROM = 0.004
#: Below this :func:`sharpness` a page without a readable mark is called blurred.
BLURRED_BELOW = 30.0
#: The largest scan file read.
MAX_SCAN_BYTES = 200 * 1024 * 1024

BoxState = Literal["empty", "ticked", "cancelled", "uncertain"]


@dataclass(frozen=True)
class ScanPage:
    """One page image of an uploaded file (``index`` counts from 1)."""

    source: str
    index: int
    image: Gray

    @property
    def location(self) -> Location:
        """``file:page``, as an editor's ``file:line`` (the page of the file, from 1)."""
        return Location(file=self.source, line=self.index)


@dataclass(frozen=True)
class BoxReading:
    mark: Mark
    ratio: float
    state: BoxState


@dataclass(frozen=True)
class PageReading:
    """A located page: its mark, every box read, and the page warped to :data:`PX_PER_MM`."""

    page: ScanPage
    mark: PageMark
    boxes: tuple[BoxReading, ...]
    canonical: Gray


def box_state(ratio: float) -> BoxState:
    """The state of a box with fill ratio ``ratio``."""
    if ratio < EMPTY_BELOW:
        return "empty"
    if TICKED_FROM <= ratio <= TICKED_UP_TO:
        return "ticked"
    if ratio >= CANCELLED_FROM:
        return "cancelled"
    return "uncertain"


# --- files to page images -------------------------------------------------------------------


def read_scan_file(name: str, data: bytes) -> tuple[list[ScanPage], list[Problem]]:
    """The page images of a scan file: a PDF (every page rasterised at :data:`PDF_DPI`) or a
    PNG, JPEG or (multi-page) TIFF image; a located problem for anything else."""
    where = Location(file=name)
    if len(data) > MAX_SCAN_BYTES:
        return [], [Problem(where, "paper.scan.too_large")]
    if data[:5] == b"%PDF-":
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return [], [Problem(where, "paper.scan.unreadable")]
        pages = []
        for index in range(len(document)):
            bitmap = document[index].render(scale=PDF_DPI / 72, grayscale=True)
            image = np.asarray(bitmap.to_numpy(), dtype=np.uint8)
            if image.ndim == 3:
                image = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            pages.append(ScanPage(name, index + 1, image))
        document.close()
        return pages, []
    buffer = np.frombuffer(data, dtype=np.uint8)
    ok, images = cv2.imdecodemulti(buffer, cv2.IMREAD_GRAYSCALE)
    if not ok or not images:
        return [], [Problem(where, "paper.scan.unreadable")]
    return [
        ScanPage(name, i + 1, np.asarray(img, dtype=np.uint8)) for i, img in enumerate(images)
    ], []


# --- locating a page ----------------------------------------------------------------------


def _decode_mark(image: Gray) -> tuple[str, NDArray[np.float64]] | None:
    """The QR text and its symbol corners (top-left, top-right, bottom-right, bottom-left).

    The bottom-left part of the page, where the mark is printed, is searched first (a fifth
    of the work); then the whole page (a sheet scanned upside down)."""
    h, w = image.shape
    top, right = int(h * 0.7), int(w * 0.45)
    regions = ((image[top:, :right], (0, top)), (image, (0, 0)))
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for region, (dx, dy) in regions:
        for barcode in zxingcpp.read_barcodes(region, formats=formats):
            if not barcode.valid:
                continue
            p = barcode.position
            corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
            return barcode.text, np.array([[c.x + dx, c.y + dy] for c in corners], dtype=float)
    return None


def _mark_corners_mm(text: str) -> NDArray[np.float64]:
    """Where the corners of the QR symbol (without quiet zone) are printed, in mm."""
    modules = mark_modules(text)
    module = MARK_SIZE / (modules + 8)
    x0, y0 = MARK_ORIGIN[0] + 4 * module, MARK_ORIGIN[1] + 4 * module
    side = modules * module
    return np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]])


def _fiducial_centre(
    image: Gray, guess: NDArray[np.float64], px_per_mm: float
) -> NDArray[np.float64] | None:
    """The centre of the solid corner square nearest ``guess`` (pixels), or ``None``."""
    radius = int(10 * px_per_mm)
    x, y = int(guess[0]), int(guess[1])
    top, left = max(0, y - radius), max(0, x - radius)
    window = image[top : y + radius, left : x + radius]
    if window.size == 0:
        return None
    _t, binary = cv2.threshold(window, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _labels, stats, centroids = cv2.connectedComponentsWithStats(binary)
    expected = (FIDUCIAL_SIZE * px_per_mm) ** 2
    best: NDArray[np.float64] | None = None
    best_distance = float("inf")
    for label in range(1, count):
        area = stats[label, cv2.CC_STAT_AREA]
        w, h = stats[label, cv2.CC_STAT_WIDTH], stats[label, cv2.CC_STAT_HEIGHT]
        if not 0.5 * expected <= area <= 1.6 * expected or not 0.7 <= w / max(h, 1) <= 1.4:
            continue
        if area < 0.75 * w * h:  # a solid square, not a frame or text
            continue
        centre = centroids[label] + (left, top)
        distance = float(np.hypot(*(centre - guess)))
        if distance < best_distance:
            best, best_distance = centre, distance
    return best


def sharpness(image: Gray, px_per_mm: float) -> float:
    """How sharp the page's edges are: the 95th percentile of the grey-level gradient over the
    pixels on an edge, per tenth of a millimetre. Print scanned at 150 dpi: about 75, at
    300 dpi: about 150; the QR mark stops being readable below about 30."""
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt(gx * gx + gy * gy) / 8.0
    edges = magnitude[magnitude > 6.0]
    if edges.size < 50:
        return 0.0
    return float(np.percentile(edges, 95)) * px_per_mm / 10.0


def is_blank(image: Gray) -> bool:
    """Whether the page holds (almost) no ink: the empty back of a duplex scan."""
    white = max(_percentile(image, 90), 1.0)
    return float(np.mean(image < 0.5 * white)) < 0.0005


def locate_page(page: ScanPage) -> tuple[PageMark, NDArray[np.float64]] | Problem:
    """The page's mark and the homography from printed millimetres to its pixels, or what
    prevents reading it."""
    image = page.image
    px_per_mm = max(image.shape) / PAGE_HEIGHT
    if px_per_mm * 25.4 < MIN_DPI:
        return Problem(page.location, "paper.scan.low_resolution", {"dpi": round(px_per_mm * 25.4)})
    found = _decode_mark(image)
    if found is None:
        if sharpness(image, px_per_mm) < BLURRED_BELOW:
            return Problem(page.location, "paper.scan.blurred")
        return Problem(page.location, "paper.scan.no_mark")
    text, corners = found
    mark = parse_page_mark(text)
    if mark is None:
        return Problem(page.location, "paper.scan.no_mark")
    # A similarity (rotation, scale, shift) from the small QR symbol: a full homography
    # from its corners would extrapolate badly to the far corners of the sheet.
    rough, _inliers = cv2.estimateAffinePartial2D(_mark_corners_mm(text), corners)
    if rough is None:
        return Problem(page.location, "paper.scan.no_corners")
    printed = np.array(FIDUCIALS, dtype=np.float64)
    guesses = printed @ rough[:, :2].T + rough[:, 2]
    scale = float(np.hypot(*(guesses[1] - guesses[0]))) / (FIDUCIALS[1][0] - FIDUCIALS[0][0])
    centres = [_fiducial_centre(image, guess, scale) for guess in guesses]
    if any(c is None for c in centres):
        return Problem(page.location, "paper.scan.no_corners")
    measured = np.array(centres, dtype=np.float64)
    homography, _mask = cv2.findHomography(printed, measured)
    if homography is None:
        return Problem(page.location, "paper.scan.no_corners")
    return mark, np.asarray(homography, dtype=np.float64)


def _percentile(image: Gray, q: float) -> float:
    """The ``q``-th percentile grey level of an 8-bit image, from the histogram of every
    other pixel of every other row."""
    counts = np.cumsum(np.bincount(image[::2, ::2].ravel(), minlength=256))
    return float(np.searchsorted(counts, counts[-1] * q / 100.0))


def warp(image: Gray, homography: NDArray[np.float64]) -> Gray:
    """The page at :data:`PX_PER_MM`, paper normalised to white."""
    to_canonical = np.diag([PX_PER_MM, PX_PER_MM, 1.0]) @ np.linalg.inv(homography)
    size = (int(PAGE_WIDTH * PX_PER_MM), int(PAGE_HEIGHT * PX_PER_MM))
    canonical = np.asarray(
        cv2.warpPerspective(image, to_canonical, size, flags=cv2.INTER_LINEAR, borderValue=255),
        dtype=np.uint8,
    )
    white = max(_percentile(canonical, 90), 1.0)
    normalised = np.clip(np.asarray(canonical, dtype=np.float32) * (255.0 / white), 0, 255)
    return np.asarray(normalised, dtype=np.uint8)


def _region(canonical: Gray, x: float, y: float, w: float, h: float) -> Gray:
    x0, y0 = round(x * PX_PER_MM), round(y * PX_PER_MM)
    x1, y1 = round((x + w) * PX_PER_MM), round((y + h) * PX_PER_MM)
    return canonical[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]


def fill_ratio(canonical: Gray, mark: Mark) -> float:
    """The share of ink inside a box's frame (the frame itself and a margin left out)."""
    inset = 0.16 * mark.size
    inner = _region(
        canonical, mark.x + inset, mark.y + inset, mark.size - 2 * inset, mark.size - 2 * inset
    )
    return float(np.mean(inner < INK_LEVEL)) if inner.size else 0.0


def ink_share(canonical: Gray, written: WriteIn) -> float:
    inner = _region(
        canonical, written.x + 1.0, written.y + 1.0, written.width - 2.0, written.height - 2.0
    )
    return float(np.mean(inner < INK_LEVEL)) if inner.size else 0.0


def snippet(canonical: Gray, x: float, y: float, w: float, h: float) -> bytes:
    """A region of the page as PNG (for a person to read)."""
    ok, encoded = cv2.imencode(".png", _region(canonical, x, y, w, h))
    assert ok
    return bytes(encoded.tobytes())


def read_page(
    page: ScanPage, layout_for: Callable[[PageMark], PaperLayout | Problem]
) -> PageReading | Problem:
    """Locate ``page`` and read every box of its page of the layout."""
    located = locate_page(page)
    if isinstance(located, Problem):
        return located
    mark, homography = located
    layout = layout_for(mark)
    if isinstance(layout, Problem):
        return Problem(page.location, layout.key, layout.params)
    if not 1 <= mark.page <= layout.pages or mark.pages != layout.pages:
        return Problem(page.location, "paper.scan.foreign_page", {"page": mark.page})
    canonical = warp(page.image, homography)
    boxes = []
    for box in layout.marks:
        if box.page == mark.page:
            ratio = fill_ratio(canonical, box)
            boxes.append(BoxReading(box, ratio, box_state(ratio)))
    return PageReading(page, mark, tuple(boxes), canonical)


# --- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """An answer a person must decide: uncertain or contradicting boxes, or a written field."""

    answer_id: str
    number: int
    #: ``choice`` (one answer), ``multi`` (several) or the kind of a write-in field.
    kind: str
    #: The values a choice answer may take, in print order.
    values: tuple[Any, ...]
    #: What the scanner read (a value, a list of values for ``multi``, ``None``).
    guess: Any
    #: ``uncertain``, ``several`` or ``written``.
    reason: str
    #: The printed question or field as PNG.
    image: bytes
    #: Per value its fill ratio and state (choice answers).
    ratios: tuple[tuple[Any, float, str], ...] = ()


@dataclass(frozen=True)
class ScannedForm:
    """One respondent's form, grouped from its pages by access code."""

    code: str
    layout: PaperLayout
    #: Answers read with certainty (answer id -> value as the form keeps it).
    answers: dict[str, Any]
    reviews: tuple[Review, ...]
    sources: tuple[tuple[str, int], ...]
    uncertain_boxes: int = 0

    @property
    def lang(self) -> str:
        return self.layout.lang


@dataclass
class ScanResult:
    forms: list[ScannedForm] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pages: int = 0
    #: Empty pages (the backs of a duplex scan), left out.
    blank_pages: int = 0


def _choice_answer(
    readings: list[BoxReading], canonical_of: Callable[[int], Gray]
) -> tuple[Any, Review | None, int]:
    mark = readings[0].mark
    ticked = [r.mark.value for r in readings if r.state == "ticked"]
    uncertain = [r for r in readings if r.state == "uncertain"]
    multi = mark.multi
    value: Any = (ticked or None) if multi else (ticked[0] if len(ticked) == 1 else None)
    reason = "uncertain" if uncertain else ("several" if not multi and len(ticked) > 1 else "")
    if not reason:
        return value, None, 0
    page = mark.page
    top = min(r.mark.y for r in readings) - 2.0
    bottom = max(r.mark.y + r.mark.size for r in readings) + 2.0
    left = min(r.mark.x for r in readings)
    # A list of options (one column of boxes): the boxes and their labels; a battery row:
    # the whole width, its statement on the left.
    if max(r.mark.x for r in readings) - left < 1.0:
        x, width = left - 3.0, min(110.0, PAGE_WIDTH - left - 15.0)
    else:
        x, width = 18.0, PAGE_WIDTH - 36.0
    image = snippet(canonical_of(page), x, top, width, bottom - top)
    review = Review(
        answer_id=mark.answer_id,
        number=mark.number,
        kind="multi" if multi else "choice",
        values=tuple(r.mark.value for r in readings),
        guess=value,
        reason=reason,
        image=image,
        ratios=tuple((r.mark.value, round(r.ratio, 3), r.state) for r in readings),
    )
    return None, review, len(uncertain)


def assemble_form(code: str, layout: PaperLayout, pages: dict[int, PageReading]) -> ScannedForm:
    """A complete form (every page read) as its sure answers and the reviews left."""
    by_answer: dict[str, list[BoxReading]] = {}
    for reading in pages.values():
        for box in reading.boxes:
            by_answer.setdefault(box.mark.answer_id, []).append(box)
    answers: dict[str, Any] = {}
    reviews: list[Review] = []
    uncertain = 0
    for answer_id in layout.answer_ids():
        if answer_id in by_answer:
            value, review, count = _choice_answer(
                by_answer[answer_id], lambda p: pages[p].canonical
            )
            uncertain += count
            if review is not None:
                reviews.append(review)
            elif value is not None:
                answers[answer_id] = value
    for written in layout.fields:
        canonical = pages[written.page].canonical
        if ink_share(canonical, written) >= WRITTEN_FROM:
            reviews.append(
                Review(
                    answer_id=written.answer_id,
                    number=written.number,
                    kind=written.kind,
                    values=(),
                    guess=None,
                    reason="written",
                    image=snippet(
                        canonical,
                        written.x - 1.5,
                        written.y - 1.5,
                        written.width + 3.0,
                        written.height + 3.0,
                    ),
                )
            )
    order = {a: i for i, a in enumerate(layout.answer_ids())}
    reviews.sort(key=lambda r: order.get(r.answer_id, 0))
    sources = tuple((pages[p].page.source, pages[p].page.index) for p in sorted(pages))
    return ScannedForm(code, layout, answers, tuple(reviews), sources, uncertain)


def read_scans(
    files: Sequence[tuple[str, bytes]],
    layout_for: Callable[[PageMark], PaperLayout | Problem],
) -> ScanResult:
    """Every form in the scan files: pages located and read, grouped by access code.

    A page that cannot be read (no mark, another questionnaire or revision, blurred, too
    coarse), a page seen twice and a form with a missing page are located problems; the
    forms are returned only when there are none, so nothing half-read goes further.
    """
    result = ScanResult()
    readings: dict[tuple[str, str, str, bool], dict[int, list[PageReading]]] = {}
    for name, data in files:
        pages, problems = read_scan_file(name, data)
        result.problems += problems
        for page in pages:
            result.pages += 1
            if is_blank(page.image):
                result.blank_pages += 1
                continue
            reading = read_page(page, layout_for)
            if isinstance(reading, Problem):
                result.problems.append(reading)
                continue
            m = reading.mark
            key = (m.code, m.questionnaire_id, m.lang, m.large_print)
            readings.setdefault(key, {}).setdefault(m.page, []).append(reading)
    for (code, _qid, _lang, _large), by_page in readings.items():
        first = next(iter(by_page.values()))[0]
        layout = layout_for(first.mark)
        assert not isinstance(layout, Problem)
        problems = []
        for number, seen in sorted(by_page.items()):
            if len(seen) > 1:
                where = ", ".join(f"{r.page.source} {r.page.index}" for r in seen)
                problems.append(
                    Problem(
                        seen[1].page.location,
                        "paper.scan.duplicate_page",
                        {"page": number, "code": code, "where": where},
                    )
                )
        missing = [str(p) for p in range(1, layout.pages + 1) if p not in by_page]
        if missing:
            problems.append(
                Problem(
                    first.page.location,
                    "paper.scan.missing_pages",
                    {"pages": ", ".join(missing), "code": code, "count": layout.pages},
                )
            )
        result.problems += problems
        if not problems:
            complete = {number: seen[0] for number, seen in by_page.items()}
            result.forms.append(assemble_form(code, layout, complete))
    if result.problems:
        result.forms = []
    return result


__all__ = [
    "CANCELLED_FROM",
    "EMPTY_BELOW",
    "PX_PER_MM",
    "TICKED_FROM",
    "TICKED_UP_TO",
    "BoxReading",
    "PageReading",
    "Review",
    "ScanPage",
    "ScanResult",
    "ScannedForm",
    "assemble_form",
    "box_state",
    "fill_ratio",
    "locate_page",
    "read_page",
    "read_scan_file",
    "read_scans",
    "sharpness",
]
