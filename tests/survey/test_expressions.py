"""The show_if / validate expression language: parsing, checking, evaluation, properties."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import core
import survey.expressions as expressions_module
from core import UI_LANGUAGES, t
from survey import (
    COMPARISONS,
    KEYWORDS,
    Binary,
    Boolean,
    Call,
    DateLiteral,
    Expression,
    ExpressionProblem,
    Node,
    Number,
    Reference,
    ReferenceInfo,
    SelfReference,
    String,
    Unary,
    compile_expression,
    format_expression,
    parse_expression,
)

KNOWN: Mapping[str, ReferenceInfo] = {
    "age": ReferenceInfo("number"),
    "income": ReferenceInfo("number"),
    "name": ReferenceInfo("string"),
    "consent": ReferenceInfo("bool"),
    "visit": ReferenceInfo("date"),
    "district": ReferenceInfo("code", (1, 2, 3, 4)),
    "colour": ReferenceInfo("code", ("red", "green")),
    "measures": ReferenceInfo("codes", (1, 2, 3, 4, 5)),
    "fears": ReferenceInfo("codes", ("park", "station")),
    "safety.night": ReferenceInfo("code", (1, 2, 3, 4, 9)),
    "safety.day": ReferenceInfo("code", (1, 2, 3, 4, 9)),
}
SAMPLE_ANSWERS: Mapping[str, Any] = {
    "age": 34,
    "income": 2500.5,
    "name": "Anna",
    "consent": True,
    "visit": "2024-05-17",
    "district": 2,
    "colour": "red",
    "measures": [1, 3],
    "fears": [],
    "safety.night": 3,
    "safety.day": 1,
}


def compiled(source: str, self_type: ReferenceInfo | None = None) -> Expression:
    expression, problems = compile_expression(source, KNOWN, self_type=self_type)
    assert problems == [], problems
    assert expression is not None
    return expression


def problems_of(source: str, self_type: ReferenceInfo | None = None) -> list[ExpressionProblem]:
    expression, problems = compile_expression(source, KNOWN, self_type=self_type)
    assert expression is None
    assert problems
    return problems


# --- evaluation: table-driven ----------------------------------------------------------------

EVALUATIONS: list[tuple[str, Mapping[str, Any], bool]] = [
    # literals, arithmetic, precedence
    ("true", {}, True),
    ("false", {}, False),
    ("1 + 2 * 3 == 7", {}, True),
    ("(1 + 2) * 3 == 9", {}, True),
    ("7 / 2 == 3.5", {}, True),
    ("10 - 2 - 3 == 5", {}, True),
    ("-2 * -3 == 6", {}, True),
    ("- (1 + 2) == -3", {}, True),
    ("1.5 < 2", {}, True),
    ("'b' > 'a'", {}, True),
    ('"say \\"hi\\"" == \'say "hi"\'', {}, True),
    ("date('2024-01-31') < date('2024-02-01')", {}, True),
    ("true == true and true != false", {}, True),
    ("true or false and false", {}, True),  # and binds tighter than or
    ("not false and false", {}, False),  # not binds tighter than and
    ("not 1 == 2", {}, True),  # comparisons bind tighter than not
    # references and "=" as equality
    ("age = 34", SAMPLE_ANSWERS, True),
    ("age >= 18 and age < 65", SAMPLE_ANSWERS, True),
    ("income * 2 == 5001", SAMPLE_ANSWERS, True),
    ("name == 'Anna'", SAMPLE_ANSWERS, True),
    ("consent", SAMPLE_ANSWERS, True),
    ("consent == false", {"consent": False}, True),
    ("consent", {"consent": 1}, True),
    ("consent", {"consent": 0}, False),
    ("visit >= date('2024-05-01')", SAMPLE_ANSWERS, True),
    ("visit == date('2024-05-17')", {"visit": dt.date(2024, 5, 17)}, True),
    ("visit == date('2024-05-17')", {"visit": dt.datetime(2024, 5, 17, 13, 0)}, True),
    ("visit <= today()", SAMPLE_ANSWERS, True),
    ("district == 2", SAMPLE_ANSWERS, True),
    ("district != 3", SAMPLE_ANSWERS, True),
    ("district >= 2", SAMPLE_ANSWERS, True),
    ("colour == 'red'", SAMPLE_ANSWERS, True),
    ("safety.night >= 3 and safety.day == 1", SAMPLE_ANSWERS, True),
    ("safety.night == safety.day", SAMPLE_ANSWERS, False),
    # functions
    ("selected(measures, 3)", SAMPLE_ANSWERS, True),
    ("selected(measures, 2)", SAMPLE_ANSWERS, False),
    ("selected(district, 2)", SAMPLE_ANSWERS, True),
    ("selected(colour, 'green')", SAMPLE_ANSWERS, False),
    ("count_selected(measures) == 2", SAMPLE_ANSWERS, True),
    ("count_selected(fears) == 0", SAMPLE_ANSWERS, True),
    ("answered(age) and answered(measures)", SAMPLE_ANSWERS, True),
    ("answered(fears)", SAMPLE_ANSWERS, False),  # an empty selection is unanswered
    ("answered(name)", {"name": ""}, False),  # so is an empty text
    ("length(name) == 4", SAMPLE_ANSWERS, True),
    # missing answers: "missing compares false"
    ("age == 1", {}, False),
    ("age != 1", {}, False),
    ("age < 1 or age >= 1", {}, False),
    ("not age == 1", {}, True),
    ("age + 1 == 1", {}, False),
    ("answered(age)", {}, False),
    ("answered(age)", {"age": None}, False),
    ("selected(measures, 1)", {}, False),
    ("count_selected(measures) == 0", {}, True),
    ("consent", {}, False),
    ("not consent", {}, True),
    ("length(name) == 0", {}, False),
    # arithmetic failures are missing, never exceptions
    ("age / 0 == 1", SAMPLE_ANSWERS, False),
    ("age / 0 != 1", SAMPLE_ANSWERS, False),
    ("answered(age) and age / (age - 34) > 0", SAMPLE_ANSWERS, False),
    # malformed answers count as missing
    ("age == 1", {"age": "1"}, False),
    ("age == 1", {"age": math.nan}, False),
    ("age == 1", {"age": True}, False),
    ("visit == today()", {"visit": "yesterday"}, False),
    ("selected(measures, 1)", {"measures": 1}, False),
    ("district == 2", {"district": 2.0}, True),
    ("district == 2", {"district": [2]}, False),
]


@pytest.mark.parametrize(("source", "answers", "expected"), EVALUATIONS)
def test_evaluation(source: str, answers: Mapping[str, Any], expected: bool) -> None:
    assert compiled(source).evaluate(answers) is expected


@pytest.mark.parametrize(
    ("source", "self_type", "value", "expected"),
    [
        (". >= 0 and . <= 120", ReferenceInfo("number"), 34, True),
        (". >= 0 and . <= 120", ReferenceInfo("number"), 121, False),
        (". <= age", ReferenceInfo("number"), 30, True),
        ("length(.) <= 3", ReferenceInfo("string"), "abcd", False),
        ("count_selected(.) <= 2", ReferenceInfo("codes", (1, 2, 3)), [1, 2], True),
        (
            "not (selected(., 1) and selected(., 3))",
            ReferenceInfo("codes", (1, 2, 3)),
            [1, 3],
            False,
        ),
        (". <= today()", ReferenceInfo("date"), "2020-02-29", True),
        ("answered(.)", ReferenceInfo("number"), None, False),
    ],
)
def test_self_value_in_validate(
    source: str, self_type: ReferenceInfo, value: Any, expected: bool
) -> None:
    assert compiled(source, self_type).evaluate(SAMPLE_ANSWERS, value) is expected


def test_references_lists_every_id_read_but_not_the_own_answer() -> None:
    expression = compiled(
        "selected(measures, 1) or . > age and safety.night == 2", ReferenceInfo("number")
    )
    assert expression.references() == frozenset({"measures", "age", "safety.night"})
    assert compiled("1 < 2").references() == frozenset()


def test_mixed_code_kinds_never_raise() -> None:
    known = {"q": ReferenceInfo("code", (1, "x"))}
    expression, problems = compile_expression("q == 1 or q != 'x'", known)
    assert problems == []
    assert expression is not None
    assert expression.evaluate({"q": "x"}) is False
    assert expression.evaluate({"q": 1}) is True


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("answered(age)", {"age": pd.NA}, False),
        ("answered(visit)", {"visit": pd.NaT}, False),
        ("age == 34", {"age": np.int64(34)}, True),
        ("income > 1", {"income": np.float64(2.5)}, True),
        ("district == 2", {"district": np.int64(2)}, True),
        ("selected(measures, 3)", {"measures": (np.int64(3),)}, True),
        ("visit == date('2024-05-17')", {"visit": pd.Timestamp("2024-05-17")}, True),
    ],
)
def test_values_from_a_dataframe_row(
    source: str, answers: Mapping[str, Any], expected: bool
) -> None:
    assert compiled(source).evaluate(answers) is expected


def test_huge_numbers_are_missing_not_errors() -> None:
    big = "9" * 400
    assert compiled(f"{big} / 3 > 0").evaluate({}) is False
    assert compiled(f"{big} > 1").evaluate({}) is True


# --- problems: one test per class ----------------------------------------------------------

PROBLEMS: list[tuple[str, ReferenceInfo | None, str, int]] = [
    # syntax
    ("", None, "expressions.empty", 0),
    ("   ", None, "expressions.empty", 0),
    ("age == 1 && consent", None, "expressions.unexpected_character", 9),
    ("${age} > 1", None, "expressions.unexpected_character", 0),
    ("age > 9" + "9" * 400 + ".5", None, "expressions.number_too_long", 6),
    ("name == 'a\\nb'", None, "expressions.bad_escape", 10),
    ("name == 'Anna", None, "expressions.unterminated_string", 8),
    ("age 1", None, "expressions.unexpected_token", 4),
    ("age ==", None, "expressions.unexpected_end", 6),
    ("age == )", None, "expressions.expected_operand", 7),
    ("(age == 1", None, "expressions.unclosed_parenthesis", 9),
    ("selected(measures, 1 2)", None, "expressions.expected_closing", 21),
    ("1 < age < 3", None, "expressions.chained_comparison", 8),
    ("(" * 150 + "true" + ")" * 150, None, "expressions.too_complex", 100),
    ("1" + " + 1" * 150 + " == 2", None, "expressions.too_complex", 0),
    ("visit < date('2024-02-30')", None, "expressions.bad_date", 8),
    ("visit < date(name)", None, "expressions.bad_date", 8),
    # references
    (". > 1", None, "expressions.self_not_allowed", 0),
    ("later == 1", None, "expressions.unknown_reference", 0),
    ("answered(later)", None, "expressions.unknown_reference", 9),
    # types
    ("age and consent", None, "expressions.logic_type", 0),
    ("not age", None, "expressions.logic_type", 0),
    ("name + 1 > 2", None, "expressions.arithmetic_type", 0),
    ("-consent", None, "expressions.arithmetic_type", 0),
    ("district * 2 > 3", None, "expressions.arithmetic_type", 0),
    ("measures == 1", None, "expressions.multi_compare", 9),
    ("consent < true", None, "expressions.not_ordered", 8),
    ("colour > 'a'", None, "expressions.not_ordered", 7),
    ("visit < '2024-01-01'", None, "expressions.date_string_compare", 6),
    ("age == 'a'", None, "expressions.type_mismatch", 4),
    ("age == consent", None, "expressions.type_mismatch", 4),
    ("district == visit", None, "expressions.type_mismatch", 9),
    ("district > name", None, "expressions.type_mismatch", 9),
    ("district == 7", None, "expressions.unknown_code", 12),
    ("district == '2'", None, "expressions.unknown_code", 12),
    ("'blue' != colour", None, "expressions.unknown_code", 0),
    ("selected(measures, 6)", None, "expressions.unknown_code", 19),
    ("selected(fears, 1)", None, "expressions.unknown_code", 16),
    # functions
    ("max(age, 3) > 1", None, "expressions.unknown_function", 0),
    ("selected(measures)", None, "expressions.wrong_arity", 0),
    ("answered()", None, "expressions.wrong_arity", 0),
    ("today(1) > visit", None, "expressions.wrong_arity", 0),
    ("length(age) > 2", None, "expressions.length_needs_text", 7),
    ("answered(age + 1)", None, "expressions.reference_expected", 9),
    ("count_selected(district) > 1", None, "expressions.count_needs_multi", 15),
    ("selected(age, 1)", None, "expressions.selected_needs_choice", 9),
    ("selected(measures, age)", None, "expressions.code_literal_expected", 19),
    ("selected(measures, 1.5)", None, "expressions.code_literal_expected", 19),
    # the whole expression must be a condition
    ("age + 1", None, "expressions.not_boolean", 0),
    ("name", None, "expressions.not_boolean", 0),
    (".", ReferenceInfo("number"), "expressions.not_boolean", 0),
]


@pytest.mark.parametrize(("source", "self_type", "key", "offset"), PROBLEMS)
def test_problem(source: str, self_type: ReferenceInfo | None, key: str, offset: int) -> None:
    problems = problems_of(source, self_type)
    assert [(p.key, p.offset) for p in problems][:1] == [(key, offset)]


def test_every_problem_key_has_a_german_and_english_text_with_its_params() -> None:
    for source, self_type, _, _ in PROBLEMS:
        for problem in problems_of(source, self_type):
            for lang in UI_LANGUAGES:
                assert t(problem.key, lang, **problem.params)


def test_every_key_the_module_uses_is_in_the_locale_file() -> None:
    locale = Path(core.__file__).parent / "locales" / "expressions.yaml"
    defined = set(YAML(typ="safe").load(locale.read_text(encoding="utf-8")))
    exercised = {key for _, _, key, _ in PROBLEMS}
    assert exercised == defined


def test_type_problems_are_all_reported_in_order() -> None:
    problems = problems_of("later == 1 or name + 1 > 2 or district == 9")
    assert [p.key for p in problems] == [
        "expressions.unknown_reference",
        "expressions.arithmetic_type",
        "expressions.unknown_code",
    ]
    assert problems[0].params == {"name": "later"}
    assert problems[2].params == {"code": "9", "name": "district", "codes": "1, 2, 3, 4"}


def test_unknown_code_message_names_item_and_allowed_codes() -> None:
    (problem,) = problems_of("colour == 'blue'")
    assert t(problem.key, "en", **problem.params) == (
        "Code 'blue' is not an answer of “colour”; allowed: 'red', 'green'."
    )


# --- parsing ---------------------------------------------------------------------------------


def test_precedence_and_associativity() -> None:
    def parsed(source: str) -> Node | None:
        return parse_expression(source)[0]

    a, b, c = Reference("a"), Reference("b"), Reference("c")
    assert parsed("a or b and c") == Binary("or", a, Binary("and", b, c))
    assert parsed("not a and b") == Binary("and", Unary("not", a), b)
    assert parsed("not a == b") == Unary("not", Binary("==", a, b))
    assert parsed("a - b - c") == Binary("-", Binary("-", a, b), c)
    assert parsed("a + b * c") == Binary("+", a, Binary("*", b, c))
    assert parsed("-a * b") == Binary("*", Unary("-", a), b)
    assert parsed("a = b") == Binary("==", a, b)
    assert parsed("date('2024-01-31')") == DateLiteral(dt.date(2024, 1, 31))
    assert parsed("selected(q.1, 'x')") == Call("selected", (Reference("q.1"), String("x")))
    assert parsed(".") == SelfReference()


def test_offsets_point_at_the_operator_and_names() -> None:
    tree = parse_expression("  age >= 18")[0]
    assert isinstance(tree, Binary)
    assert (tree.offset, tree.left.offset, tree.right.offset) == (6, 2, 9)


def test_no_eval_exec_or_compile_in_the_module() -> None:
    source = Path(expressions_module.__file__).read_text(encoding="utf-8")
    for forbidden in ("eval(", "exec(", "compile(", "__import__"):
        assert forbidden not in source.replace("compile_expression(", "")


# --- property tests ----------------------------------------------------------------------------

identifiers = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.]{0,8}\Z").filter(lambda s: s not in KEYWORDS)
leaves: st.SearchStrategy[Node] = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(Number),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(lambda x: Number(abs(x))),
    st.text().map(String),
    st.booleans().map(Boolean),
    st.dates().map(DateLiteral),
    identifiers.map(Reference),
    st.just(SelfReference()),
)
operators = st.sampled_from(["or", "and", *sorted(COMPARISONS), "+", "-", "*", "/"])


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(Binary, operators, children, children),
        st.builds(
            Call,
            st.sampled_from(["selected", "count_selected", "answered", "length", "today", "f"]),
            st.lists(children, max_size=3).map(tuple),
        ),
    )


trees = st.recursive(leaves, _extend, max_leaves=25)


@given(trees)
def test_printed_trees_parse_back_to_the_same_tree(tree: Node) -> None:
    text = format_expression(tree)
    parsed, problems = parse_expression(text)
    assert problems == [], (text, problems)
    assert parsed == tree, text
    assert parsed is not None
    assert format_expression(parsed) == text


@given(st.text())
def test_arbitrary_text_gives_a_tree_or_problems_never_an_exception(text: str) -> None:
    tree, problems = parse_expression(text)
    assert (tree is None) == bool(problems)
    assert all(0 <= p.offset <= len(text) for p in problems)
    expression, problems = compile_expression(text, KNOWN, self_type=ReferenceInfo("number"))
    assert (expression is None) == bool(problems)


operator_soup = st.lists(
    st.sampled_from(
        [
            "age", "district", "measures", "consent", "name", "visit", ".", "1", "2.5", "'x'",
            "(", ")", ",", "and", "or", "not", "==", "=", "!=", "<", ">=", "+", "-", "*", "/",
            "selected", "count_selected", "answered", "length", "today", "date", "true",
            "'2024-01-01'",
        ]
    ),
    max_size=15,
).map(" ".join)  # fmt: skip


@given(operator_soup)
def test_token_soup_never_raises(text: str) -> None:
    expression, problems = compile_expression(text, KNOWN, self_type=ReferenceInfo("number"))
    assert (expression is None) == bool(problems)
    assert all(0 <= p.offset <= len(text) for p in problems)
    if expression is not None:
        assert expression.evaluate(SAMPLE_ANSWERS, 3) in (True, False)


# Well-typed random expressions, built as text from the grammar of each type.
def _number_expr(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.integers(min_value=0, max_value=10**20).map(str),
        st.sampled_from(["0", "0.5", "age", "income", ".", "count_selected(measures)"]),
        st.just("length(name)"),
    )
    if depth == 0:
        return leaf
    inner = _number_expr(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        inner.map(lambda x: f"-({x})"),
    )


def _bool_expr(depth: int) -> st.SearchStrategy[str]:
    number = _number_expr(2)
    leaf = st.one_of(
        st.sampled_from(
            [
                "true", "consent", "answered(visit)", "answered(.)", "selected(measures, 4)",
                "selected(fears, 'park')", "selected(district, 1)", "colour == 'green'",
                "visit < today()", "visit >= date('2024-01-01')", "name != 'x'",
                "safety.night >= 3", "safety.night != safety.day", "district == 4",
            ]
        ),
        st.tuples(number, st.sampled_from(sorted(COMPARISONS)), number).map(" ".join),
    )  # fmt: skip
    if depth == 0:
        return leaf
    inner = _bool_expr(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda x: f"({x[0]} {x[1]} {x[2]})"
        ),
        inner.map(lambda x: f"not ({x})"),
    )


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.integers(-2, 6), st.sampled_from(["park", "station", "red"]), st.none())),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
right_shape: Mapping[str, st.SearchStrategy[Any]] = {
    "age": st.integers(-5, 130),
    "income": st.floats(0, 1e6),
    "name": st.text(max_size=10),
    "consent": st.booleans(),
    "visit": st.dates().map(dt.date.isoformat),
    "district": st.sampled_from([1, 2, 3, 4]),
    "colour": st.sampled_from(["red", "green"]),
    "measures": st.lists(st.sampled_from([1, 2, 3, 4, 5]), unique=True),
    "fears": st.lists(st.sampled_from(["park", "station"]), unique=True),
    "safety.night": st.sampled_from([1, 2, 3, 4, 9]),
    "safety.day": st.sampled_from([1, 2, 3, 4, 9]),
}
answer_dicts = st.fixed_dictionaries(
    {}, optional={name: st.one_of(shape, junk) for name, shape in right_shape.items()}
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_bool_expr(3), answer_dicts, st.one_of(st.integers(), junk))
def test_well_typed_expressions_check_and_never_raise_on_evaluation(
    source: str, answers: dict[str, Any], own: Any
) -> None:
    expression = compiled(source, ReferenceInfo("number"))
    result = expression.evaluate(answers, own)
    assert result in (True, False)
    double_negation = compiled(f"not not ({source})", ReferenceInfo("number"))
    assert double_negation.evaluate(answers, own) is result
    negation = compiled(f"not ({source})", ReferenceInfo("number"))
    assert negation.evaluate(answers, own) is (not result)


@given(st.booleans(), st.booleans(), st.booleans())
def test_or_and_precedence_matches_the_truth_table(a: bool, b: bool, c: bool) -> None:
    known = {name: ReferenceInfo("bool") for name in "abc"}
    expression, _ = compile_expression("a or b and c", known)
    assert expression is not None
    assert expression.evaluate({"a": a, "b": b, "c": c}) is (a or (b and c))


_PYTHON_ARITHMETIC = {"+": int.__add__, "-": int.__sub__, "*": int.__mul__}


@given(
    st.lists(st.integers(0, 1000), min_size=3, max_size=3),
    st.lists(st.sampled_from(["+", "-", "*"]), min_size=2, max_size=2),
)
def test_arithmetic_precedence_matches_python(numbers: list[int], ops: list[str]) -> None:
    a, b, c = numbers
    first, second = ops
    if second == "*" and first != "*":  # Python's own precedence, spelled out
        expected = _PYTHON_ARITHMETIC[first](a, b * c)
    else:
        expected = _PYTHON_ARITHMETIC[second](_PYTHON_ARITHMETIC[first](a, b), c)
    source = f"{a} {first} {b} {second} {c} == {expected}"
    assert compiled(source).evaluate({}) is True
