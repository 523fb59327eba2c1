"""One bad answer, one message: the web form, the store and the paper import all run the
question kind's own check (``survey.kinds``), so they report the same problem key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from core import InvalidInput, Problem
from storage import Store
from survey import Form, Questionnaire
from tests.fixtures import SOURCE_TEXT, municipality_store, small_questionnaire

#: (answer key, the value as the form or an API caller gives it, the same answer as a text
#: cell of a codebook-layout table, the problem key all three must report).
BAD_ANSWERS: list[tuple[str, Any, str, str]] = [
    ("age", "zwei", "zwei", "answer.not_a_number"),
    ("age", float("nan"), "nan", "answer.not_a_number"),
    ("hours", float("inf"), "inf", "answer.not_a_number"),
    ("age", 111, "111", "answer.too_large"),
    ("age", 3, "3", "answer.too_small"),
    ("age", 7.5, "7,5", "answer.not_an_integer"),
    ("district", "west", "west", "answer.unknown_option"),
    ("district", ["nord"], "['nord']", "answer.unknown_option"),
    ("p_graffiti", 4, "4", "answer.unknown_option"),
    ("when", "03.10.2026", "03.10.2026", "answer.bad_date"),
    ("when", "2026-02-30", "2026-02-30", "answer.bad_date"),
    ("when", "1899-12-31", "1899-12-31", "answer.date_out_of_range"),
    ("remarks", "x" * 51, "x" * 51, "answer.too_long"),
    ("victim", "ja", "ja", "answer.not_yes_no"),
]


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    with municipality_store(sqlite_url) as opened:
        opened.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
        yield opened


def _item_id(questionnaire: Questionnaire, key: str) -> str:
    # A battery statement's variable names its battery; every other key is its item's id.
    return next((v.item_id for v in questionnaire.variables() if v.id == key), key)


def form_keys(key: str, value: Any) -> list[str]:
    questionnaire = small_questionnaire()
    item = questionnaire.item(_item_id(questionnaire, key))
    problems = Form(questionnaire).item_problems(item, {key: value}, "de")
    return [p.key for p in problems if p.location.field == key]


def store_keys(store: Store, key: str, value: Any) -> list[str]:
    with pytest.raises(InvalidInput) as raised:
        store.submit(small_questionnaire(), {key: value}, language="de", submission_token="t")
    return [p.key for p in raised.value.problems if p.location.field == key]


def import_keys(store: Store, key: str, cell: str) -> list[str]:
    frame = pd.DataFrame({key: [cell]}, dtype="string")
    with pytest.raises(InvalidInput) as raised:
        store.import_responses(small_questionnaire(), frame, source="papier.csv")
    problems: list[Problem] = raised.value.problems
    return [p.key for p in problems if p.location.field == key]


@pytest.mark.parametrize(("key", "value", "cell", "expected"), BAD_ANSWERS)
def test_form_store_and_import_report_the_same_problem(
    store: Store, key: str, value: Any, cell: str, expected: str
) -> None:
    assert form_keys(key, value) == [expected]
    assert store_keys(store, key, value) == [expected]
    assert import_keys(store, key, cell) == [expected]


def test_a_multi_choice_with_an_unknown_code_is_the_same_problem_in_form_and_store(
    store: Store,
) -> None:
    # The import has no column for an unknown code, so only form and store can be asked.
    assert form_keys("places", [1, 7]) == ["answer.unknown_option"]
    assert store_keys(store, "places", [1, 7]) == ["answer.unknown_option"]
    assert form_keys("places", 1) == store_keys(store, "places", 1) == ["answer.unknown_option"]
