"""The survey form's rules without a browser: skip logic, page flow, validation, throttling."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from survey import (
    FREE_CODE_ATTEMPTS,
    MAX_CODE_WAIT_SECONDS,
    Form,
    code_retry_wait,
    is_blank,
    latest_date,
    load_questionnaire,
    question_numbers,
)
from tests.conftest import DEFAULT_QUESTIONNAIRE

MINI = Path(__file__).resolve().parent.parent / "views" / "fixtures" / "mini_survey.yaml"
START, SAFETY, UNSAFE, ABOUT = 0, 1, 2, 3


@pytest.fixture(scope="module")
def form() -> Form:
    return Form(load_questionnaire(MINI))


def keys(form: Form, page: int, answers: dict[str, Any], asked: frozenset[str] = frozenset()):
    check = form.check_page(page, answers, "de", asked)
    return [(p.location.field, p.key, p.severity) for p in check.problems], check


@pytest.mark.parametrize(
    ("value", "blank"),
    [(None, True), ("", True), ("  ", True), ([], True), (0, False), (False, False), ([1], False)],
)
def test_blank_answers(value: Any, blank: bool) -> None:
    assert is_blank(value) is blank


def test_show_if_hides_an_item_and_drops_its_answer(form: Form) -> None:
    section = form.questionnaire.sections[SAFETY]
    ids = [i.id for i in form.visible_items(section, {"avoid": False})]
    assert "avoid_where" not in ids
    assert "avoid_where" in [i.id for i in form.visible_items(section, {"avoid": True})]
    answers = {"avoid": False, "avoid_where": "Bahnhof", "consent": True}
    assert form.clean(answers) == {"avoid": False, "consent": True}
    assert form.clean({**answers, "avoid": True})["avoid_where"] == "Bahnhof"


def test_clean_drops_blank_and_unknown_answers_and_trims_text(form: Form) -> None:
    answers = {"measures": [], "years": None, "nonsense": 3, "avoid": True, "avoid_where": " Park "}
    assert form.clean(answers) == {"avoid": True, "avoid_where": "Park"}


def test_a_hidden_section_is_skipped_both_ways(form: Form) -> None:
    assert form.visible_pages({"safe_night": 3}) == [START, SAFETY, ABOUT]
    assert form.next_page(SAFETY, {"safe_night": 3}) == ABOUT
    assert form.previous_page(ABOUT, {"safe_night": 3}) == SAFETY
    assert form.next_page(SAFETY, {"safe_night": 1}) == UNSAFE
    assert form.previous_page(ABOUT, {"safe_night": 1}) == UNSAFE
    assert form.next_page(ABOUT, {}) is None
    assert form.previous_page(START, {}) is None
    assert form.clean({"safe_night": 3, "unsafe_why": "dunkel"}) == {"safe_night": 3}


def test_progress_counts_visible_pages_only(form: Form) -> None:
    assert form.progress(START, {}) == (1, 3)
    assert form.progress(ABOUT, {"safe_night": 3}) == (3, 3)
    assert form.progress(UNSAFE, {"safe_night": 1}) == (3, 4)


def test_hard_required_blocks(form: Form) -> None:
    problems, check = keys(form, START, {})
    assert problems == [("consent", "form.required_hard", "error")]
    assert not check.may_continue
    _, check = keys(form, START, {"consent": True})
    assert check.may_continue


def test_soft_required_asks_once_then_lets_go(form: Form) -> None:
    problems, first = keys(form, SAFETY, {})
    assert sorted(problems) == [
        ("prob_graffiti", "form.required_soft", "warning"),
        ("prob_litter", "form.required_soft", "warning"),
        ("safe_night", "form.required_soft", "warning"),
    ]
    assert not first.may_continue
    assert "Wie sicher fühlen Sie sich nachts?" in first.for_field("safe_night")[0].message("de")
    assert "trotzdem weiter" in first.for_field("safe_night")[0].message("de")
    problems, second = keys(form, SAFETY, {}, first.asked)
    assert problems == []
    assert second.may_continue


def test_soft_question_is_asked_again_for_a_newly_blank_item(form: Form) -> None:
    _, first = keys(form, SAFETY, {"safe_night": 2, "prob_graffiti": 1, "prob_litter": 1})
    assert first.may_continue
    problems, second = keys(form, SAFETY, {"prob_graffiti": 1, "prob_litter": 1}, first.asked)
    assert problems == [("safe_night", "form.required_soft", "warning")]
    assert not second.may_continue


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"years": -1}, ("years", "answer.too_small")),
        ({"years": 111}, ("years", "answer.too_large")),
        ({"years": 105}, ("years", "form.rule_failed")),
        ({"years": 2.5}, ("years", "answer.not_an_integer")),
        ({"years": "zwei"}, ("years", "answer.not_a_number")),
        ({"years": True}, ("years", "answer.not_a_number")),
        ({"years": 3, "district": "99"}, ("district", "answer.unknown_option")),
        ({"years": 3, "measures": [1, 7]}, ("measures", "answer.unknown_option")),
        ({"years": 3, "moved_in": "31.01.2020"}, ("moved_in", "answer.bad_date")),
        ({"years": 3, "moved_in": "2020-02-30"}, ("moved_in", "answer.bad_date")),
        ({"years": 3, "moved_in": "1899-12-31"}, ("moved_in", "answer.date_out_of_range")),
        ({"years": 3, "moved_in": "2999-01-01"}, ("moved_in", "answer.date_out_of_range")),
    ],
)
def test_bad_values_get_a_message_at_their_field(
    form: Form, answers: dict[str, Any], expected: tuple[str, str]
) -> None:
    problems, check = keys(form, ABOUT, answers)
    assert [(f, k) for f, k, _ in problems] == [expected]
    assert not check.may_continue


def test_validate_rule_message_is_in_the_chosen_language(form: Form) -> None:
    check = form.check_page(ABOUT, {"years": 105}, "en")
    assert check.problems[0].message("en") == "At most 100 years, please."


def test_text_too_long_and_battery_codes(form: Form) -> None:
    answers = {"avoid": True, "avoid_where": "x" * 41, "prob_graffiti": 5, "prob_litter": 9}
    problems, _ = keys(form, SAFETY, {**answers, "safe_night": 1})
    assert ("avoid_where", "answer.too_long", "error") in problems
    assert ("prob_graffiti", "answer.unknown_option", "error") in problems
    assert all(field != "prob_litter" for field, _, _ in problems)


def test_good_answers_pass(form: Form) -> None:
    answers = {"years": 12, "measures": [1, 2], "district": "01", "moved_in": "2014-05-01"}
    problems, check = keys(form, ABOUT, answers)
    assert problems == []
    assert check.may_continue


def test_first_page_with_errors_rechecks_everything_before_submitting(form: Form) -> None:
    assert form.first_page_with_errors({"years": 3}, "de") == START
    assert form.first_page_with_errors({"consent": True}, "de") == ABOUT
    assert form.first_page_with_errors({"consent": True, "years": 3}, "de") is None


def test_code_attempts_are_free_at_first_then_slowed_down() -> None:
    for failures in range(FREE_CODE_ATTEMPTS):
        assert code_retry_wait(failures, 0.0) == 0.0
    waits = [code_retry_wait(n, 0.0) for n in range(FREE_CODE_ATTEMPTS, FREE_CODE_ATTEMPTS + 10)]
    assert waits[0] > 0
    assert waits == sorted(waits)
    assert waits[-1] == MAX_CODE_WAIT_SECONDS
    assert code_retry_wait(FREE_CODE_ATTEMPTS, 1000.0) == 0.0
    assert code_retry_wait(FREE_CODE_ATTEMPTS, 1.0) == pytest.approx(waits[0] - 1.0)


def test_the_default_questionnaire_builds_a_form() -> None:
    form = Form(load_questionnaire(DEFAULT_QUESTIONNAIRE))
    pages = form.visible_pages({})
    assert pages[0] == 0
    assert form.check_page(0, {}, "de").may_continue is False
    assert form.check_page(0, {"consent": False}, "de").problems[0].key == "form.rule_failed"
    assert form.check_page(0, {"consent": True}, "de").may_continue


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", "ab 0,5"), ("en", "at least 0.5")],
)
def test_a_decimal_limit_is_written_as_the_language_writes_numbers(
    tmp_path: Path, lang: str, expected: str
) -> None:
    text = MINI.read_text(encoding="utf-8")
    limits = "        integer: false\n        min: 0.5\n        max: 1250.25\n"
    path = tmp_path / "decimal.yaml"
    path.write_text(text.replace("        min: 0\n        max: 110\n", limits), encoding="utf-8")
    decimal = Form(load_questionnaire(path))
    small = decimal.check_page(ABOUT, {"years": 0.25}, lang).for_field("years")
    assert [p.key for p in small] == ["answer.too_small"]
    assert expected in small[0].message(lang)
    large = decimal.check_page(ABOUT, {"years": 2000}, lang).for_field("years")
    assert ("1.250,25" if lang == "de" else "1,250.25") in large[0].message(lang)


def test_the_date_range_is_written_as_the_language_writes_dates(form: Form) -> None:
    latest = latest_date()
    accepted = form.check_page(ABOUT, {"years": 3, "moved_in": latest.isoformat()}, "de")
    assert accepted.for_field("moved_in") == []
    answers = {"years": 3, "moved_in": "0001-01-01"}
    (german,) = form.check_page(ABOUT, answers, "de").for_field("moved_in")
    assert german.message("de") == (
        f"Bitte geben Sie ein Datum vom 01.01.1900 bis zum {latest:%d.%m.%Y} ein"
        " (nicht '0001-01-01')."
    )
    (english,) = form.check_page(ABOUT, answers, "en").for_field("moved_in")
    assert english.message("en") == (
        f"Please enter a date from 1900-01-01 to {latest.isoformat()} (not '0001-01-01')."
    )


def test_the_latest_date_is_a_year_ahead_even_from_a_leap_day() -> None:
    assert latest_date(date(2028, 2, 29)) == date(2029, 2, 28)
    assert latest_date(date(2026, 11, 24)) == date(2027, 11, 24)


def test_questions_are_numbered_over_all_pages_and_a_battery_shares_one_number(
    form: Form,
) -> None:
    # info items have no number; hidden follow-ups keep theirs, as on paper
    assert form.question_number("privacy") is None
    assert form.question_number("consent") == 1
    assert form.question_number("safe_night") == 2
    assert form.question_number("prob_graffiti") == form.question_number("prob_litter") == 3
    assert form.question_number("avoid_where") == 5
    assert form.skipped_numbers(["prob_litter", "safe_night", "prob_graffiti"]) == [2, 3]


def test_question_numbers_are_the_forms_for_every_answer(form: Form) -> None:
    """The one numbering the form, the paper questionnaire and the data entry share."""
    numbers = question_numbers(form.questionnaire)
    assert "privacy" not in numbers
    assert numbers["consent"] == 1
    assert numbers["prob"] == numbers["prob_graffiti"] == numbers["prob_litter"] == 3
    assert all(form.question_number(key) == number for key, number in numbers.items())


def test_one_soft_prompt_names_the_skipped_questions_by_number(form: Form) -> None:
    check = form.check_page(SAFETY, {}, "de")
    assert set(check.skipped) == {"safe_night", "prob_graffiti", "prob_litter"}
    assert form.soft_prompt(check.skipped, "de") == (
        "Sie haben die Fragen 2 und 3 nicht beantwortet. Trotzdem weiter? "
        "Dann wählen Sie noch einmal „Weiter“."
    )
    assert form.soft_prompt(["safe_night"], "en") == (
        "You have not answered question 2. Continue anyway? Then choose “Next” again."
    )
    assert form.soft_prompt([], "de") is None


def test_three_skipped_questions_are_listed_with_commas_and_and() -> None:
    form = Form(load_questionnaire(DEFAULT_QUESTIONNAIRE))
    prompt = form.soft_prompt(["vict_theft", "vict_damage", "vict_hate"], "de")
    numbers = [form.question_number(i) for i in ("vict_theft", "vict_damage", "vict_hate")]
    assert prompt is not None
    assert prompt.startswith(
        f"Sie haben die Fragen {numbers[0]}, {numbers[1]} und {numbers[2]} nicht beantwortet."
    )


def test_the_privacy_notice_is_the_first_pages_privacy_info_item(form: Form) -> None:
    notice = form.privacy_notice()
    assert notice is not None
    assert notice.label["de"] == "Ihre Angaben sind anonym."


def test_an_item_steers_visibility_only_where_a_show_if_reads_its_answer(form: Form) -> None:
    """The survey page redraws the whole page after an answer only for these items."""
    q = form.questionnaire
    # avoid (show_if of avoid_where) and safe_night (show_if of a whole page) steer.
    assert form.steers_visibility(q.item("avoid"))
    assert form.steers_visibility(q.item("safe_night"))
    # A follow-up, the consent, and a battery no rule reads do not.
    assert not form.steers_visibility(q.item("avoid_where"))
    assert not form.steers_visibility(q.item("consent"))
    assert not form.steers_visibility(q.item("prob"))
