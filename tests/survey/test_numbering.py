"""The printed question numbers (survey/_numbering.py): one numbering for the web form, the
paper questionnaire and the data entry of paper forms."""

from __future__ import annotations

from survey import Form, InfoItem, load_questionnaire, question_numbers
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import fixture_path, small_questionnaire


def test_answered_questions_are_numbered_in_order_and_info_items_are_not() -> None:
    numbers = question_numbers(small_questionnaire())
    assert numbers == {
        "district": 1,
        "problems": 2,
        "p_graffiti": 2,
        "p_litter": 2,
        "places": 3,
        "age": 4,
        "hours": 5,
        "victim": 6,
        "when": 7,
        "remarks": 8,
    }
    assert "consent" not in numbers  # an info item: nothing to answer, no number


def test_hidden_follow_up_questions_keep_their_number() -> None:
    questionnaire = load_questionnaire(fixture_path("paper_form.yaml"))
    numbers = question_numbers(questionnaire)
    # "Wann war das?" is shown only after "ja"; on paper it is printed anyway.
    assert numbers["victim"] == 4
    assert numbers["victim_when"] == 5
    assert numbers["age"] == 6


def test_the_web_form_uses_the_same_numbers() -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    form = Form(questionnaire)
    numbers = question_numbers(questionnaire)
    for item in questionnaire.items():
        expected = None if isinstance(item, InfoItem) else numbers[item.id]
        assert form.question_number(item.id) == expected
    assert list(numbers.values()) == sorted(numbers.values())
    assert max(numbers.values()) == sum(
        1 for item in questionnaire.items() if not isinstance(item, InfoItem)
    )
