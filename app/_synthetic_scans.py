"""Synthetic scans of filled-in paper questionnaires, for the tests and the benchmark.

A printed form (the PDF from :func:`reporting.paper_pdf`) is rasterised at a scanner's
resolution, boxes are ticked with pen-like crosses and check marks or filled in (a taken-back
tick), write-in fields get handwriting-like strokes, and the page is then rotated, shifted,
blurred and overlaid with noise as a cheap office scanner would.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray

from app._scanning import ScannedForm
from reporting import Mark, PaperLayout

Gray = NDArray[np.uint8]


@dataclass(frozen=True)
class Degradation:
    """How a synthetic scan is spoilt."""

    angle: float = 0.0  # degrees
    shift: tuple[float, float] = (0.0, 0.0)  # mm
    blur: float = 0.0  # Gaussian sigma in mm
    noise: float = 0.0  # grey-level standard deviation


def rasterise(pdf: bytes, dpi: int) -> list[Gray]:
    """Every page of ``pdf`` in grey at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    pages = [
        np.array(document[i].render(scale=dpi / 72, grayscale=True).to_numpy(), dtype=np.uint8)
        for i in range(len(document))
    ]
    document.close()
    return [
        p if p.ndim == 2 else np.asarray(cv2.cvtColor(p, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        for p in pages
    ]


def _pen(rng: np.random.Generator, px_per_mm: float) -> int:
    return max(1, round(rng.uniform(0.3, 0.6) * px_per_mm))


def draw_tick(image: Gray, mark: Mark, dpi: int, rng: np.random.Generator, style: str) -> None:
    """Mark a box as a respondent would: ``cross``, ``check`` or ``fill`` (taken back)."""
    s = dpi / 25.4
    x, y, size = mark.x * s, mark.y * s, mark.size * s
    jitter = rng.uniform(-0.12, 0.12, 4) * size
    if style == "fill":
        pad = rng.uniform(-0.05, 0.08) * size
        corners = np.array(
            [
                [x - pad, y - pad],
                [x + size + pad, y - pad],
                [x + size + pad, y + size + pad],
                [x - pad, y + size + pad],
            ]
        )
        cv2.fillPoly(
            image,
            [np.round(corners + rng.uniform(-1, 1, (4, 2)) * 0.04 * size).astype(np.int32)],
            int(rng.integers(10, 60)),
        )
        return
    pen = _pen(rng, s)
    ink = int(rng.integers(10, 80))
    if style == "check":
        points = (
            np.array(
                [
                    [x + 0.15 * size, y + 0.55 * size],
                    [x + 0.42 * size, y + 0.85 * size],
                    [x + 0.95 * size, y + 0.05 * size],
                ]
            )
            + jitter[:2]
        )
        cv2.polylines(image, [np.round(points).astype(np.int32)], False, ink, pen, cv2.LINE_AA)
        return
    reach = rng.uniform(0.0, 0.2) * size
    a = (x - reach + jitter[0], y - reach + jitter[1])
    b = (x + size + reach + jitter[2], y + size + reach + jitter[3])
    cv2.line(image, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), ink, pen, cv2.LINE_AA)
    cv2.line(image, (round(b[0]), round(a[1])), (round(a[0]), round(b[1])), ink, pen, cv2.LINE_AA)


def draw_smudge(image: Gray, mark: Mark, dpi: int, share: float) -> None:
    """A grey blot covering about ``share`` of a box's inside (a hesitant pen, a crumb of
    toner): neither clearly empty nor clearly ticked."""
    s = dpi / 25.4
    side = mark.size * 0.68 * share**0.5
    cx, cy = (mark.x + mark.size / 2) * s, (mark.y + mark.size / 2) * s
    half = side * s / 2
    cv2.rectangle(
        image,
        (round(cx - half), round(cy - half)),
        (round(cx + half), round(cy + half)),
        40,
        thickness=-1,
    )


def write_text(image: Gray, x: float, y: float, height: float, dpi: int, text: str) -> None:
    """Handwriting-like text at (``x``, ``y``) mm in a field ``height`` mm high."""
    s = dpi / 25.4
    scale = min(height * 0.5, 5.0) * s / 22.0
    cv2.putText(
        image,
        text,
        (round((x + 2) * s), round((y + min(height * 0.7, 8.0)) * s)),
        cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
        scale,
        30,
        max(1, round(0.35 * s)),
        cv2.LINE_AA,
    )


def degrade(image: Gray, dpi: int, how: Degradation, rng: np.random.Generator) -> Gray:
    """``image`` rotated, shifted, blurred and with noise, on a white background."""
    s = dpi / 25.4
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), how.angle, 1.0)
    matrix[:, 2] += np.array([how.shift[0] * s, how.shift[1] * s])
    out = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if how.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), how.blur * s)
    if how.noise > 0:
        noisy = out.astype(np.float32) * rng.uniform(0.88, 1.0) + rng.normal(
            0, how.noise, out.shape
        )
        out = np.clip(noisy, 0, 255)
    return np.asarray(out, dtype=np.uint8)


def office_scan(pages: Sequence[Gray], dpi: int, rng: np.random.Generator) -> list[Gray]:
    """``pages`` as a cheap office scanner returns them: each rotated by up to ±2°, shifted
    by up to 3 mm, slightly blurred and noisy."""
    return [
        degrade(
            page,
            dpi,
            Degradation(
                angle=float(rng.uniform(-2, 2)),
                shift=(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3))),
                blur=float(rng.uniform(0.0, 0.12)),
                noise=float(rng.uniform(0, 12)),
            ),
            rng,
        )
        for page in pages
    ]


@dataclass(frozen=True)
class FilledForm:
    """A synthetic form: its page images and what was marked (box key -> style)."""

    pages: list[Gray]
    styles: dict[str, str]
    written: dict[str, str]

    def ticked(self, key: str) -> bool:
        return self.styles.get(key) in ("cross", "check")


def fill_form(
    pages: list[Gray],
    layout: PaperLayout,
    dpi: int,
    rng: np.random.Generator,
    *,
    cancel_rate: float = 0.03,
    blank_rate: float = 0.1,
    smudge_rate: float = 0.0,
) -> FilledForm:
    """Answer every question of one printed form at random: one box per single choice
    (sometimes a taken-back tick besides), several per multi choice, some left blank, and
    text in the write-in fields; with ``smudge_rate`` some unticked boxes get a faint blot
    (style ``smudge``) that must be flagged."""
    images = [p.copy() for p in pages]
    styles: dict[str, str] = {}
    by_answer: dict[str, list[Mark]] = {}
    for mark in layout.marks:
        by_answer.setdefault(mark.answer_id, []).append(mark)
    for marks in by_answer.values():
        if rng.random() < blank_rate:
            continue
        if marks[0].multi:
            chosen = [m for m in marks if rng.random() < 0.3]
        else:
            chosen = [marks[int(rng.integers(len(marks)))]]
        for mark in chosen:
            styles[mark.key] = "check" if rng.random() < 0.2 else "cross"
        others = [m for m in marks if m.key not in styles]
        if others and rng.random() < cancel_rate:
            styles[others[int(rng.integers(len(others)))].key] = "fill"
    for mark in layout.marks:
        if mark.key not in styles and rng.random() < smudge_rate:
            styles[mark.key] = "smudge"
    for mark in layout.marks:
        style = styles.get(mark.key)
        if style == "smudge":
            draw_smudge(images[mark.page - 1], mark, dpi, float(rng.uniform(0.03, 0.06)))
        elif style is not None:
            draw_tick(images[mark.page - 1], mark, dpi, rng, style)
    written: dict[str, str] = {}
    for field in layout.fields:
        if rng.random() < 0.5:
            text = str(int(rng.integers(0, 60))) if field.kind == "number" else "Marktplatz"
            write_text(images[field.page - 1], field.x, field.y, field.height, dpi, text)
            written[field.answer_id] = text
    return FilledForm(images, styles, written)


def encode_png(image: Gray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


def images_pdf(images: list[Gray], dpi: int, quality: int = 85) -> bytes:
    """The page images as one PDF of JPEG pages (A4 at ``dpi``), as an office scanner writes
    it."""
    document = pdfium.PdfDocument.new()
    for image in images:
        h, w = image.shape
        width, height = w * 72 / dpi, h * 72 / dpi
        page = document.new_page(width, height)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        picture = pdfium.PdfImage.new(document)
        picture.load_jpeg(io.BytesIO(jpeg.tobytes()), inline=True)
        picture.set_matrix(pdfium.PdfMatrix().scale(width, height))
        page.insert_obj(picture)
        page.gen_content()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def box_counts(
    forms: Sequence[ScannedForm], filled: Sequence[FilledForm], layout: PaperLayout
) -> tuple[int, int, int, int]:
    """How the boxes of scanned ``forms`` were read against what was marked in ``filled``:
    ``(total, correct, wrong, flagged)``. A box is correct when read with certainty as what
    was marked (ticked, or not: empty or taken back), wrong when read with certainty as the
    opposite, flagged when its state is uncertain (a person decides it)."""
    total = correct = wrong = flagged = 0
    for form, truth in zip(forms, filled, strict=True):
        reviewed = {r.answer_id: r for r in form.reviews if r.ratios}
        for mark in layout.marks:
            total += 1
            review = reviewed.get(mark.answer_id)
            if review is not None:
                state = next(s for v, _r, s in review.ratios if v == mark.value)
                if state == "uncertain":
                    flagged += 1
                    continue
                ticked = state == "ticked"
            else:
                read = form.answers.get(mark.answer_id)
                ticked = mark.value in read if isinstance(read, list) else read == mark.value
            if ticked == truth.ticked(mark.key):
                correct += 1
            else:
                wrong += 1
    return total, correct, wrong, flagged


__all__ = [
    "Degradation",
    "FilledForm",
    "box_counts",
    "degrade",
    "draw_smudge",
    "draw_tick",
    "encode_png",
    "fill_form",
    "images_pdf",
    "office_scan",
    "rasterise",
    "write_text",
]
