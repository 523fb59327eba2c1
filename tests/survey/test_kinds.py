"""Each question kind on its own: variables, expression type, the answer check, reading a
codebook cell back, codebook rows, dtype and SPSS measure."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core import Problem
from survey import KINDS, AnswerSpec, Questionnaire, kind_named, kind_of, kind_of_variable
from survey.kinds import Accepted, Checked
from tests.storage.storage_fixtures import small_questionnaire


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return small_questionnaire()


def spec(questionnaire: Questionnaire, key: str) -> AnswerSpec:
    for item in questionnaire.items():
        for found in kind_of(item).specs(item, questionnaire):
            if found.key == key:
                return found
    raise KeyError(key)


def check(questionnaire: Questionnaire, key: str, value: Any, lang: str = "de") -> Checked:
    answer = spec(questionnaire, key)
    return kind_named(answer.kind).check(answer, value, lang)


def key_of(checked: Checked) -> str:
    assert isinstance(checked, Problem), checked
    return checked.key


def test_every_item_kind_of_the_model_has_a_registered_kind(questionnaire: Questionnaire) -> None:
    assert {item.kind for item in questionnaire.items()} <= set(KINDS)
    for variable in questionnaire.variables():
        assert variable.kind in kind_of_variable(variable).variable_kinds


def test_single(questionnaire: Questionnaire) -> None:
    kind = KINDS["single"]
    item = questionnaire.item("district")
    [variable] = kind.variables(item, questionnaire)
    assert (variable.id, variable.kind, variable.integer) == ("district", "single", False)
    assert check(questionnaire, "district", "nord") == Accepted("nord")
    assert key_of(check(questionnaire, "district", True)) == "answer.unknown_option"
    assert kind.read_cell(spec(questionnaire, "district"), "nord") == "nord"
    assert kind.dtype(variable) == "string"
    assert kind.measure(variable) == "nominal"
    assert kind.codebook_codes(questionnaire, variable, "de") == ("nord=Nord | sued=Süd", "")


def test_battery(questionnaire: Questionnaire) -> None:
    kind = KINDS["battery"]
    item = questionnaire.item("problems")
    assert [v.id for v in kind.variables(item, questionnaire)] == ["p_graffiti", "p_litter"]
    assert kind.answer_ids(item) == ["p_graffiti", "p_litter"]
    assert kind.reference_info(item, questionnaire.scale_of(item)) is not None
    assert check(questionnaire, "p_litter", 9) == Accepted(9)
    assert key_of(check(questionnaire, "p_litter", 3.0)) == "answer.unknown_option"
    assert kind.read_cell(spec(questionnaire, "p_litter"), "3") == 3
    assert kind.read_cell(spec(questionnaire, "p_litter"), 3.0) == 3
    variable = kind.variables(item, questionnaire)[0]
    assert (kind.dtype(variable), kind.measure(variable)) == ("Int64", "ordinal")
    assert kind.codebook_codes(questionnaire, variable, "de")[1] == "9=weiß nicht"


def test_multi(questionnaire: Questionnaire) -> None:
    kind = KINDS["multi"]
    answer = spec(questionnaire, "places")
    assert answer.variables == ("places__1", "places__2", "places__3")
    assert check(questionnaire, "places", (3, 1, 3)) == Accepted([3, 1])
    assert key_of(check(questionnaire, "places", [[1]])) == "answer.unknown_option"
    assert kind.stored(answer, [3]) == {"places__1": 0, "places__2": 0, "places__3": 1}
    assert kind.read_cells(answer, {"places__1": "1", "places__3": 0}) == ([1], [])
    assert kind.read_cells(answer, {}) == (None, [])
    _, problems = kind.read_cells(answer, {"places__2": "2"})
    assert [p.key for p in problems] == ["installation.import.not_zero_one"]
    [variable, *_] = kind.variables(questionnaire.item("places"), questionnaire)
    assert kind.value_labels(questionnaire, variable, "en") == {0: "no", 1: "yes"}


def test_number(questionnaire: Questionnaire) -> None:
    kind = KINDS["number"]
    assert check(questionnaire, "age", 30.0) == Accepted(30)
    assert check(questionnaire, "hours", 1.5) == Accepted(1.5)
    assert key_of(check(questionnaire, "age", True)) == "answer.not_a_number"
    assert key_of(check(questionnaire, "age", 10**400)) == "answer.too_large"
    small = check(questionnaire, "age", -(10**400))
    assert key_of(small) == "answer.too_small"
    assert isinstance(small, Problem)
    assert small.params["min"] == "14"
    assert kind.read_cell(spec(questionnaire, "hours"), "1,5") == 1.5
    [variable] = kind.variables(questionnaire.item("hours"), questionnaire)
    assert (kind.dtype(variable), kind.measure(variable)) == ("Float64", "scale")


def test_text(questionnaire: Questionnaire) -> None:
    assert check(questionnaire, "remarks", "  ") == Accepted(None)  # blank is no answer
    assert key_of(check(questionnaire, "remarks", 5)) == "answer.not_text"
    too_long = check(questionnaire, "remarks", "x" * 51)
    assert isinstance(too_long, Problem)
    assert too_long.params["length"] == 51


def test_yes_no(questionnaire: Questionnaire) -> None:
    kind = KINDS["yesno"]
    assert check(questionnaire, "victim", 1) == Accepted(True)
    assert kind.stored(spec(questionnaire, "victim"), False) == {"victim": 0}
    assert kind.read_cell(spec(questionnaire, "victim"), "0") is False
    assert kind.read_cell(spec(questionnaire, "victim"), "ja") == "ja"
    assert key_of(check(questionnaire, "victim", "ja")) == "answer.not_yes_no"


def test_date(questionnaire: Questionnaire) -> None:
    kind = KINDS["date"]
    assert check(questionnaire, "when", date(2026, 10, 3)) == Accepted("2026-10-03")
    assert key_of(check(questionnaire, "when", "2026-10-3")) == "answer.bad_date"
    out = check(questionnaire, "when", "1899-12-31", "en")
    assert isinstance(out, Problem)
    assert out.params["min"] == "1900-01-01"
    assert kind.read_cell(spec(questionnaire, "when"), date(2026, 1, 2)) == "2026-01-02"


def test_info_stores_nothing(questionnaire: Questionnaire) -> None:
    item = questionnaire.item("consent")
    assert kind_of(item).variables(item, questionnaire) == []
    assert kind_of(item).specs(item, questionnaire) == []
