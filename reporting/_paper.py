"""The paper questionnaire: the same YAML as the online form, laid out as a print-ready A4 PDF
whose answer boxes a scanner can find again.

Typst lays out the questions (wrapping, page breaks), and every answer box and write-in field
leaves a ``metadata`` element that :func:`paper_layout` reads back with ``typst.query``: the
page and the top-left corner of each box, in millimetres. That :class:`PaperLayout` is the one
description of the geometry; the PDF is compiled from the same template and inputs, and the
scanner (``app._scanning``) reads the boxes at exactly these positions.

Every page carries four solid corner squares (:data:`FIDUCIALS`, for the page geometry) and a
QR page mark (zxing-cpp, error level Q) (:data:`MARK_ORIGIN`, :data:`MARK_SIZE`) with the format version, questionnaire
id, revision, language, print size, page, page count and the respondent's access code
(:func:`page_mark_text`, :func:`parse_page_mark`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import typst
import zxingcpp

from core import t
from survey import (
    BatteryItem,
    Binary,
    Boolean,
    Code,
    DateItem,
    InfoItem,
    Item,
    MultiChoiceItem,
    Number,
    NumberItem,
    Questionnaire,
    Reference,
    SingleChoiceItem,
    String,
    TextItem,
    YesNoItem,
    parse_expression,
    question_numbers,
)

TEMPLATE = files("reporting").joinpath("templates/paper.typ")

#: The page mark's format; a scanner refuses marks of another format.
MARK_FORMAT = "SA1"
MARK_SEPARATOR = "|"
#: A4 in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
#: The corner squares: side length and the centre of each (top-left, top-right, bottom-left,
#: bottom-right), in millimetres from the top-left corner of the sheet.
FIDUCIAL_SIZE = 5.0
FIDUCIALS: tuple[tuple[float, float], ...] = (
    (16.0, 16.0),
    (194.0, 16.0),
    (16.0, 281.0),
    (194.0, 281.0),
)
#: The QR page mark: its top-left corner and side (the symbol with its quiet zone), in mm.
MARK_ORIGIN = (24.0, 255.0)
MARK_SIZE = 24.0
#: A placeholder code of the width of every real code (the layout does not depend on it).
_PLACEHOLDER_CODE = "XXXX-XXXX-XXXX"
_PT_MM = 25.4 / 72.0


@dataclass(frozen=True)
class PrintSize:
    """Type and box sizes of one print variant."""

    font: float  # pt
    small: float  # pt
    box: float  # mm, side of a tick box
    column: float  # mm, width of one battery option column
    field_height: float  # mm, a one-line write-in field
    long_height: float  # mm, a long text field


NORMAL = PrintSize(font=10.5, small=8.0, box=4.5, column=17.0, field_height=10.0, long_height=36.0)
LARGE = PrintSize(font=14.0, small=11.0, box=6.5, column=20.0, field_height=13.0, long_height=46.0)


@dataclass(frozen=True)
class Mark:
    """One tick box: ticking it answers ``answer_id`` with ``value``."""

    key: str
    answer_id: str
    value: Code | bool
    #: Several boxes of the answer may be ticked (multi choice).
    multi: bool
    number: int
    page: int
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class WriteIn:
    """A field the respondent writes a number, year, date or text into."""

    key: str
    answer_id: str
    kind: str
    number: int
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class PaperLayout:
    """Where everything is on one variant of the paper questionnaire (millimetres, top-left
    origin, pages from 1)."""

    questionnaire_id: str
    revision: str
    lang: str
    large_print: bool
    pages: int
    marks: tuple[Mark, ...]
    fields: tuple[WriteIn, ...]

    def answer_ids(self) -> list[str]:
        """Every answer on paper, in questionnaire order."""
        seen = dict.fromkeys(m.answer_id for m in self.marks)
        seen.update(dict.fromkeys(f.answer_id for f in self.fields))
        order = {key: index for index, key in enumerate(self._order)}
        return sorted(seen, key=lambda k: order.get(k, len(order)))

    @property
    def _order(self) -> list[str]:
        items = sorted(
            [(m.page, m.y, m.x, m.answer_id) for m in self.marks]
            + [(f.page, f.y, f.x, f.answer_id) for f in self.fields]
        )
        return list(dict.fromkeys(i[3] for i in items))


@dataclass(frozen=True)
class PageMark:
    """What a page's QR mark says."""

    questionnaire_id: str
    revision: str
    lang: str
    large_print: bool
    page: int
    pages: int
    code: str


def short_revision(revision: str) -> str:
    """The part of a revision hash the page mark carries."""
    return revision[:12]


def page_mark_text(mark: PageMark) -> str:
    """The QR payload of a page."""
    return MARK_SEPARATOR.join(
        (
            MARK_FORMAT,
            mark.questionnaire_id,
            short_revision(mark.revision),
            mark.lang,
            "L" if mark.large_print else "N",
            str(mark.page),
            str(mark.pages),
            mark.code,
        )
    )


def parse_page_mark(text: str) -> PageMark | None:
    """The page mark in a QR payload, or ``None`` when it is not one of ours."""
    parts = text.split(MARK_SEPARATOR)
    if len(parts) != 8 or parts[0] != MARK_FORMAT or parts[4] not in ("L", "N"):
        return None
    if not (parts[5].isdigit() and parts[6].isdigit()):
        return None
    return PageMark(
        questionnaire_id=parts[1],
        revision=parts[2],
        lang=parts[3],
        large_print=parts[4] == "L",
        page=int(parts[5]),
        pages=int(parts[6]),
        code=parts[7],
    )


# --- the content ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Condition:
    """A simple ``show_if``: shown when ``item_id``'s answer is ``value``."""

    item_id: str
    value: Code | bool


def _simple_condition(source: str | None) -> _Condition | None:
    if source is None:
        return None
    node, problems = parse_expression(source)
    if node is None or problems:
        return None
    if isinstance(node, Reference):
        return _Condition(node.name, True)
    if isinstance(node, Binary) and node.op == "==":
        left, right = node.left, node.right
        if isinstance(right, Reference):
            left, right = right, left
        if isinstance(left, Reference) and isinstance(right, Boolean | Number | String):
            value = right.value
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool | int | str):
                return _Condition(left.name, value)
    return None


def _references(source: str) -> list[str]:
    node, _problems = parse_expression(source)
    found: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, Reference):
            found.append(n.name)
        for child in ("left", "right", "operand"):
            if hasattr(n, child):
                walk(getattr(n, child))
        for arg in getattr(n, "args", ()):
            walk(arg)

    if node is not None:
        walk(node)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class SkipRules:
    """Skip instructions in words: per item the filter line above it, and per (item, value)
    the question to go on with."""

    filters: dict[str, str]
    jumps: dict[tuple[str, Code | bool], int | None]


def _value_label(questionnaire: Questionnaire, item: Item, value: Code | bool, lang: str) -> str:
    if isinstance(item, YesNoItem):
        return t("paper.yes" if value is True else "paper.no", lang)
    if isinstance(item, SingleChoiceItem | MultiChoiceItem):
        option = questionnaire.scale_of(item).option(value)
        if option is not None:
            return questionnaire.text(option.label, lang)
    return str(value)


def skip_rules(questionnaire: Questionnaire, lang: str) -> SkipRules:
    """The skip instructions of the paper questionnaire, from the items' ``show_if``.

    A follow-up shown when an earlier question has one answer (``vict_theft == true``) gets
    the line "Nur wenn Sie bei Frage 12 „ja“ angekreuzt haben"; the other answers of that
    earlier question say "weiter mit Frage 14", the first question after its follow-ups. Any
    other condition names the questions it depends on.
    """
    numbers = question_numbers(questionnaire)
    items = [i for i in questionnaire.items() if not isinstance(i, InfoItem)]
    by_id = {i.id: i for i in items}
    filters: dict[str, str] = {}
    jumps: dict[tuple[str, Code | bool], int | None] = {}
    for index, item in enumerate(items):
        if item.show_if is None:
            continue
        condition = _simple_condition(item.show_if)
        if condition is not None and condition.item_id in by_id:
            source = by_id[condition.item_id]
            filters[item.id] = t(
                "paper.only_if",
                lang,
                number=numbers[condition.item_id],
                answer=_value_label(questionnaire, source, condition.value, lang),
            )
            # The run of follow-ups on the same condition right after the source question.
            start = items.index(source)
            run_end = start + 1
            while run_end < len(items) and _simple_condition(items[run_end].show_if) == condition:
                run_end += 1
            if index < run_end and isinstance(source, YesNoItem | SingleChoiceItem):
                after = items[run_end].id if run_end < len(items) else None
                target = numbers[after] if after is not None else None
                values: list[Code | bool] = (
                    [True, False]
                    if isinstance(source, YesNoItem)
                    else [o.code for o in questionnaire.scale_of(source).options]
                )
                for value in values:
                    if value != condition.value:
                        jumps[(source.id, value)] = target
        else:
            referenced = [str(numbers[r]) for r in _references(item.show_if) if r in numbers]
            filters[item.id] = t("paper.only_if_other", lang, numbers=", ".join(referenced))
    return SkipRules(filters, jumps)


def answer_choices(
    questionnaire: Questionnaire, answer_id: str, lang: str
) -> list[tuple[Code | bool, str]]:
    """The boxes of a choice answer (an item or a battery statement) as printed: value and
    label, in print order; empty for a write-in answer."""
    for item in questionnaire.items():
        if isinstance(item, BatteryItem) and any(s.id == answer_id for s in item.statements):
            return [
                (o.code, questionnaire.text(o.label, lang))
                for o in questionnaire.scale_of(item).options
            ]
        if item.id != answer_id:
            continue
        if isinstance(item, YesNoItem):
            return [(True, t("paper.yes", lang)), (False, t("paper.no", lang))]
        if isinstance(item, SingleChoiceItem | MultiChoiceItem):
            return [
                (o.code, questionnaire.text(o.label, lang))
                for o in questionnaire.scale_of(item).options
            ]
    return []


def _jump_text(target: int | None, lang: str) -> str:
    if target is None:
        return t("paper.skip_to_end", lang)
    return t("paper.skip_to", lang, number=target)


class _Keys:
    def __init__(self) -> None:
        self.marks: dict[str, tuple[str, Code | bool, bool, int]] = {}
        self.fields: dict[str, tuple[str, str, int, float, float]] = {}

    def mark(self, answer_id: str, value: Code | bool, multi: bool, number: int) -> str:
        key = f"m{len(self.marks)}"
        self.marks[key] = (answer_id, value, multi, number)
        return key

    def field(self, answer_id: str, kind: str, number: int, width: float, height: float) -> str:
        key = f"f{len(self.fields)}"
        self.fields[key] = (answer_id, kind, number, width, height)
        return key


def _field_size(item: Item, size: PrintSize) -> tuple[float, float]:
    large = size is LARGE
    if isinstance(item, NumberItem):
        return (42.0 if large else 32.0), size.field_height
    if isinstance(item, DateItem):
        return (58.0 if large else 44.0), size.field_height
    if isinstance(item, TextItem):
        return 150.0, size.long_height if item.long else size.field_height * 1.6
    return (36.0 if large else 26.0), size.field_height  # year


def _field_hint(item: Item, questionnaire: Questionnaire, lang: str) -> str:
    if isinstance(item, NumberItem):
        return questionnaire.text(item.unit, lang) if item.unit else ""
    if isinstance(item, DateItem):
        return t("paper.date_hint", lang)
    if isinstance(item, TextItem):
        return ""
    return t("paper.year_hint", lang)


def _question(
    questionnaire: Questionnaire,
    item: Item,
    number: int,
    rules: SkipRules,
    keys: _Keys,
    size: PrintSize,
    lang: str,
) -> dict[str, Any]:
    q = questionnaire
    out: dict[str, Any] = {
        "number": str(number),
        "label": q.text(item.label, lang),
        "help": q.text(item.help, lang) if item.help else "",
        "filter": rules.filters.get(item.id, ""),
    }
    if isinstance(item, YesNoItem | SingleChoiceItem | MultiChoiceItem):
        multi = isinstance(item, MultiChoiceItem)
        values = answer_choices(q, item.id, lang)
        out["type"] = "choice"
        out["hint"] = t("paper.several", lang) if multi else t("paper.one", lang)
        out["options"] = [
            {
                "key": keys.mark(item.id, value, multi, number),
                "label": label,
                "skip": _jump_text(rules.jumps[(item.id, value)], lang)
                if (item.id, value) in rules.jumps
                else "",
            }
            for value, label in values
        ]
    elif isinstance(item, BatteryItem):
        scale = q.scale_of(item)
        out["type"] = "battery"
        out["hint"] = t("paper.one_per_row", lang)
        out["columns"] = [q.text(o.label, lang) for o in scale.options]
        out["statements"] = [
            {
                "label": q.text(s.label, lang),
                "keys": [keys.mark(s.id, o.code, False, number) for o in scale.options],
            }
            for s in item.statements
        ]
    else:
        width, height = _field_size(item, size)
        out["type"] = "field"
        out["hint"] = _field_hint(item, q, lang)
        out["field"] = {
            "key": keys.field(item.id, item.kind, number, width, height),
            "width": width,
            "height": height,
        }
    return out


def _content(
    questionnaire: Questionnaire, lang: str, large_print: bool
) -> tuple[dict[str, Any], _Keys]:
    size = LARGE if large_print else NORMAL
    numbers = question_numbers(questionnaire)
    rules = skip_rules(questionnaire, lang)
    keys = _Keys()
    sections = []
    for section in questionnaire.sections:
        blocks = []
        for item in section.items:
            if isinstance(item, InfoItem):
                blocks.append({"type": "info", "text": questionnaire.text(item.label, lang)})
            else:
                blocks.append(
                    _question(questionnaire, item, numbers[item.id], rules, keys, size, lang)
                )
        sections.append({"title": questionnaire.text(section.title, lang), "blocks": blocks})
    data = {
        "lang": lang,
        "title": questionnaire.text(questionnaire.meta.title, lang),
        "how": t("paper.how_to_tick", lang),
        "code_label": t("paper.code_label", lang),
        "page_label": t("paper.page_label", lang),
        "thanks": t("paper.thanks", lang),
        "mark_alt": t("paper.mark_alt", lang),
        "size": {
            "font": size.font,
            "small": size.small,
            "box": size.box,
            "column": size.column,
        },
        "geometry": {
            "fiducial": FIDUCIAL_SIZE,
            "fiducials": [list(c) for c in FIDUCIALS],
            "mark": list(MARK_ORIGIN),
            "mark_size": MARK_SIZE,
        },
        "sections": sections,
    }
    return data, keys


# --- compiling ---------------------------------------------------------------------------


def _compile(data: dict[str, Any], **kwargs: Any) -> Any:
    return typst.compile(
        TEMPLATE.read_bytes(),
        sys_inputs={"paper": json.dumps(data, ensure_ascii=False)},
        ignore_system_fonts=True,
        **kwargs,
    )


def _mm(value: str) -> float:
    return round(float(value.removesuffix("pt")) * _PT_MM, 3)


_LAYOUTS: dict[tuple[str, str, str, bool], PaperLayout] = {}


def paper_layout(
    questionnaire: Questionnaire, lang: str, *, large_print: bool = False
) -> PaperLayout:
    """Where every box and field of the paper questionnaire is, as Typst lays it out
    (cached per questionnaire revision, language and print size)."""
    cache_key = (questionnaire.id, questionnaire.revision, lang, large_print)
    cached = _LAYOUTS.get(cache_key)
    if cached is not None:
        return cached
    data, keys = _content(questionnaire, lang, large_print)
    data.update(codes=[_PLACEHOLDER_CODE], marks=[], pages_per_form=0)
    found = json.loads(
        typst.query(
            TEMPLATE.read_bytes(),
            "<paper-layout>",
            field="value",
            sys_inputs={"paper": json.dumps(data, ensure_ascii=False)},
            ignore_system_fonts=True,
        )
    )[0]
    size = LARGE.box if large_print else NORMAL.box
    marks: list[Mark] = []
    fields: list[WriteIn] = []
    for key, where in found["boxes"]:
        page, x, y = int(where["page"]), _mm(where["x"]), _mm(where["y"])
        if key in keys.marks:
            answer_id, value, multi, number = keys.marks[key]
            marks.append(Mark(key, answer_id, value, multi, number, page, x, y, size))
        else:
            answer_id, kind, number, width, height = keys.fields[key]
            fields.append(WriteIn(key, answer_id, kind, number, page, x, y, width, height))
    layout = PaperLayout(
        questionnaire_id=questionnaire.id,
        revision=questionnaire.revision,
        lang=lang,
        large_print=large_print,
        pages=int(found["pages"]),
        marks=tuple(marks),
        fields=tuple(fields),
    )
    _LAYOUTS[cache_key] = layout
    return layout


def _mark_svg(text: str) -> str:
    """The page mark as an SVG QR code (error level Q, quiet zone of four modules): made by
    zxing-cpp, about five times faster than a pure-Python encoder, which matters with one
    mark per page of a whole batch."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    return str(barcode.to_svg(add_quiet_zones=True))


def mark_modules(text: str) -> int:
    """The side, in modules, of the QR symbol (without quiet zone) of the page mark ``text``,
    as :func:`paper_pdf` prints it; the scanner needs it to place the symbol on the page."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    return int(barcode.to_image(scale=1, add_quiet_zones=False).shape[0])


def paper_pdf(
    questionnaire: Questionnaire,
    codes: Sequence[str],
    lang: str,
    *,
    large_print: bool = False,
) -> bytes:
    """The paper questionnaire for each access code in ``codes``, one form after the other in
    one A4 PDF (tagged, PDF/UA-1, embedded fonts). Every page carries the corner squares and
    its QR page mark; the boxes stand where :func:`paper_layout` says."""
    layout = paper_layout(questionnaire, lang, large_print=large_print)
    data, _keys = _content(questionnaire, lang, large_print)
    marks = [
        _mark_svg(
            page_mark_text(
                PageMark(
                    questionnaire.id,
                    questionnaire.revision,
                    lang,
                    large_print,
                    page,
                    layout.pages,
                    code,
                )
            )
        )
        for code in codes
        for page in range(1, layout.pages + 1)
    ]
    data.update(codes=list(codes), marks=marks, pages_per_form=layout.pages)
    pdf = _compile(data, format="pdf", pdf_standards=["ua-1"])
    assert isinstance(pdf, bytes)
    return pdf


__all__ = [
    "FIDUCIALS",
    "FIDUCIAL_SIZE",
    "LARGE",
    "MARK_FORMAT",
    "MARK_ORIGIN",
    "MARK_SIZE",
    "NORMAL",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "Mark",
    "PageMark",
    "PaperLayout",
    "PrintSize",
    "SkipRules",
    "WriteIn",
    "answer_choices",
    "mark_modules",
    "page_mark_text",
    "paper_layout",
    "paper_pdf",
    "parse_page_mark",
    "short_revision",
    "skip_rules",
]
