"""The column evaluator (:meth:`Expression.evaluate_columns`) agrees with the scalar
evaluator row by row, for random expressions over random, often malformed, answers."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from survey import ReferenceInfo, compile_expression

KNOWN = {
    "n1": ReferenceInfo("number"),
    "n2": ReferenceInfo("number"),
    "c": ReferenceInfo("code", (1, 2, 3)),
    "k": ReferenceInfo("code", ("a", "b")),
    "m": ReferenceInfo("codes", (1, 2, 3)),
    "b": ReferenceInfo("bool"),
    "d": ReferenceInfo("date"),
    "s": ReferenceInfo("string"),
}

numbers = st.sampled_from(["n1", "n2", "n1 + n2", "n1 * 2", "-n1", "n1 / n2", "n2 - 1.5"])
atoms = st.one_of(
    st.builds(
        "{} {} {}".format,
        numbers,
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        st.sampled_from(["0", "1", "2.5", "-3"]),
    ),
    st.builds("c {} {}".format, st.sampled_from(["==", "!=", "<", ">="]), st.sampled_from("123")),
    st.builds("k {} '{}'".format, st.sampled_from(["==", "!="]), st.sampled_from("ab")),
    st.builds("selected(m, {})".format, st.sampled_from("123")),
    st.builds("selected(c, {})".format, st.sampled_from("123")),
    st.builds("count_selected(m) >= {}".format, st.sampled_from("0123")),
    st.builds("answered({})".format, st.sampled_from(sorted(KNOWN))),
    st.sampled_from(["b", "b == true", "b != false", "true", "false"]),
    st.sampled_from(["d < date('2020-01-01')", "d >= date('2000-02-29')", "d != today()"]),
    st.sampled_from(["s == 'x'", "length(s) > 1", "s != ''"]),
)
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds("({} and {})".format, inner, inner),
        st.builds("({} or {})".format, inner, inner),
        st.builds("not {}".format, inner),
    ),
    max_leaves=6,
)
odd = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(pd.NA),
    st.just(""),
    st.just("x"),
    st.just(True),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n1": st.one_of(odd, st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)),
    "n2": st.one_of(odd, st.integers(-2, 2), st.just(0.0)),
    "c": st.one_of(odd, st.integers(0, 4), st.just(2.0), st.just("2")),
    "k": st.one_of(odd, st.sampled_from(["a", "b", "c"])),
    "m": st.one_of(odd, st.lists(st.sampled_from([1, 2, 3, 2.0, "1"]), max_size=3)),
    "b": st.one_of(odd, st.booleans(), st.sampled_from([0, 1, 2])),
    "d": st.one_of(
        odd,
        st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)),
        st.sampled_from(["2019-12-31", "2020-02-30", "2025-01-01"]),
    ),
    "s": st.one_of(odd, st.text("xy", max_size=3)),
}
rows = st.lists(st.fixed_dictionaries(VALUES), min_size=0, max_size=8)


@settings(max_examples=300, deadline=None)
@given(source=expressions, table=rows)
def test_columns_agree_with_the_scalar_evaluator(source: str, table: list[dict[str, Any]]) -> None:
    expression, problems = compile_expression(source, KNOWN)
    assert expression is not None, (source, problems)
    columns = {name: [row[name] for row in table] for name in KNOWN}
    result = expression.evaluate_columns(columns, len(table))
    assert result.dtype == bool
    assert list(result) == [expression.evaluate(row) for row in table]


def test_columns_may_be_numpy_arrays_and_series_with_missing_values() -> None:
    expression, _ = compile_expression("n1 >= 2 or c == 1", KNOWN)
    assert expression is not None
    columns = {
        "n1": np.array([1.0, math.nan, 3.0]),
        "c": pd.Series([1, None, 2], dtype="Int64"),
    }
    assert list(expression.evaluate_columns(columns, 3)) == [True, False, True]
    assert list(expression.evaluate_columns({}, 2)) == [False, False]
