"""Static vector charts of the report as plain SVG, drawn from the numbers.

No browser and no JavaScript: each chart is a few kilobytes of SVG that the PDF embeds as
vectors, the HTML inlines and the DOCX gets as a picture. Axes are fitted to the data (a share
axis ends at the next 10 % above the highest interval, a ratio axis is logarithmic around 1), so
no chart shows "0–400 %". A chart is only drawn with something to show; the caller writes a
sentence instead of an empty chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from core import format_number, format_percent
from reporting._document import Figure

#: Chart width in points: the A4 text width of the PDF (210 mm − 2 × 25 mm).
WIDTH = 453.0
FONT = "Libertinus Serif, Georgia, serif"
FONT_SIZE = 9.0
ROW = 17.0
BAR = "#4a6fa5"
EMPHASIS = "#b2182b"
GRID = "#d9d9d9"
INK = "#1a1a1a"
#: Mean glyph width of the serif font relative to its size, to reserve label space.
GLYPH = 0.5


@dataclass(frozen=True)
class Bar:
    """One row of an interval chart: a value with its 95 % interval."""

    label: str
    value: float
    low: float
    high: float
    emphasis: bool = False


@dataclass(frozen=True)
class Point:
    """One field in the quadrant chart, marked by its rank."""

    mark: str
    x: float
    y: float


def _require(marks: Sequence[object]) -> None:
    """No empty chart: the caller writes a sentence saying why there is nothing to draw."""
    if not marks:
        raise ValueError("a chart needs at least one mark; write a sentence instead")


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * GLYPH


def _wrap(text: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """``text`` in lines that fit ``width`` points: every word kept, so no label is clipped."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and _text_width(candidate, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" role="img" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}" fill="{INK}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _label(x: float, y: float, text: str, anchor: str = "start", size: float = FONT_SIZE) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:.1f}">'
        f"{escape(text)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 0.8) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{width}"/>'
    )


def share_figure(
    bars: Sequence[Bar], *, caption: str, alt: str, axis_label: str, lang: str
) -> Figure:
    """Horizontal bars of shares (0–1) with 95 % interval whiskers, one row per bar."""
    _require(bars)
    top = max(b.high for b in bars)
    tenths = max(1, math.ceil(top * 10 - 1e-9))
    # Above 50 %, steps of 20 points, so the axis keeps at most six labels.
    step = 2 if tenths > 5 else 1
    tenths = min(10, tenths + tenths % step)
    limit = tenths / 10
    ticks = [i / 10 for i in range(0, tenths + 1, step)]
    return _bars(
        bars,
        lo=0.0,
        hi=limit,
        ticks=ticks,
        position=lambda v: v,
        tick_text=lambda v: format_percent(v, 0, lang),
        value_text=lambda v: format_percent(v, 0, lang),
        reference=None,
        caption=caption,
        alt=alt,
        axis_label=axis_label,
    )


def ratio_figure(
    bars: Sequence[Bar], *, caption: str, alt: str, axis_label: str, lang: str
) -> Figure:
    """Ratios (SIR) on a log axis with their intervals and the reference line at 1."""
    _require(bars)
    low = min(min(b.low for b in bars), 0.5)
    high = max(max(b.high for b in bars), 2.0)
    # Powers of two around 1 read as "half", "twice": the natural steps of a ratio.
    lo_exp, hi_exp = math.floor(math.log2(max(low, 1 / 64))), math.ceil(math.log2(min(high, 64)))
    ticks = [2.0**e for e in range(lo_exp, hi_exp + 1)]
    return _bars(
        bars,
        lo=math.log2(ticks[0]),
        hi=math.log2(ticks[-1]),
        ticks=[math.log2(v) for v in ticks],
        position=lambda v: math.log2(min(max(v, ticks[0]), ticks[-1])),
        tick_text=lambda v: format_number(2.0**v, 0 if v >= 0 else 2, lang).rstrip("0"),
        value_text=lambda v: format_number(v, 2, lang),
        reference=0.0,
        caption=caption,
        alt=alt,
        axis_label=axis_label,
    )


def _bars(
    bars: Sequence[Bar],
    *,
    lo: float,
    hi: float,
    ticks: Sequence[float],
    position: Callable[[float], float],
    tick_text: Callable[[float], str],
    value_text: Callable[[float], str],
    reference: float | None,
    caption: str,
    alt: str,
    axis_label: str,
) -> Figure:
    label_width = min(max(_text_width(b.label) for b in bars) + 8, WIDTH * 0.38)
    value_width = 34.0
    left, right = label_width, WIDTH - value_width
    wrapped = [_wrap(b.label, label_width - 8) for b in bars]
    heights = [ROW + (len(lines) - 1) * FONT_SIZE for lines in wrapped]
    top = 6.0
    height = top + sum(heights) + 30

    def x(v: float) -> float:
        return left + (right - left) * (v - lo) / (hi - lo)

    body: list[str] = []
    plot_bottom = top + sum(heights)
    for tick in ticks:
        body.append(_line(x(tick), top, x(tick), plot_bottom, GRID, 0.5))
        body.append(_label(x(tick), plot_bottom + 11, tick_text(tick), "middle", 8))
    if reference is not None:
        body.append(_line(x(reference), top, x(reference), plot_bottom, INK, 1.0))
    y = top
    for bar, lines, row in zip(bars, wrapped, heights, strict=True):
        centre = y + row / 2
        first = centre - (len(lines) - 1) * FONT_SIZE / 2 + 3
        for i, text in enumerate(lines):
            body.append(_label(left - 6, first + i * FONT_SIZE, text, "end"))
        colour = EMPHASIS if bar.emphasis else BAR
        start = x(reference) if reference is not None else x(lo)
        end = x(position(bar.value))
        if reference is None:
            body.append(
                f'<rect x="{start:.1f}" y="{centre - 5:.1f}" width="{max(end - start, 0.5):.1f}" '
                f'height="10" fill="{colour}" fill-opacity="0.75"/>'
            )
        else:
            body.append(f'<circle cx="{end:.1f}" cy="{centre:.1f}" r="3.2" fill="{colour}"/>')
        a, b = x(position(bar.low)), x(position(bar.high))
        body.append(_line(a, centre, b, centre, INK, 0.9))
        body.append(_line(a, centre - 3, a, centre + 3, INK, 0.9))
        body.append(_line(b, centre - 3, b, centre + 3, INK, 0.9))
        body.append(_label(WIDTH - 2, centre + 3, value_text(bar.value), "end"))
        y += row
    body.append(_line(left, plot_bottom, right, plot_bottom, INK, 0.6))
    body.append(_label((left + right) / 2, plot_bottom + 24, axis_label, "middle", 8.5))
    return Figure(_svg(WIDTH, height, body, alt), caption, alt, WIDTH, height)


def quadrant_figure(
    points: Sequence[Point],
    *,
    x_split: float,
    caption: str,
    alt: str,
    x_label: str,
    y_label: str,
    lang: str,
    corners: tuple[str, str, str, str] = ("", "", "", ""),
) -> Figure:
    """Felt problem (share, x) against registered frequency (SIR, log y), points marked by
    rank; the lines split at the typical share and at SIR 1 (the 2×2 classes). ``corners``
    names the four classes: top left, top right, bottom left, bottom right."""
    _require(points)
    height = 300.0
    left, right, top, bottom = 46.0, WIDTH - 12, 10.0, height - 38
    x_hi = min(1.0, max(0.2, math.ceil(max(p.x for p in points) * 10 + 0.5) / 10))
    y_lo = min(0.5, min(p.y for p in points) * 0.8)
    y_hi = max(2.0, max(p.y for p in points) * 1.25)
    lo_exp, hi_exp = math.floor(math.log2(y_lo)), math.ceil(math.log2(y_hi))

    def px(v: float) -> float:
        return left + (right - left) * v / x_hi

    def py(v: float) -> float:
        return bottom - (bottom - top) * (math.log2(v) - lo_exp) / (hi_exp - lo_exp)

    body: list[str] = []
    for i in range(round(x_hi * 10) + 1):
        value = i / 10
        if round(x_hi * 10) > 6 and i % 2:
            continue
        body.append(_line(px(value), top, px(value), bottom, GRID, 0.5))
        body.append(_label(px(value), bottom + 11, format_percent(value, 0, lang), "middle", 8))
    for e in range(lo_exp, hi_exp + 1):
        value = 2.0**e
        body.append(_line(left, py(value), right, py(value), GRID, 0.5))
        text = format_number(value, 0 if e >= 0 else 2, lang).rstrip("0")
        body.append(_label(left - 4, py(value) + 3, text, "end", 8))
    body.append(_line(px(x_split), top, px(x_split), bottom, INK, 1.0))
    body.append(_line(left, py(1.0), right, py(1.0), INK, 1.0))
    # The class names sit in the plot's corners, in grey, under the points.
    for text, x, y, anchor in (
        (corners[0], left + 4, top + 10, "start"),
        (corners[1], right - 4, top + 10, "end"),
        (corners[2], left + 4, bottom - 5, "start"),
        (corners[3], right - 4, bottom - 5, "end"),
    ):
        if text:
            body.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="8" '
                f'fill="#767676">{escape(text)}</text>'
            )
    for point in points:
        cx, cy = px(min(point.x, x_hi)), py(min(max(point.y, 2.0**lo_exp), 2.0**hi_exp))
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="{BAR}"/>')
        body.append(
            f'<text x="{cx:.1f}" y="{cy + 3:.1f}" text-anchor="middle" font-size="8" '
            f'fill="#ffffff">{escape(point.mark)}</text>'
        )
    body.append(_line(left, bottom, right, bottom, INK, 0.6))
    body.append(_label((left + right) / 2, bottom + 26, x_label, "middle", 8.5))
    body.append(
        f'<text x="12" y="{(top + bottom) / 2:.1f}" text-anchor="middle" font-size="8.5" '
        f'transform="rotate(-90 12 {(top + bottom) / 2:.1f})">{escape(y_label)}</text>'
    )
    return Figure(_svg(WIDTH, height, body, alt), caption, alt, WIDTH, height)


__all__ = ["Bar", "Point", "quadrant_figure", "ratio_figure", "share_figure"]
