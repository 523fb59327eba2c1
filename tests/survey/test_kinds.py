"""Each question kind on its own: variables, expression type, the answer check, reading a
codebook cell back, codebook rows, dtype and SPSS measure."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app import synthetic_responses
from core import Problem
from survey import (
    KINDS,
    AnswerSpec,
    Form,
    Questionnaire,
    check_questionnaire_text,
    kind_named,
    kind_of,
    kind_of_variable,
    load_questionnaire_text,
)
from survey.kinds import Accepted, Checked
from tests.fixtures import municipality_store, small_questionnaire


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


YEAR_SOURCE = """
meta: {id: jahr, version: "1", title: {de: Jahr}}
sections:
  - id: s
    title: {de: S}
    items:
      - {id: since, kind: year, label: {de: Seit welchem Jahr wohnen Sie hier?}}
      - id: since_2000
        kind: year
        label: {de: Und seit wann in dieser Wohnung?}
        min: 2000
        max: 2030
        show_if: "since >= 2000"
"""


def test_year_is_a_whole_number_between_1900_and_this_year_by_default() -> None:
    questionnaire = load_questionnaire_text(YEAR_SOURCE)
    form = Form(questionnaire)
    item = questionnaire.item("since")
    assert [v.kind for v in questionnaire.variables()] == ["year", "year"]
    assert form.item_problems(item, {"since": 1990}, "de") == []
    this_year = date.today().year
    keys = {
        value: [p.key for p in form.item_problems(item, {"since": value}, "de")]
        for value in (1899, this_year + 1, 1990.5, "1990")
    }
    assert keys == {
        1899: ["answer.too_small"],
        this_year + 1: ["answer.too_large"],
        1990.5: ["answer.not_an_integer"],
        "1990": ["answer.not_a_number"],
    }
    own = questionnaire.item("since_2000")
    assert [p.key for p in form.item_problems(own, {"since_2000": 1999}, "de")] == [
        "answer.too_small"
    ]
    kind = kind_of(item)
    [variable, _] = questionnaire.variables()
    assert (kind.widget, kind.dtype(variable), kind.measure(variable)) == (
        "number",
        "Int64",
        "scale",
    )
    assert kind.read_cell(spec(questionnaire, "since"), "1990") == 1990


def test_year_checks_its_range_and_draws_synthetic_years() -> None:
    problems = check_questionnaire_text(YEAR_SOURCE.replace("max: 2030", "max: 1990")).problems
    assert [p.key for p in problems] == ["questionnaire.min_above_max"]
    questionnaire = load_questionnaire_text(YEAR_SOURCE)
    frame = synthetic_responses(questionnaire, 500, np.random.default_rng(1))
    assert frame["since"].dtype == "Int64"
    assert frame["since"].dropna().between(1900, date.today().year).all()
    # show_if "since >= 2000": earlier movers are not asked about the flat.
    assert frame.loc[(frame["since"] < 2000).fillna(True), "since_2000"].isna().all()
    assert frame["since_2000"].dropna().between(2000, 2030).all()


def test_a_year_round_trips_through_the_store_and_the_paper_import(sqlite_url: str) -> None:
    questionnaire = load_questionnaire_text(YEAR_SOURCE)
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(questionnaire, YEAR_SOURCE)
        store.submit(questionnaire, {"since": 1990.0}, language="de", submission_token="t" * 16)
        store.import_responses(
            questionnaire, pd.DataFrame({"since": ["2004"], "since_2000": ["2010"]}), source="p"
        )
        frame = store.responses(questionnaire)
    assert frame["since"].dtype == "Int64"
    assert sorted(frame["since"].tolist()) == [1990, 2004]
