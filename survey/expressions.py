"""The expression language of ``show_if`` and ``validate`` (reference: docs/expressions.md).

An expression is tokenized by hand, parsed by a Pratt (precedence-climbing) parser into a tree
of frozen dataclasses, type-checked against the items it may reference, and evaluated by
walking that tree. Nothing here calls Python's ``eval``, ``exec`` or ``compile``.

Binding power, loosest first: ``or`` < ``and`` < ``not`` < comparisons (not chainable) <
``+ -`` < ``* /`` < unary ``-``. ``=`` is accepted for ``==``, as in XLSForm.

Missing answers follow XLSForm's "missing compares false": every comparison with a missing
operand is false (``!=`` too), ``selected`` on a missing answer is false, ``count_selected`` is
0, arithmetic with a missing operand or a division by zero is missing, and a missing yes/no
answer counts as false. Logic is two-valued, so ``not not x`` is always ``x``.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

ValueType = Literal["number", "string", "bool", "date", "codes", "code"]


@dataclass(frozen=True)
class ReferenceInfo:
    """What the checker knows about a name an expression may reference."""

    type: ValueType
    #: Allowed codes for choice items (``code`` for single choice, ``codes`` for multi).
    codes: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class ExpressionProblem:
    """A problem inside one expression; ``offset`` is the 0-based character offset in it."""

    offset: int
    key: str
    params: Mapping[str, Any]


# --- syntax tree ---------------------------------------------------------------------------
# ``offset`` is where the node was written (the operator for unary and binary nodes); it is
# excluded from equality so that a re-parsed, re-printed tree equals the original.


@dataclass(frozen=True)
class Number:
    value: int | float
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class String:
    value: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Boolean:
    value: bool
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class DateLiteral:
    """``date('2024-01-31')``."""

    value: dt.date
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Reference:
    """An item id or a battery statement id."""

    name: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SelfReference:
    """``.``: the item's own answer (only in ``validate``)."""

    offset: int = field(default=0, compare=False)


UnaryOperator = Literal["not", "-"]
BinaryOperator = Literal["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]


@dataclass(frozen=True)
class Unary:
    op: UnaryOperator
    operand: Node
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    op: BinaryOperator
    left: Node
    right: Node
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call other than ``date(...)``, which parses to :class:`DateLiteral`."""

    name: str
    args: tuple[Node, ...]
    offset: int = field(default=0, compare=False)


Node = Number | String | Boolean | DateLiteral | Reference | SelfReference | Unary | Binary | Call

COMPARISONS: frozenset[str] = frozenset({"==", "!=", "<", "<=", ">", ">="})
KEYWORDS: frozenset[str] = frozenset({"and", "or", "not", "true", "false"})
#: Every function with its number of arguments (``date`` is a literal; see DateLiteral).
FUNCTIONS: Mapping[str, int] = {
    "selected": 2,
    "count_selected": 1,
    "answered": 1,
    "length": 1,
    "today": 0,
    "date": 1,
}
#: Deepest nesting accepted; keeps parsing, checking and evaluation far from the recursion limit.
MAX_DEPTH = 100

_BINDING_POWER: Mapping[str, int] = {
    "or": 10,
    "and": 20,
    **dict.fromkeys(COMPARISONS, 40),
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
}
_PREFIX_POWER: Mapping[str, int] = {"not": 30, "-": 70}
_ATOM_POWER = 100
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_IDENT_PART = _IDENT_START | frozenset("0123456789_.")
_DIGITS = frozenset("0123456789")
_ESCAPES = frozenset("\\'\"")


# --- tokenizer -----------------------------------------------------------------------------

TokenKind = Literal["number", "string", "name", "self", "op", "(", ")", ",", "end"]
_PUNCTUATION: Mapping[str, TokenKind] = {"(": "(", ")": ")", ",": ","}


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str
    offset: int
    value: int | float | str | None = None


class _SyntaxProblem(Exception):
    def __init__(self, offset: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.problem = ExpressionProblem(offset, key, params)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
        elif char in _DIGITS:
            i = _read_number(source, i, tokens)
        elif char in _IDENT_START:
            start = i
            while i < n and source[i] in _IDENT_PART:
                i += 1
            word = source[start:i]
            tokens.append(_Token("op" if word in ("and", "or", "not") else "name", word, start))
        elif char in "'\"":
            i = _read_string(source, i, tokens)
        elif source.startswith(("==", "!=", "<=", ">="), i):
            tokens.append(_Token("op", source[i : i + 2], i))
            i += 2
        elif char == "=":
            tokens.append(_Token("op", "==", i))  # XLSForm writes equality as "="
            i += 1
        elif char in "<>+-*/":
            tokens.append(_Token("op", char, i))
            i += 1
        elif char in _PUNCTUATION:
            tokens.append(_Token(_PUNCTUATION[char], char, i))
            i += 1
        elif char == ".":
            tokens.append(_Token("self", ".", i))
            i += 1
        else:
            raise _SyntaxProblem(i, "expressions.unexpected_character", char=char)
    tokens.append(_Token("end", "", n))
    return tokens


def _read_number(source: str, start: int, tokens: list[_Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    is_decimal = i + 1 < n and source[i] == "." and source[i + 1] in _DIGITS
    if is_decimal:
        i += 1
        while i < n and source[i] in _DIGITS:
            i += 1
    text = source[start:i]
    value: int | float
    try:
        value = float(text) if is_decimal else int(text)
    except ValueError:  # beyond Python's integer-string limit
        value = math.inf
    if isinstance(value, float) and not math.isfinite(value):
        raise _SyntaxProblem(start, "expressions.number_too_long", number=text[:20] + "…")
    tokens.append(_Token("number", text, start, value))
    return i


def _read_string(source: str, start: int, tokens: list[_Token]) -> int:
    quote = source[start]
    chars: list[str] = []
    i, n = start + 1, len(source)
    while i < n:
        char = source[i]
        if char == quote:
            tokens.append(_Token("string", source[start : i + 1], start, "".join(chars)))
            return i + 1
        if char == "\\":
            if i + 1 >= n or source[i + 1] not in _ESCAPES:
                raise _SyntaxProblem(i, "expressions.bad_escape", sequence=source[i : i + 2])
            chars.append(source[i + 1])
            i += 2
        else:
            chars.append(char)
            i += 1
    raise _SyntaxProblem(start, "expressions.unterminated_string")


# --- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def parse(self) -> Node:
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise _SyntaxProblem(token.offset, "expressions.unexpected_token", found=token.text)
        return node

    def expression(self, min_power: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _SyntaxProblem(self.peek().offset, "expressions.too_complex", limit=MAX_DEPTH)
        left = self.prefix()
        while True:
            token = self.peek()
            power = _BINDING_POWER.get(token.text) if token.kind == "op" else None
            if power is None or power <= min_power:
                break
            self.advance()
            right = self.expression(power)
            left = Binary(cast(BinaryOperator, token.text), left, right, token.offset)
            following = self.peek()
            if token.text in COMPARISONS and following.text in COMPARISONS:
                raise _SyntaxProblem(following.offset, "expressions.chained_comparison")
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            assert isinstance(token.value, int | float)
            return Number(token.value, token.offset)
        if token.kind == "string":
            assert isinstance(token.value, str)
            return String(token.value, token.offset)
        if token.kind == "self":
            return SelfReference(token.offset)
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Boolean(token.text == "true", token.offset)
            if self.peek().kind == "(":
                return self.call(token)
            return Reference(token.text, token.offset)
        if token.kind == "op" and token.text in _PREFIX_POWER:
            operand = self.expression(_PREFIX_POWER[token.text])
            return Unary(cast(UnaryOperator, token.text), operand, token.offset)
        if token.kind == "(":
            inner = self.expression(0)
            self.expect_closing()
            return inner
        if token.kind == "end":
            raise _SyntaxProblem(token.offset, "expressions.unexpected_end")
        raise _SyntaxProblem(token.offset, "expressions.expected_operand", found=token.text)

    def call(self, name: _Token) -> Node:
        self.advance()  # "("
        args: list[Node] = []
        if self.peek().kind != ")":
            args.append(self.expression(0))
            while self.peek().kind == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect_closing()
        if name.text == "date":
            return _date_literal(name, args)
        return Call(name.text, tuple(args), name.offset)

    def expect_closing(self) -> None:
        token = self.advance()
        if token.kind == "end":
            raise _SyntaxProblem(token.offset, "expressions.unclosed_parenthesis")
        if token.kind != ")":
            raise _SyntaxProblem(token.offset, "expressions.expected_closing", found=token.text)


def _date_literal(name: _Token, args: list[Node]) -> DateLiteral:
    if len(args) == 1 and isinstance(args[0], String):
        text = args[0].value
        try:
            if len(text) == 10:
                return DateLiteral(dt.date.fromisoformat(text), name.offset)
        except ValueError:
            pass
    found = ", ".join(format_expression(arg) for arg in args)
    raise _SyntaxProblem(name.offset, "expressions.bad_date", found=found)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> Iterator[tuple[Node, int]]:
    """Every node with its depth (root = 1), iteratively so deep trees cannot overflow."""
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        yield current, depth
        stack.extend((child, depth + 1) for child in _children(current))


def parse_expression(source: str) -> tuple[Node | None, list[ExpressionProblem]]:
    """Parse ``source`` into a syntax tree, or report the first syntax error.

    Never raises: any text gives either a tree or exactly one problem.
    """
    if not source.strip():
        return None, [ExpressionProblem(0, "expressions.empty", {})]
    try:
        tokens = _tokenize(source)
        tree = _Parser(tokens).parse()
    except _SyntaxProblem as error:
        return None, [error.problem]
    # A tree is never deeper than its number of tokens, so short expressions skip the walk.
    if len(tokens) > MAX_DEPTH and max(depth for _, depth in _walk(tree)) > MAX_DEPTH:
        return None, [ExpressionProblem(0, "expressions.too_complex", {"limit": MAX_DEPTH})]
    return tree, []


# --- printer -------------------------------------------------------------------------------


def _power(node: Node) -> int:
    """How tightly ``node`` binds when printed without parentheses.

    A chain of prefix operators reaches as far as its loosest member, hence the minimum.
    """
    if isinstance(node, Binary):
        return _BINDING_POWER[node.op]
    if isinstance(node, Unary):
        return min(_PREFIX_POWER[node.op], _power(node.operand))
    return _ATOM_POWER


def format_code(code: int | str) -> str:
    """A code as it is written in an expression: ``3`` or ``'a'``."""
    return str(code) if isinstance(code, int) else _quote(code)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    # Positional notation (the language has no exponent) with the shortest exact digits.
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def format_expression(node: Node) -> str:
    """Print ``node`` as source text with as few parentheses as its parse needs."""
    if isinstance(node, Number):
        return _format_number(node.value)
    if isinstance(node, String):
        return _quote(node.value)
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, DateLiteral):
        return f"date('{node.value.isoformat()}')"
    if isinstance(node, Reference):
        return node.name
    if isinstance(node, SelfReference):
        return "."
    if isinstance(node, Call):
        return f"{node.name}({', '.join(format_expression(a) for a in node.args)})"
    if isinstance(node, Unary):
        operand = format_expression(node.operand)
        if isinstance(node.operand, Binary) and _power(node.operand) <= _PREFIX_POWER[node.op]:
            operand = f"({operand})"
        return f"not {operand}" if node.op == "not" else f"-{operand}"
    power = _BINDING_POWER[node.op]
    left, right = format_expression(node.left), format_expression(node.right)
    if _power(node.left) < power or (node.op in COMPARISONS and _power(node.left) == power):
        left = f"({left})"
    if _power(node.right) <= power:
        right = f"({right})"
    return f"{left} {node.op} {right}"


# --- type checking -------------------------------------------------------------------------

_Operand = Reference | SelfReference
_CodeLiteral = Number | String


def _start(node: Node) -> int:
    """Where the text of ``node`` begins (its leftmost operand for a binary node)."""
    while isinstance(node, Binary):
        node = node.left
    return node.offset


def _has_code(codes: tuple[int | str, ...], literal: _CodeLiteral) -> bool:
    return any(
        isinstance(code, str) == isinstance(literal.value, str) and code == literal.value
        for code in codes
    )


def _code_kinds(codes: tuple[int | str, ...]) -> set[ValueType]:
    return {"string" if isinstance(code, str) else "number" for code in codes}


class _Checker:
    def __init__(self, known: Mapping[str, ReferenceInfo], self_type: ReferenceInfo | None) -> None:
        self.known = known
        self.self_type = self_type
        self.problems: list[ExpressionProblem] = []

    def report(self, offset: int, key: str, **params: Any) -> None:
        self.problems.append(ExpressionProblem(offset, key, params))

    def check(self, node: Node) -> ReferenceInfo | None:
        """The static type of ``node``, or ``None`` when a problem was already reported."""
        if isinstance(node, Number):
            return ReferenceInfo("number")
        if isinstance(node, String):
            return ReferenceInfo("string")
        if isinstance(node, Boolean):
            return ReferenceInfo("bool")
        if isinstance(node, DateLiteral):
            return ReferenceInfo("date")
        if isinstance(node, Reference | SelfReference):
            return self.resolve(node)
        if isinstance(node, Unary):
            return self.check_unary(node)
        if isinstance(node, Binary):
            return self.check_binary(node)
        return self.check_call(node)

    def resolve(self, node: _Operand) -> ReferenceInfo | None:
        if isinstance(node, SelfReference):
            if self.self_type is None:
                self.report(node.offset, "expressions.self_not_allowed")
            return self.self_type
        info = self.known.get(node.name)
        if info is None:
            self.report(node.offset, "expressions.unknown_reference", name=node.name)
        return info

    def check_unary(self, node: Unary) -> ReferenceInfo | None:
        operand = self.check(node.operand)
        wanted: ValueType = "bool" if node.op == "not" else "number"
        if operand is not None and operand.type != wanted:
            key = "expressions.logic_type" if node.op == "not" else "expressions.arithmetic_type"
            self.report(node.offset, key, op=node.op, type=operand.type)
        return ReferenceInfo(wanted)

    def check_binary(self, node: Binary) -> ReferenceInfo | None:
        left, right = self.check(node.left), self.check(node.right)
        if node.op in ("and", "or"):
            for operand, info in ((node.left, left), (node.right, right)):
                if info is not None and info.type != "bool":
                    self.report(
                        _start(operand), "expressions.logic_type", op=node.op, type=info.type
                    )
            return ReferenceInfo("bool")
        if node.op in COMPARISONS:
            if left is not None and right is not None:
                self.check_comparison(node, left, right)
            return ReferenceInfo("bool")
        for operand, info in ((node.left, left), (node.right, right)):
            if info is not None and info.type != "number":
                self.report(
                    _start(operand), "expressions.arithmetic_type", op=node.op, type=info.type
                )
        return ReferenceInfo("number")

    def check_comparison(self, node: Binary, left: ReferenceInfo, right: ReferenceInfo) -> None:
        ordering = node.op not in ("==", "!=")
        if "codes" in (left.type, right.type):
            self.report(node.offset, "expressions.multi_compare", op=node.op)
        elif left.type == "code" and right.type == "code":
            if ordering and _code_kinds(left.codes + right.codes) - {"number"}:
                self.report(node.offset, "expressions.not_ordered", op=node.op, type="code")
        elif left.type == "code":
            self.check_code_comparison(node, left, node.right, right)
        elif right.type == "code":
            self.check_code_comparison(node, right, node.left, left)
        elif left.type != right.type:
            key = (
                "expressions.date_string_compare"
                if {left.type, right.type} == {"date", "string"}
                else "expressions.type_mismatch"
            )
            self.report(node.offset, key, left=left.type, op=node.op, right=right.type)
        elif ordering and left.type == "bool":
            self.report(node.offset, "expressions.not_ordered", op=node.op, type="bool")

    def check_code_comparison(
        self, node: Binary, code: ReferenceInfo, other_node: Node, other: ReferenceInfo
    ) -> None:
        ordering = node.op not in ("==", "!=")
        literal = other_node if isinstance(other_node, Number | String) else None
        if other.type not in ("number", "string"):
            self.report(
                node.offset, "expressions.type_mismatch", left="code", op=node.op, right=other.type
            )
        elif literal is not None and not ordering and code.codes:
            if not _has_code(code.codes, literal):
                self.report_unknown_code(literal, node, code)
        elif code.codes and other.type not in _code_kinds(code.codes):
            self.report(
                node.offset, "expressions.type_mismatch", left="code", op=node.op, right=other.type
            )
        elif ordering and (other.type == "string" or _code_kinds(code.codes) - {"number"}):
            self.report(node.offset, "expressions.not_ordered", op=node.op, type="code")

    def report_unknown_code(self, literal: _CodeLiteral, near: Node, info: ReferenceInfo) -> None:
        names = [
            format_expression(side)
            for side in _children(near)
            if isinstance(side, Reference | SelfReference)
        ]
        self.report(
            literal.offset,
            "expressions.unknown_code",
            code=format_expression(literal),
            name=names[0] if names else "",
            codes=", ".join(format_code(code) for code in info.codes),
        )

    def check_call(self, node: Call) -> ReferenceInfo | None:
        result: Mapping[str, ValueType] = {
            "selected": "bool",
            "count_selected": "number",
            "answered": "bool",
            "length": "number",
            "today": "date",
        }
        if node.name not in result:
            self.report(
                node.offset,
                "expressions.unknown_function",
                name=node.name,
                functions=", ".join(FUNCTIONS),
            )
            for arg in node.args:
                self.check(arg)
            return None
        if len(node.args) != FUNCTIONS[node.name]:
            self.report(
                node.offset,
                "expressions.wrong_arity",
                name=node.name,
                expected=FUNCTIONS[node.name],
                found=len(node.args),
            )
            for arg in node.args:
                self.check(arg)
        elif node.name == "length":
            text = self.check(node.args[0])
            if text is not None and text.type != "string":
                self.report(_start(node.args[0]), "expressions.length_needs_text", type=text.type)
        elif node.name != "today":
            self.check_item_function(node)
        return ReferenceInfo(result[node.name])

    def check_item_function(self, node: Call) -> None:
        """``selected``, ``count_selected`` and ``answered``: their first argument is an item."""
        target = node.args[0]
        if not isinstance(target, Reference | SelfReference):
            self.report(_start(target), "expressions.reference_expected", function=node.name)
            for arg in node.args:
                self.check(arg)
            return
        info = self.resolve(target)
        name = format_expression(target)
        if node.name == "count_selected":
            if info is not None and info.type != "codes":
                self.report(
                    target.offset, "expressions.count_needs_multi", name=name, type=info.type
                )
        elif node.name == "selected":
            if info is not None and info.type not in ("code", "codes"):
                self.report(
                    target.offset, "expressions.selected_needs_choice", name=name, type=info.type
                )
            code = node.args[1]
            if not isinstance(code, Number | String) or isinstance(code.value, float):
                self.report(_start(code), "expressions.code_literal_expected", function=node.name)
                self.check(code)
            elif info is not None and info.codes and not _has_code(info.codes, code):
                self.report_unknown_code(code, node, info)


# --- evaluation ----------------------------------------------------------------------------


def _is_missing_marker(value: Any) -> bool:
    # pandas.NA / NaT arrive when answers come from a DataFrame; no pandas import needed.
    return value is None or type(value).__name__ in ("NAType", "NaTType")


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number: int | float = int(value) if isinstance(value, numbers.Integral) else float(value)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return number if isinstance(number, int) or math.isfinite(number) else None


def _as_code(value: Any) -> int | str | None:
    if isinstance(value, str):
        return value if value else None
    number = _as_number(value)
    if isinstance(number, float):
        return int(number) if number.is_integer() else None
    return number


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    number = _as_number(value)
    return bool(number) if number in (0, 1) else None


def _as_codes(value: Any) -> frozenset[int | str] | None:
    if not isinstance(value, list | tuple | set | frozenset):
        return None
    codes = frozenset(code for code in map(_as_code, value) if code is not None)
    return codes or None


def normalise_answer(value: Any, value_type: ValueType) -> Any:
    """An answer as the evaluator sees it, or ``None`` when it is missing or malformed.

    Empty strings and empty selections count as missing; so does anything of the wrong shape,
    so that evaluation never fails on odd input.
    """
    if _is_missing_marker(value):
        return None
    if value_type == "number":
        return _as_number(value)
    if value_type == "string":
        return value if isinstance(value, str) and value else None
    if value_type == "bool":
        return _as_bool(value)
    if value_type == "date":
        return _as_date(value)
    if value_type == "code":
        return _as_code(value)
    return _as_codes(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.date):
        return "date"
    return "other"


_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: Mapping[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
#: Integers beyond this become floats, so products cannot grow without bound.
_INT_LIMIT = 2**63


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    kind = _kind(left)
    if kind != _kind(right) or kind == "other":
        # Values of different kinds (possible only with mixed int/str codes) are unequal.
        return op == "!="
    if kind == "bool" and op not in ("==", "!="):
        return False
    return bool(_COMPARE[op](left, right))


def _arithmetic(op: str, left: Any, right: Any) -> int | float | None:
    if _kind(left) != "number" or _kind(right) != "number":
        return None
    try:
        result = _ARITHMETIC[op](left, right)
        if isinstance(result, int) and abs(result) > _INT_LIMIT:
            result = float(result)
    except ArithmeticError:  # division by zero, float overflow
        return None
    return result if isinstance(result, int) or math.isfinite(result) else None


class _Evaluator:
    def __init__(
        self,
        answers: Mapping[str, Any],
        types: Mapping[str, ReferenceInfo],
        self_value: Any,
    ) -> None:
        self.answers = answers
        self.types = types
        self.self_value = self_value

    def lookup(self, node: Node) -> Any:
        if isinstance(node, SelfReference):
            return self.self_value
        if isinstance(node, Reference):
            info = self.types.get(node.name)
            if info is None:
                return None
            return normalise_answer(self.answers.get(node.name), info.type)
        return None

    def value(self, node: Node) -> Any:
        if isinstance(node, Number | String | Boolean | DateLiteral):
            return node.value
        if isinstance(node, Reference | SelfReference):
            return self.lookup(node)
        if isinstance(node, Unary):
            if node.op == "not":
                return not self.truth(node.operand)
            return _arithmetic("-", 0, self.value(node.operand))
        if isinstance(node, Binary):
            if node.op == "and":
                return self.truth(node.left) and self.truth(node.right)
            if node.op == "or":
                return self.truth(node.left) or self.truth(node.right)
            left, right = self.value(node.left), self.value(node.right)
            if node.op in COMPARISONS:
                return _compare(node.op, left, right)
            return _arithmetic(node.op, left, right)
        return self.call(node)

    def truth(self, node: Node) -> bool:
        return self.value(node) is True

    def call(self, node: Call) -> Any:
        if node.name == "today":
            return dt.date.today()
        argument = self.value(node.args[0]) if node.args else None
        if node.name == "answered":
            return argument is not None
        if node.name == "length":
            return len(argument) if isinstance(argument, str) else None
        if node.name == "count_selected":
            return len(argument) if isinstance(argument, frozenset) else 0
        if node.name == "selected":
            code = self.value(node.args[1])
            if isinstance(argument, frozenset):
                return code in argument
            return _compare("==", argument, code)
        return None


class _ColumnEvaluator:
    """:class:`_Evaluator` over whole columns: every node becomes an object array of ``n``
    values, computed with the scalar helpers element by element, so both evaluators share
    one definition of the semantics (missing values included)."""

    def __init__(
        self, columns: Mapping[str, Any], types: Mapping[str, ReferenceInfo], n: int
    ) -> None:
        self.columns = columns
        self.types = types
        self.n = n

    def constant(self, value: Any) -> NDArray[np.object_]:
        out = np.empty(self.n, dtype=object)
        out.fill(value)
        return out

    def column(self, name: str) -> NDArray[np.object_]:
        info = self.types.get(name)
        raw = self.columns.get(name)
        if info is None or raw is None:
            return self.constant(None)
        # fromiter keeps a multi-choice row's list as one element (asarray would nest it).
        values = np.fromiter(raw, dtype=object, count=self.n)
        return _elementwise(normalise_answer, values, info.type)

    def value(self, node: Node) -> NDArray[np.object_]:
        if isinstance(node, Number | String | Boolean | DateLiteral):
            return self.constant(node.value)
        if isinstance(node, Reference):
            return self.column(node.name)
        if isinstance(node, SelfReference):
            return self.constant(None)  # ``.`` exists only in ``validate`` rules
        if isinstance(node, Unary):
            if node.op == "not":
                return self.boolean(~self.truth(node.operand))
            return _elementwise(_arithmetic, "-", 0, self.value(node.operand))
        if isinstance(node, Binary):
            if node.op == "and":
                return self.boolean(self.truth(node.left) & self.truth(node.right))
            if node.op == "or":
                return self.boolean(self.truth(node.left) | self.truth(node.right))
            left, right = self.value(node.left), self.value(node.right)
            if node.op in COMPARISONS:
                return _elementwise(_compare, node.op, left, right)
            return _elementwise(_arithmetic, node.op, left, right)
        return self.call(node)

    def boolean(self, truth: NDArray[np.bool_]) -> NDArray[np.object_]:
        return truth.astype(object)

    def truth(self, node: Node) -> NDArray[np.bool_]:
        values = self.value(node)
        return np.fromiter((value is True for value in values), dtype=bool, count=self.n)

    def call(self, node: Call) -> NDArray[np.object_]:
        if node.name == "today":
            return self.constant(dt.date.today())
        argument = self.value(node.args[0]) if node.args else self.constant(None)
        if node.name == "answered":
            return _elementwise(_answered, argument)
        if node.name == "length":
            return _elementwise(_length, argument)
        if node.name == "count_selected":
            return _elementwise(_count_selected, argument)
        if node.name == "selected":
            return _elementwise(_selected, argument, self.value(node.args[1]))
        return self.constant(None)


def _answered(value: Any) -> bool:
    return value is not None


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str) else None


def _count_selected(value: Any) -> int:
    return len(value) if isinstance(value, frozenset) else 0


def _selected(value: Any, code: Any) -> bool:
    if isinstance(value, frozenset):
        return code in value
    return _compare("==", value, code)


def _elementwise(function: Callable[..., Any], *arguments: Any) -> NDArray[np.object_]:
    """``function`` applied row by row; array arguments vary, others are fixed."""
    arrays = [a for a in arguments if isinstance(a, np.ndarray)]
    count = len(arrays[0]) if arrays else 0
    rows = zip(*(a if isinstance(a, np.ndarray) else [a] * count for a in arguments), strict=True)
    out = np.empty(count, dtype=object)
    for index, row in enumerate(rows):
        out[index] = function(*row)
    return out


# --- compiled expressions --------------------------------------------------------------------


class Expression:
    """A parsed, checked expression. Evaluate with :meth:`evaluate`."""

    source: str

    def __init__(
        self,
        source: str,
        tree: Node,
        types: Mapping[str, ReferenceInfo],
        self_type: ReferenceInfo | None = None,
    ) -> None:
        self.source = source
        #: The syntax tree; :func:`format_expression` prints it back.
        self.tree = tree
        self._types = dict(types)
        self._self_type = self_type

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def references(self) -> frozenset[str]:
        """The item and statement ids the expression reads (``.`` not included)."""
        return frozenset(node.name for node, _ in _walk(self.tree) if isinstance(node, Reference))

    def evaluate(self, answers: Mapping[str, Any], self_value: Any = None) -> bool:
        """Whether the expression holds for ``answers`` (``self_value`` is the answer to ``.``).

        ``answers`` maps ids to answers as the form keeps them: a code for single choice and
        battery statements, a list of codes for multi choice, int/float, str, bool for yes/no,
        and a ``datetime.date`` or ISO string for dates. Missing or malformed answers never
        raise; they follow the "missing compares false" rules of the module docstring.
        """
        own = normalise_answer(self_value, self._self_type.type) if self._self_type else None
        return _Evaluator(answers, self._types, own).truth(self.tree)

    def evaluate_columns(self, columns: Mapping[str, Any], n: int) -> NDArray[np.bool_]:
        """:meth:`evaluate` for ``n`` rows at once: whether the expression holds per row.

        ``columns`` maps ids to sequences of ``n`` answers (numpy arrays, pandas Series or
        lists) in the form's shapes, a multi-choice column holding each row's list of codes;
        ``pandas.NA``, ``None`` and NaN are missing. An id absent from ``columns`` is missing
        in every row. Row ``i`` of the result equals :meth:`evaluate` of row ``i``. ``.`` is
        missing (the form checks ``validate`` rules one answer at a time).
        """
        return _ColumnEvaluator(columns, self._types, n).truth(self.tree)


def compile_expression(
    source: str,
    known: Mapping[str, ReferenceInfo],
    *,
    self_type: ReferenceInfo | None = None,
) -> tuple[Expression | None, list[ExpressionProblem]]:
    """Parse and type-check ``source`` against the references in ``known``.

    Parameters
    ----------
    source
        The expression text.
    known
        The ids the expression may reference with their types (the loader passes only the
        items that come before, so a forward reference is ``expressions.unknown_reference``).
    self_type
        The type of the item's own answer ``.``; ``None`` (as for ``show_if``) forbids ``.``.

    Returns
    -------
    The expression and no problems, or ``None`` and every problem found, ordered by offset.
    A syntax error stops at the first problem; type problems are all reported.
    """
    tree, problems = parse_expression(source)
    if tree is None:
        return None, problems
    checker = _Checker(known, self_type)
    result = checker.check(tree)
    if result is not None and result.type != "bool":
        checker.report(_start(tree), "expressions.not_boolean", type=result.type)
    if checker.problems:
        return None, sorted(checker.problems, key=lambda problem: problem.offset)
    used = {name: known[name] for name in _referenced_names(tree)}
    return Expression(source, tree, used, self_type), []


def _referenced_names(tree: Node) -> set[str]:
    return {node.name for node, _ in _walk(tree) if isinstance(node, Reference)}
