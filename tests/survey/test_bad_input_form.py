"""Answers no widget sends but the API can be given (docs/bad-input.md): a message at the
field, never a TypeError/OverflowError, and nothing stored."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from core import InvalidInput
from survey import Form, load_questionnaire
from tests.fixtures import municipality_store

MINI = Path(__file__).resolve().parent.parent / "views" / "fixtures" / "mini_survey.yaml"
ABOUT = 3


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"years": float("nan")}, ("years", "answer.not_a_number")),
        ({"years": float("inf")}, ("years", "answer.not_a_number")),
        ({"years": 10**400}, ("years", "answer.too_large")),
        ({"years": -(10**400)}, ("years", "answer.too_small")),
        ({"years": 3, "measures": [[1]]}, ("measures", "answer.unknown_option")),
        ({"years": 3, "measures": [{"code": 1}]}, ("measures", "answer.unknown_option")),
    ],
    ids=["nan", "inf", "huge", "huge-negative", "nested-list", "mapping"],
)
def test_impossible_values_are_problems_at_their_field(
    answers: dict[str, Any], expected: tuple[str, str]
) -> None:
    form = Form(load_questionnaire(MINI))
    check = form.check_page(ABOUT, answers, "de", frozenset())
    assert [(p.location.field, p.key) for p in check.problems] == [expected]
    assert not check.may_continue


def test_an_unhashable_single_choice_answer_is_refused_by_the_store(sqlite_url: str) -> None:
    questionnaire = load_questionnaire(MINI)
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(questionnaire, MINI.read_text("utf-8"))
        for answers in (
            {"consent": True, "years": 3, "district": {"a": 1}},
            {"consent": True, "years": 10**400},
            {"consent": True, "years": 3, "measures": [[1]]},
        ):
            with pytest.raises(InvalidInput):
                store.submit(
                    questionnaire, answers, language="de", submission_token=secrets.token_hex(16)
                )
        assert store.responses(questionnaire).empty
