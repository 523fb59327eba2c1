"""Load questionnaires and the action-field catalogue from YAML, reporting every problem.

The YAML is composed into nodes (by libyaml where available) and turned into plain Python data
by this module with the YAML 1.2 core schema,
so that every value keeps its line and column and so that ``Yes``, ``No``, ``on`` and codes
with leading zeros such as ``0012`` stay text. The data is then checked in two passes:

1. its shape, by the pydantic models of :mod:`survey._model` (strict: ``"yes"`` is not a
   boolean, ``12`` is not a text);
2. everything the models cannot see: scales and codes, SPSS-safe unique variable names,
   translations, action-field tags, design markers and the ``show_if`` / ``validate``
   expressions, which may only refer to items that come earlier.

All problems of a file are collected; :func:`load_questionnaire` raises them together as
:class:`~survey.InvalidInput`, :func:`check_questionnaire` returns them with the warnings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml import MarkedYAMLError, YAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core import InvalidInput, LocalizedText, Location, Problem, errors_only
from survey._action_fields import ActionField, ActionFieldCatalogue, Breakdown
from survey._model import (
    RESPONSE_META_COLUMNS,
    BatteryItem,
    Code,
    InfoItem,
    Item,
    Letter,
    Meta,
    MultiChoiceItem,
    NumberItem,
    Option,
    Questionnaire,
    Scale,
    Section,
    SingleChoiceItem,
    Statement,
    Tag,
    Validation,
    multi_variable_id,
)
from survey.expressions import ReferenceInfo, compile_expression
from survey.kinds import kind_of

_M = TypeVar("_M", bound=BaseModel)

#: A position in the document: mapping keys and list indices from the root.
DocPath = tuple[str | int, ...]

#: Environment variable naming another action-field catalogue file.
ACTION_FIELDS_ENV_VAR = "SICHERHEITSANALYSE_ACTION_FIELDS"
ACTION_FIELDS_FILENAME = "action_fields.yaml"

#: Words SPSS reserves; no variable may be called like this (in any case).
SPSS_RESERVED_WORDS = frozenset(
    {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
)
SPSS_MAX_NAME_BYTES = 64
_SPSS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_RESERVED_COLUMNS = frozenset(c.lower() for c in RESPONSE_META_COLUMNS)

_LEADING_ZERO_INT = re.compile(r"^[-+]?0[0-9]+$")
# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_YAML12_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_YAML12_BOOL = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_YAML12_INT = re.compile(r"^[-+]?[0-9]+$")
_YAML12_OCT = re.compile(r"^0o[0-7]+$")
_YAML12_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_YAML12_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML12_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_YAML12_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
#: libyaml's composer where PyYAML was built with it (about 25 times faster), else pure Python.
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item)
#: The item model of every ``kind:``, read off the discriminated union :data:`Item`.
_ITEM_CLASSES: dict[str, type[BaseModel]] = {
    get_args(cls.model_fields["kind"].annotation)[0]: cls for cls in get_args(get_args(Item)[0])
}
#: Keys every answerable item has but an info item (text only) cannot have.
_ANSWER_ONLY_KEYS = frozenset({"required", "validate", "tags", "design"})
_EXPRESSION_UNKNOWN_REFERENCE = "expressions.unknown_reference"


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """A checked questionnaire: the questionnaire when it has no errors, and every problem."""

    questionnaire: Questionnaire | None
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> list[Problem]:
        return errors_only(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.questionnaire is not None and not self.errors


def render_path(path: DocPath) -> str:
    """``("sections", 2, "items", 4, "show_if")`` -> ``sections[2].items[4].show_if``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


# --- reading YAML with positions -------------------------------------------------------------


@dataclass
class _Document:
    """Plain data of one YAML file plus the node of every value and mapping key."""

    filename: str
    text: str
    data: Any = None
    nodes: dict[DocPath, Node] = field(default_factory=dict)
    key_nodes: dict[DocPath, Node] = field(default_factory=dict)

    def location(self, path: DocPath, *, key: bool = False) -> Location:
        """Where ``path`` is: its key (``key=True``) or value, else its nearest ancestor."""
        probe = path
        while True:
            node = (self.key_nodes if key else self.nodes).get(probe)
            if node is None and key:
                node = self.nodes.get(probe)
            if node is not None:
                mark = node.start_mark
                return Location(
                    file=self.filename,
                    line=mark.line + 1,
                    column=mark.column + 1,
                    field=render_path(path) or None,
                )
            if not probe:
                return Location(
                    file=self.filename, line=1, column=1, field=render_path(path) or None
                )
            probe = probe[:-1]

    def text_location(self, path: DocPath, offset: int) -> Location:
        """Where character ``offset`` of the text scalar at ``path`` is in the file."""
        node = self.nodes.get(path)
        if not isinstance(node, ScalarNode):
            return self.location(path)
        value = str(node.value)
        offset = max(0, min(offset, len(value)))
        line, column = node.start_mark.line, node.start_mark.column
        style = node.style
        if style in ("|", ">"):
            # Block scalar: the text starts on the next line. Walk its source lines; each
            # contributes its content plus one newline (literal) or one space (folded).
            lines = self.text.splitlines()
            line += 1
            remaining = offset
            while line < len(lines):
                content = lines[line].strip()
                if remaining <= len(content) or line + 1 >= len(lines):
                    break
                remaining -= len(content) + 1
                line += 1
            source = lines[line] if line < len(lines) else ""
            column = len(source) - len(source.lstrip()) + remaining
        else:
            source_index = _source_index(
                self.text, node.start_mark.index, node.end_mark.index, value, offset, style
            )
            before = self.text[node.start_mark.index : source_index]
            if "\n" in before:
                line += before.count("\n")
                column = len(before) - before.rfind("\n") - 1
            else:
                column += len(before)
        return Location(
            file=self.filename, line=line + 1, column=column + 1, field=render_path(path)
        )


def _source_index(
    text: str, start: int, end: int, value: str, offset: int, style: str | None
) -> int:
    """The index in ``text`` of character ``offset`` of a flow scalar's ``value``.

    Walks the source and the value together: an escape (``\\"``, ``''``) is two source
    characters for one value character, and a line break with its indentation folds into
    one space.
    """
    i = start + (1 if style in ('"', "'") else 0)
    for k in range(min(offset, len(value))):
        if i >= end:
            break
        char = text[i]
        if char == value[k]:
            i += 1
        elif (style == '"' and char == "\\") or (style == "'" and char == "'"):
            i += 2
        elif char in " \t\r\n":
            while i < end and text[i] in " \t\r\n":
                i += 1
        else:
            i += 1
    return min(i, end)


def _scalar_value(node: ScalarNode) -> Any:
    """The YAML 1.2 core-schema value of a scalar; codes with leading zeros stay text.

    The value is resolved here from the text, not from the composer's tag: the fast C
    composer (libyaml) resolves YAML 1.1, where ``Yes``, ``on`` and ``0012`` mean other things.
    """
    text = str(node.value)
    if node.style:  # quoted or block scalars are always text (plain: None, or "" from libyaml)
        return text
    if _YAML12_NULL.match(text):
        return None
    if _YAML12_BOOL.match(text):
        return text.lower() == "true"
    if _LEADING_ZERO_INT.match(text):
        return text
    if _YAML12_INT.match(text):
        return int(text)
    if _YAML12_OCT.match(text):
        return int(text[2:], 8)
    if _YAML12_HEX.match(text):
        return int(text[2:], 16)
    if _YAML12_FLOAT.match(text):
        return float(text)
    if _YAML12_INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _YAML12_NAN.match(text):
        return float("nan")
    return text


#: More values than this (e.g. aliases expanding exponentially) end reading with a problem.
MAX_VALUES = 100_000


class _TooLarge(Exception):
    """Too many values, or ``node`` (when given) contains itself through an alias."""

    def __init__(self, node: Node | None = None) -> None:
        super().__init__()
        self.node = node


class _Builder:
    """Turns composed nodes into plain data, recording each value's node under its path.

    Aliases are expanded (with a budget, so that nested aliases cannot blow up) and YAML
    merge keys (``<<: *anchor``) are honoured; explicit keys win over merged ones.
    """

    def __init__(self, doc: _Document, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Node, path: DocPath) -> Any:
        self.count += 1
        if id(node) in self.active:
            raise _TooLarge(node)
        if self.count > MAX_VALUES:
            raise _TooLarge
        self.doc.nodes[path] = node
        if isinstance(node, ScalarNode):
            return _scalar_value(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            return None  # pragma: no cover - the composer only makes the three node kinds
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: DocPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if str(key_node.tag or "").endswith(":merge"):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                merged.extend(sources)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    Problem(self.doc.location(path), "questionnaire.complex_key", {})
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                first = self.doc.key_nodes[child].start_mark.line + 1
                self.problems.append(
                    Problem(
                        _at(self.doc, key_node, child),
                        "questionnaire.duplicate_key",
                        {"key": key, "first": first},
                    )
                )
                continue
            self.doc.key_nodes[child] = key_node
            out[key] = self.build(value_node, child)
        for source in merged:
            if not isinstance(source, MappingNode):
                self.problems.append(
                    Problem(_at(self.doc, source, path), "questionnaire.bad_merge", {})
                )
                continue
            for key_node, value_node in source.value:
                key = str(key_node.value)
                if isinstance(key_node, ScalarNode) and key not in out:
                    self.doc.key_nodes[(*path, key)] = key_node
                    out[key] = self.build(value_node, (*path, key))
        return out


def _at(doc: _Document, node: Node, path: DocPath) -> Location:
    mark = node.start_mark
    return Location(
        file=doc.filename, line=mark.line + 1, column=mark.column + 1, field=render_path(path)
    )


def _read(path: str | Path) -> tuple[str | None, list[Problem]]:
    """The text of ``path``; a missing file, a directory or bad UTF-8 is a problem."""
    filename = str(path)
    target = Path(path)
    if target.is_dir():
        return None, [Problem(Location(file=filename), "questionnaire.is_directory", {})]
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return None, [Problem(Location(file=filename), "questionnaire.file_not_found", {})]
    except OSError as exc:
        return None, [
            Problem(Location(file=filename), "questionnaire.unreadable", {"reason": exc.strerror})
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Problem(Location(file=filename, line=line, column=column), "questionnaire.not_utf8", {})
        ]


def _parse(text: str, filename: str) -> tuple[_Document, list[Problem]]:
    doc = _Document(filename=filename, text=text)
    try:
        root = yaml.compose(text, Loader=_COMPOSER)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and (mark is None or mark.index >= len(text.rstrip())):
            # "unexpected end of stream": where the unclosed construct began says more.
            mark = exc.context_mark
        location = (
            Location(file=filename, line=mark.line + 1, column=mark.column + 1)
            if mark is not None
            else Location(file=filename, line=1, column=1)
        )
        detail = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        return doc, [Problem(location, "questionnaire.yaml_syntax", {"detail": detail})]
    except YAMLError as exc:
        return doc, [
            Problem(
                Location(file=filename, line=1, column=1),
                "questionnaire.yaml_syntax",
                {"detail": str(exc)},
            )
        ]
    empty = Problem(Location(file=filename, line=1, column=1), "questionnaire.empty", {})
    if root is None:
        return doc, [empty]
    problems: list[Problem] = []
    try:
        doc.data = _Builder(doc, problems).build(root, ())
    except _TooLarge as exc:
        doc.data = None
        if exc.node is not None:
            mark = exc.node.start_mark
            where = Location(file=filename, line=mark.line + 1, column=mark.column + 1)
            return doc, [Problem(where, "questionnaire.alias_loop", {})]
        where = Location(file=filename, line=1, column=1)
        return doc, [Problem(where, "questionnaire.too_large", {"max": MAX_VALUES})]
    if doc.data is None:  # a document that is only "null" or "~"
        return doc, [empty]
    return doc, problems


# --- shape errors from pydantic ---------------------------------------------------------------

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "integer",
    "int_from_float": "integer",
    "int_parsing": "integer",
    "float_type": "number",
    "float_parsing": "number",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "list_type": "list",
    "dict_type": "mapping",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
}


#: Keys whose value is a text per language (``LocalizedText``).
_TEXT_KEYS = frozenset({"label", "title", "help", "message", "unit", "thanks", "description"})


def _walk(data: Any, loc: Sequence[str | int]) -> tuple[DocPath, Any, str | None]:
    """Follow a pydantic ``loc`` through ``data``: the real path, its value, a missing key.

    Pydantic adds the discriminator value (``single``) and union members (``int``, ``str``)
    to ``loc``; they are not in the document and are skipped.
    """
    path: DocPath = ()
    node = data
    for step in loc:
        if isinstance(node, dict):
            if isinstance(step, str) and step in node:
                path, node = (*path, step), node[step]
                continue
            if step == node.get("kind"):
                continue
            return path, node, str(step)
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            path, node = (*path, step), node[step]
            continue
        break
    return path, node, None


#: The model of each element of a list, by the list's key.
_ELEMENT_MODELS: dict[str, type[BaseModel]] = {
    "sections": Section,
    "options": Option,
    "statements": Statement,
    "tags": Tag,
    "validate": Validation,
    "fields": ActionField,
    "breakdowns": Breakdown,
}


def _model_at(root: type[BaseModel], data: Any, path: DocPath) -> type[BaseModel] | None:
    """The model class that describes the mapping at ``path`` (for listing allowed keys)."""
    if not path:
        return root
    if path == ("meta",):
        return Meta
    if path == ("meta", "letter"):
        return Letter
    if len(path) == 2 and path[0] == "scales":
        return Scale
    if len(path) < 2 or not isinstance(path[-1], int):
        return None
    if path[-2] == "items":
        node = _walk(data, path)[1]
        return _ITEM_CLASSES.get(str(node.get("kind"))) if isinstance(node, dict) else None
    return _ELEMENT_MODELS.get(str(path[-2]))


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    keys = [info.alias or name for name, info in model.model_fields.items()]
    return [k for k in keys if not (model is Questionnaire and k == "revision")]


def _shape_problems(doc: _Document, root: type[BaseModel], error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    wrong_types: dict[DocPath, list[str]] = {}
    for err in error.errors(include_url=False):
        path, value, missing = _walk(doc.data, err["loc"])
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind in ("missing", "union_tag_not_found"):
            name = missing or "kind"  # a missing discriminator has no key of its own in loc
            where = replace(doc.location(path), field=render_path((*path, name)))
            problems.append(Problem(where, "questionnaire.missing_key", {"key": name}))
        elif kind == "extra_forbidden":
            key = str(path[-1])
            parent = path[:-1]
            parent_value = _walk(doc.data, parent)[1]
            if (
                isinstance(parent_value, dict)
                and parent_value.get("kind") == "info"
                and key in _ANSWER_ONLY_KEYS
            ):
                problems.append(
                    Problem(
                        doc.location(path, key=True), "questionnaire.info_cannot_have", {"key": key}
                    )
                )
                continue
            model = _model_at(root, doc.data, parent)
            allowed = ", ".join(_allowed_keys(model)) if model is not None else ""
            problems.append(
                Problem(
                    doc.location(path, key=True),
                    "questionnaire.unknown_key",
                    {"key": key, "allowed": allowed},
                )
            )
        elif kind in _TYPE_NAMES:
            wrong_types.setdefault(path, []).append(_TYPE_NAMES[kind])
            continue
        elif kind in ("literal_error", "enum"):
            problems.append(
                Problem(
                    doc.location(path),
                    "questionnaire.not_allowed_value",
                    {"found": _show(value), "expected": ctx.get("expected", "")},
                )
            )
        elif kind == "union_tag_invalid":
            problems.append(
                Problem(
                    doc.location((*path, "kind")),
                    "questionnaire.unknown_kind",
                    {"found": ctx.get("tag", ""), "expected": ctx.get("expected_tags", "")},
                )
            )
        elif kind == "too_short":
            problems.append(
                Problem(
                    doc.location(path),
                    "questionnaire.too_short",
                    {"count": ctx.get("min_length", 1)},
                )
            )
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bound = next(iter(ctx.values()), "")
            problems.append(
                Problem(
                    doc.location(path),
                    f"questionnaire.{kind}",
                    {"found": _show(value), "bound": bound},
                )
            )
        elif kind == "string_pattern_mismatch":
            problems.append(
                Problem(
                    doc.location(path),
                    "questionnaire.pattern",
                    {"found": _show(value), "pattern": ctx.get("pattern", "")},
                )
            )
        else:
            problems.append(
                Problem(
                    doc.location(path),
                    "questionnaire.invalid_value",
                    {"found": _show(value), "detail": err["msg"]},
                )
            )
    for path, expected in wrong_types.items():
        value = _walk(doc.data, path)[1]
        kinds = sorted(set(expected))
        name = "code" if kinds == ["integer", "text"] else kinds[0]
        if name == "mapping" and path and path[-1] in _TEXT_KEYS:
            name = "texts"
        problems.append(
            Problem(
                doc.location(path),
                f"questionnaire.wrong_type.{name}",
                {"found": _show(value)},
            )
        )
    return problems


def _show(value: Any) -> str:
    """A short, language-neutral rendering of a found value for messages."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _validate(model: type[_M], data: Any) -> _M:
    """Strict validation, as JSON so that enums accept their text values."""
    return model.model_validate_json(json.dumps(data), strict=True)


# --- the questionnaire checks the models cannot make -----------------------------------------


@dataclass
class _SectionPiece:
    index: int
    section: Section | None
    items: list[tuple[int, Item]]


@dataclass
class _Pieces:
    """The parts of a questionnaire that are well-formed, in document order."""

    meta: Meta | None = None
    scales: dict[str, Scale] = field(default_factory=dict)
    sections: list[_SectionPiece] = field(default_factory=list)
    #: Names of items, statements and scales that are malformed (already reported).
    broken: set[str] = field(default_factory=set)


def _pieces_of(questionnaire: Questionnaire) -> _Pieces:
    return _Pieces(
        meta=questionnaire.meta,
        scales=dict(questionnaire.scales),
        sections=[
            _SectionPiece(si, section, list(enumerate(section.items)))
            for si, section in enumerate(questionnaire.sections)
        ],
    )


def _pieces_from_raw(data: Any, bad_paths: list[DocPath]) -> _Pieces:
    """Validate the parts of a malformed questionnaire one by one, keeping the good ones."""
    pieces = _Pieces()
    if not isinstance(data, dict):
        return pieces

    def clean(prefix: DocPath) -> bool:
        return not any(p[: len(prefix)] == prefix for p in bad_paths)

    def attempt(model: Any, value: Any) -> Any:
        try:
            if isinstance(model, TypeAdapter):
                return model.validate_json(json.dumps(value), strict=True)
            return _validate(model, value)
        except ValidationError:
            return None

    if clean(("meta",)):
        pieces.meta = attempt(Meta, data.get("meta"))
    scales = data.get("scales")
    if isinstance(scales, dict):
        for name, raw in scales.items():
            scale = attempt(Scale, raw) if clean(("scales", name)) else None
            if scale is None:
                pieces.broken.add(name)
            else:
                pieces.scales[name] = scale
    sections = data.get("sections")
    for si, raw_section in enumerate(sections if isinstance(sections, list) else []):
        section = attempt(Section, raw_section) if clean(("sections", si)) else None
        piece = _SectionPiece(si, section, [])
        raw_items = raw_section.get("items") if isinstance(raw_section, dict) else None
        for ii, raw_item in enumerate(raw_items if isinstance(raw_items, list) else []):
            item = (
                attempt(_ITEM_ADAPTER, raw_item) if clean(("sections", si, "items", ii)) else None
            )
            if item is not None:
                piece.items.append((ii, item))
            elif isinstance(raw_item, dict):
                pieces.broken.add(str(raw_item.get("id")))
                for statement in raw_item.get("statements") or []:
                    if isinstance(statement, dict):
                        pieces.broken.add(str(statement.get("id")))
        pieces.sections.append(piece)
    return pieces


def _declared_names(data: Any) -> set[str]:
    """Every item and statement id written in the file, valid or not."""
    names: set[str] = set()
    sections = data.get("sections") if isinstance(data, dict) else None
    for section in sections if isinstance(sections, list) else []:
        items = section.get("items") if isinstance(section, dict) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            names.add(str(item.get("id")))
            statements = item.get("statements")
            for statement in statements if isinstance(statements, list) else []:
                if isinstance(statement, dict):
                    names.add(str(statement.get("id")))
    return names


def _reference_name(params: Mapping[str, Any]) -> str | None:
    for key in ("name", "reference", "id", "ref"):
        if key in params:
            return str(params[key])
    return None


class _Checker:
    """Cross-reference checks over the well-formed parts of one questionnaire."""

    def __init__(
        self, doc: _Document, pieces: _Pieces, catalogue: ActionFieldCatalogue | None
    ) -> None:
        self.doc = doc
        self.pieces = pieces
        self.catalogue = catalogue
        self.problems: list[Problem] = []
        self.declared = _declared_names(doc.data)
        self.names: dict[str, DocPath] = {}
        self.designs: dict[str, DocPath] = {}
        self.known: dict[str, ReferenceInfo] = {}
        meta = pieces.meta
        self.languages: list[str] = list(meta.languages) if meta else []
        self.default_language = meta.default_language if meta else ""

    # reporting
    def error(self, path: DocPath, key: str, *, at_key: bool = False, **params: Any) -> None:
        self.problems.append(Problem(self.doc.location(path, key=at_key), key, params))

    def warning(self, path: DocPath, key: str, *, at_key: bool = False, **params: Any) -> None:
        self.problems.append(
            Problem(self.doc.location(path, key=at_key), key, params, severity="warning")
        )

    def line_of(self, path: DocPath) -> int:
        return self.doc.location(path).line or 1

    # checks
    def run(self) -> list[Problem]:
        self.check_meta()
        for name, scale in self.pieces.scales.items():
            self.check_options(("scales", name), scale.options, scale.top)
        section_ids: dict[str, DocPath] = {}
        for piece in self.pieces.sections:
            section_path: DocPath = ("sections", piece.index)
            if piece.section is not None:
                self.check_text((*section_path, "title"), piece.section.title)
                first = section_ids.setdefault(piece.section.id, (*section_path, "id"))
                if first != (*section_path, "id"):
                    self.error(
                        (*section_path, "id"),
                        "questionnaire.duplicate_section_id",
                        id=piece.section.id,
                        first=self.line_of(first),
                    )
                if piece.section.show_if is not None:
                    self.check_expression((*section_path, "show_if"), piece.section.show_if, set())
            for ii, item in piece.items:
                self.check_item((*section_path, "items", ii), item)
        return self.problems

    def check_meta(self) -> None:
        meta = self.pieces.meta
        if meta is None:
            return
        if meta.default_language not in meta.languages:
            self.error(
                ("meta", "default_language"),
                "questionnaire.default_language_not_declared",
                found=meta.default_language,
                languages=", ".join(meta.languages),
            )
        self.check_text(("meta", "title"), meta.title)
        self.check_text(("meta", "thanks"), meta.thanks, required=False)

    def check_text(self, path: DocPath, text: LocalizedText, *, required: bool = True) -> None:
        """A text per declared language; a missing translation falls back, with a warning."""
        present = [lang for lang, value in text.items() if value.strip()]
        if not present:
            if required:
                self.error(path, "questionnaire.empty_text")
            return
        if not self.languages:
            return
        for lang in text:
            if lang not in self.languages:
                self.warning(
                    (*path, lang),
                    "questionnaire.undeclared_language",
                    at_key=True,
                    lang=lang,
                    languages=", ".join(self.languages),
                )
        fallback = self.default_language if self.default_language in present else present[0]
        for lang in self.languages:
            if lang not in present:
                self.warning(
                    path, "questionnaire.missing_translation", lang=lang, fallback=fallback
                )

    def check_options(
        self, path: DocPath, options: Sequence[Option], top: Sequence[Code] | None
    ) -> None:
        first_of: dict[tuple[str, Code], int] = {}
        first_type: type | None = None
        for i, option in enumerate(options):
            option_path: DocPath = (*path, "options", i)
            self.check_text((*option_path, "label"), option.label)
            self.check_tags(option_path, option.tags)
            code_path: DocPath = (*option_path, "code")
            if first_type is None:
                first_type = type(option.code)
            elif type(option.code) is not first_type:
                self.error(
                    code_path,
                    "questionnaire.mixed_codes",
                    found=_show(option.code),
                    first=_show(options[0].code),
                )
            identity = (type(option.code).__name__, option.code)
            if identity in first_of:
                self.error(
                    code_path,
                    "questionnaire.duplicate_code",
                    code=_show(option.code),
                    first=self.line_of((*path, "options", first_of[identity])),
                )
            else:
                first_of[identity] = i
        codes = [o.code for o in options]
        for k, code in enumerate(top or []):
            if not any(type(c) is type(code) and c == code for c in codes):
                self.error(
                    (*path, "top", k),
                    "questionnaire.unknown_top_code",
                    code=_show(code),
                    codes=", ".join(_show(c) for c in codes),
                )

    def scale_of(
        self, path: DocPath, item: SingleChoiceItem | MultiChoiceItem | BatteryItem
    ) -> Scale | None:
        if item.scale is not None and item.options is not None:
            self.error((*path, "options"), "questionnaire.scale_and_options", at_key=True)
            return None
        if item.scale is None and item.options is None:
            self.error(path, "questionnaire.scale_or_options")
            return None
        if item.scale is not None:
            if item.scale in self.pieces.scales:
                return self.pieces.scales[item.scale]
            if item.scale not in self.pieces.broken:
                self.error(
                    (*path, "scale"),
                    "questionnaire.unknown_scale",
                    found=item.scale,
                    expected=", ".join(self.pieces.scales) or "-",
                )
            return None
        assert item.options is not None
        if not item.options:
            self.error((*path, "options"), "questionnaire.too_short", count=1)
            return None
        self.check_options(path, item.options, None)
        return Scale(options=item.options)

    def check_name(self, name: str, path: DocPath) -> bool:
        """An SPSS-safe variable name, unique regardless of case. True when it is fine."""
        problem: str | None = None
        if not _SPSS_NAME.match(name):
            problem = "questionnaire.id_characters"
        elif name.endswith("."):
            problem = "questionnaire.id_trailing_dot"
        elif len(name.encode("utf-8")) > SPSS_MAX_NAME_BYTES:
            problem = "questionnaire.id_too_long"
        elif name.upper() in SPSS_RESERVED_WORDS:
            problem = "questionnaire.id_reserved"
        elif name.lower() in _RESERVED_COLUMNS:
            problem = "questionnaire.id_meta_column"
        if problem is not None:
            self.error(path, problem, id=name, max=SPSS_MAX_NAME_BYTES)
            return False
        first = self.names.get(name.lower())
        if first is not None:
            self.error(path, "questionnaire.duplicate_id", id=name, first=self.line_of(first))
            return False
        self.names[name.lower()] = path
        return True

    def check_tags(self, path: DocPath, tags: Sequence[Tag]) -> None:
        if self.catalogue is None:
            return
        for k, tag in enumerate(tags):
            if tag.field not in self.catalogue:
                self.error(
                    (*path, "tags", k, "field"),
                    "questionnaire.unknown_action_field",
                    found=tag.field,
                    expected=", ".join(self.catalogue.ids()),
                )

    def check_item(self, path: DocPath, item: Item) -> None:
        self.check_text((*path, "label"), item.label)
        self.check_text((*path, "help"), item.help, required=False)
        name_ok = self.check_name(item.id, (*path, "id"))
        scale: Scale | None = None
        if isinstance(item, SingleChoiceItem | MultiChoiceItem | BatteryItem):
            scale = self.scale_of(path, item)
        if isinstance(item, MultiChoiceItem) and scale is not None and name_ok:
            for k, option in enumerate(scale.options):
                where: DocPath = (
                    (*path, "options", k, "code") if item.options is not None else (*path, "scale")
                )
                self.check_name(multi_variable_id(item.id, option.code), where)
        if isinstance(item, NumberItem):
            self.check_text((*path, "unit"), item.unit, required=False)
        low, high = getattr(item, "min", None), getattr(item, "max", None)
        if low is not None and high is not None and low > high:  # any kind with a range
            self.error((*path, "max"), "questionnaire.min_above_max", min=low, max=high)
        statements = item.statements if isinstance(item, BatteryItem) else []
        for k, statement in enumerate(statements):
            self.check_text((*path, "statements", k, "label"), statement.label)
            self.check_name(statement.id, (*path, "statements", k, "id"))
            self.check_tags((*path, "statements", k), statement.tags)
        if isinstance(item, InfoItem):
            if item.show_if is not None:
                self.check_expression((*path, "show_if"), item.show_if, {item.id})
            return
        self.check_tags(path, item.tags)
        self.check_design(path, item)
        own = {item.id, *(s.id for s in statements)}
        if item.show_if is not None:
            self.check_expression((*path, "show_if"), item.show_if, own)
        for k, statement in enumerate(statements):
            if statement.show_if is not None:
                self.check_expression((*path, "statements", k, "show_if"), statement.show_if, own)
        info = _reference_info(item, scale)
        for k, rule in enumerate(item.validate_):
            self.check_text((*path, "validate", k, "message"), rule.message)
            if info is not None:
                self.check_expression(
                    (*path, "validate", k, "expr"), rule.expr, own, self_type=info
                )
        if info is None:
            self.pieces.broken.update(own)
        elif isinstance(item, BatteryItem):
            for statement in statements:
                self.known[statement.id] = info
        else:
            self.known[item.id] = info

    def check_design(self, path: DocPath, item: Item) -> None:
        design = getattr(item, "design", None)
        if design is None:
            return
        if not isinstance(item, SingleChoiceItem):
            self.error((*path, "design"), "questionnaire.design_not_single", design=design.value)
        first = self.designs.get(design.value)
        if first is not None:
            self.error(
                (*path, "design"),
                "questionnaire.duplicate_design",
                design=design.value,
                first=self.line_of(first),
            )
        else:
            self.designs[design.value] = (*path, "design")

    def check_expression(
        self,
        path: DocPath,
        source: str,
        own: set[str],
        *,
        self_type: ReferenceInfo | None = None,
    ) -> None:
        _, problems = compile_expression(source, dict(self.known), self_type=self_type)
        for problem in problems:
            key, params = problem.key, dict(problem.params)
            if key == _EXPRESSION_UNKNOWN_REFERENCE:
                name = _reference_name(params)
                if name in own:
                    key = (
                        "questionnaire.self_reference_validate"
                        if self_type is not None
                        else "questionnaire.circular_reference"
                    )
                elif name in self.pieces.broken:
                    continue
                elif name in self.declared:
                    key = "questionnaire.forward_reference"
                params["name"] = name
            self.problems.append(Problem(self.doc.text_location(path, problem.offset), key, params))


def _reference_info(item: Item, scale: Scale | None) -> ReferenceInfo | None:
    """What an expression may do with ``item``'s answer; ``None`` when it has none."""
    return kind_of(item).reference_info(item, scale)


# --- public API ------------------------------------------------------------------------------


def revision_of(text: str) -> str:
    """The content hash of a questionnaire source: sha256 over the normalised text, 16 hex.

    Normalised: no byte-order mark, ``\\n`` line ends, no trailing blanks on any line, so an
    editor's line-end or whitespace habits do not make a new revision.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    normalised = "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.location.line or 0, p.location.column or 0)))


def check_questionnaire_text(
    text: str, filename: str = "<text>", *, catalogue: ActionFieldCatalogue | None = None
) -> LoadResult:
    """Check a questionnaire given as YAML text; never raises for bad input.

    ``catalogue`` is the action-field catalogue the tags are checked against (default:
    :func:`load_action_fields`).
    """
    doc, problems = _parse(text, filename)
    if doc.data is None:
        return LoadResult(None, _sorted(problems))
    outside: list[Problem] = []
    if catalogue is None:
        try:
            catalogue = load_action_fields()
        except InvalidInput as exc:
            outside = exc.problems
    if isinstance(doc.data, dict) and "revision" in doc.data:
        problems.append(
            Problem(
                doc.location(("revision",), key=True),
                "questionnaire.unknown_key",
                {"key": "revision", "allowed": ", ".join(_allowed_keys(Questionnaire))},
            )
        )
    questionnaire: Questionnaire | None = None
    try:
        questionnaire = _validate(Questionnaire, doc.data)
        pieces = _pieces_of(questionnaire)
    except ValidationError as exc:
        problems.extend(_shape_problems(doc, Questionnaire, exc))
        bad = [_walk(doc.data, e["loc"])[0] for e in exc.errors(include_url=False)]
        pieces = _pieces_from_raw(doc.data, bad)
    problems.extend(_Checker(doc, pieces, catalogue).run())
    all_problems = (*outside, *_sorted(problems))
    if questionnaire is None or errors_only(all_problems):
        return LoadResult(None, all_problems)
    return LoadResult(
        questionnaire.model_copy(update={"revision": revision_of(text)}), all_problems
    )


def check_questionnaire(
    path: str | Path, *, catalogue: ActionFieldCatalogue | None = None
) -> LoadResult:
    """Check the questionnaire file at ``path``; never raises for bad input."""
    text, problems = _read(path)
    if text is None:
        return LoadResult(None, tuple(problems))
    return check_questionnaire_text(text, str(path), catalogue=catalogue)


def _loaded(result: LoadResult) -> Questionnaire:
    if result.questionnaire is None or result.errors:
        raise InvalidInput(result.problems)
    return result.questionnaire


def load_questionnaire(
    path: str | Path, *, catalogue: ActionFieldCatalogue | None = None
) -> Questionnaire:
    """Load and check a questionnaire file; raise :class:`InvalidInput` with every problem.

    Warnings (e.g. a missing translation, which falls back to the default language) do not
    stop loading; use :func:`check_questionnaire` to see them.
    """
    return _loaded(check_questionnaire(path, catalogue=catalogue))


def load_questionnaire_text(
    text: str, filename: str = "<text>", *, catalogue: ActionFieldCatalogue | None = None
) -> Questionnaire:
    """Like :func:`load_questionnaire`, for YAML text (``filename`` is used in messages)."""
    return _loaded(check_questionnaire_text(text, filename, catalogue=catalogue))


# --- the action-field catalogue --------------------------------------------------------------


def default_action_fields_path() -> Path:
    """Where the action-field catalogue is: ``$SICHERHEITSANALYSE_ACTION_FIELDS``, else
    ``questionnaires/action_fields.yaml`` next to the package, else in the working directory.
    """
    override = os.environ.get(ACTION_FIELDS_ENV_VAR)
    if override:
        return Path(override)
    candidates = [
        Path(__file__).resolve().parent.parent / "questionnaires" / ACTION_FIELDS_FILENAME,
        Path.cwd() / "questionnaires" / ACTION_FIELDS_FILENAME,
    ]
    return next((c for c in candidates if c.is_file()), candidates[0])


def _catalogue_from_text(text: str, filename: str) -> ActionFieldCatalogue:
    doc, problems = _parse(text, filename)
    # The parser's "empty" expects a questionnaire; say what a catalogue needs instead.
    problems = [
        replace(p, key="badinput.empty_catalogue") if p.key == "questionnaire.empty" else p
        for p in problems
    ]
    catalogue: ActionFieldCatalogue | None = None
    if doc.data is not None:
        try:
            catalogue = _validate(ActionFieldCatalogue, doc.data)
        except ValidationError as exc:
            problems.extend(_shape_problems(doc, ActionFieldCatalogue, exc))
    if catalogue is not None:
        seen: dict[str, int] = {}
        for i, action_field in enumerate(catalogue.fields):
            path: DocPath = ("fields", i)
            if action_field.id in seen:
                problems.append(
                    Problem(
                        doc.location((*path, "id")),
                        "questionnaire.duplicate_id",
                        {"id": action_field.id, "first": seen[action_field.id]},
                    )
                )
            else:
                seen[action_field.id] = doc.location((*path, "id")).line or 1
            for lang in ("de", "en"):
                if not action_field.label.get(lang, "").strip():
                    problems.append(
                        Problem(
                            doc.location((*path, "label")),
                            "questionnaire.catalogue_label_missing",
                            {"lang": lang},
                        )
                    )
            breakdown_lines: dict[str, int] = {}
            for k, breakdown in enumerate(action_field.breakdowns):
                where = doc.location((*path, "breakdowns", k, "id"))
                if breakdown.id in breakdown_lines:
                    problems.append(
                        Problem(
                            where,
                            "questionnaire.duplicate_id",
                            {"id": breakdown.id, "first": breakdown_lines[breakdown.id]},
                        )
                    )
                else:
                    breakdown_lines[breakdown.id] = where.line or 1
    if problems or catalogue is None:
        raise InvalidInput(_sorted(problems))
    return catalogue


@cache
def _cached_catalogue(path: str, mtime_ns: int, size: int) -> ActionFieldCatalogue:
    del mtime_ns, size  # part of the cache key only: an edited file is read again
    return _load_catalogue_file(path)


def _load_catalogue_file(path: str | Path) -> ActionFieldCatalogue:
    text, problems = _read(path)
    if text is None:
        raise InvalidInput(problems)
    return _catalogue_from_text(text, str(path))


def load_action_fields(path: str | Path | None = None) -> ActionFieldCatalogue:
    """Load and check the action-field catalogue; raise :class:`InvalidInput` when bad.

    Without ``path``: :func:`default_action_fields_path`. A file is read again only when it
    changed.
    """
    target = Path(path) if path is not None else default_action_fields_path()
    try:
        stat = target.stat()
    except OSError:
        return _load_catalogue_file(target)
    if not target.is_file():
        return _load_catalogue_file(target)
    return _cached_catalogue(str(target.resolve()), stat.st_mtime_ns, stat.st_size)


def check_action_fields(path: str | Path) -> tuple[ActionFieldCatalogue | None, list[Problem]]:
    """Check an action-field catalogue file; never raises for bad input."""
    try:
        return _load_catalogue_file(path), []
    except InvalidInput as exc:
        return None, exc.problems


_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_]+)[ \t]*:", re.MULTILINE)


def is_action_field_catalogue(path: str | Path) -> bool:
    """Whether ``path`` holds an action-field catalogue (top-level ``fields``, no ``meta``)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    keys = set(_TOP_LEVEL_KEY.findall(text))
    return "fields" in keys and not keys & {"meta", "sections", "scales"}


def iter_problem_lines(problems: Iterable[Problem], lang: str | None = None) -> Iterator[str]:
    """One line per problem: ``file:line:column: Fehler: <path>: <message>``."""
    return (problem.render(lang) for problem in problems)
