"""The default safety questionnaire loads cleanly and measures what the analysis needs."""

from __future__ import annotations

import re

import pytest

from survey import (
    BatteryItem,
    Design,
    InfoItem,
    MultiChoiceItem,
    Questionnaire,
    Role,
    SingleChoiceItem,
    YesNoItem,
    check_questionnaire,
    load_action_fields,
)
from tests.conftest import DEFAULT_QUESTIONNAIRE


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    result = check_questionnaire(DEFAULT_QUESTIONNAIRE)
    assert result.questionnaire is not None, [p.render("en") for p in result.problems]
    return result.questionnaire


def test_loads_without_errors_or_warnings() -> None:
    result = check_questionnaire(DEFAULT_QUESTIONNAIRE)
    assert result.ok
    assert [p.render("en") for p in result.problems] == []


def test_meta_is_german_first_with_english(questionnaire: Questionnaire) -> None:
    assert questionnaire.id == "sicherheitsbefragung"
    assert questionnaire.meta.default_language == "de"
    assert questionnaire.meta.languages == ["de", "en"]
    assert questionnaire.revision


def test_every_action_field_has_a_problem_statement(questionnaire: Questionnaire) -> None:
    for field in load_action_fields().ids():
        variables = questionnaire.variables_tagged(field, Role.PROBLEM)
        assert variables, f"no problem item for {field}"
        for variable in variables:
            assert variable.scale is not None
            assert [o.label["de"] for o in variable.scale.options if o.non_substantive] == [
                "weiß nicht"
            ]
            assert [variable.scale.option(c).label["de"] for c in variable.scale.top_codes()] == [  # type: ignore[union-attr]
                "ein ziemliches Problem",
                "ein großes Problem",
            ]


# Littering is no offence, and drug offences have no victim who could be asked.
@pytest.mark.parametrize(
    ("role", "not_asked"),
    [
        (Role.WORRY, {"vermuellung"}),
        (Role.VICTIMISATION, {"vermuellung", "drogen"}),
        (Role.REPORTED, {"vermuellung", "drogen"}),
        (Role.SATISFACTION, set()),
    ],
)
def test_every_action_field_is_asked_per_offence(
    questionnaire: Questionnaire, role: Role, not_asked: set[str]
) -> None:
    for field in set(load_action_fields().ids()) - not_asked:
        assert questionnaire.variables_tagged(field, role), f"no {role} item for {field}"


def test_drunk_persons_and_reckless_driving_are_asked_but_untagged(
    questionnaire: Questionnaire,
) -> None:
    by_id = {v.id: v for v in questionnaire.variables()}
    for name in ("prob_drunk", "prob_traffic"):
        assert by_id[name].tags == []


def test_design_items_for_district_and_weighting(questionnaire: Questionnaire) -> None:
    district = questionnaire.design_item(Design.DISTRICT)
    assert district is not None
    assert district.id == "district"
    codes = questionnaire.scales["districts"].substantive_codes()
    assert codes == ["01", "02", "03", "04", "05", "06"]
    sex = questionnaire.design_item(Design.SEX)
    age = questionnaire.design_item(Design.AGE_GROUP)
    assert sex is not None
    assert age is not None
    sex_scale = questionnaire.scale_of(sex)  # type: ignore[arg-type]
    assert [o.label["de"] for o in sex_scale.options if o.non_substantive] == [
        "divers",
        "keine Angabe",
    ]
    age_scale = questionnaire.scale_of(age)  # type: ignore[arg-type]
    assert len(age_scale.substantive_codes()) == 4


def test_consent_comes_first_and_is_hard_required(questionnaire: Questionnaire) -> None:
    items = list(questionnaire.items())
    first_stored = next(i for i in items if not isinstance(i, InfoItem))
    assert isinstance(first_stored, YesNoItem)
    assert first_stored.id == "consent"
    assert first_stored.required == "hard"
    privacy = questionnaire.item("privacy")
    assert "IP-Adresse" in privacy.label["de"]
    assert "DSGVO" in privacy.label["de"]


def test_feeling_unsafe_at_night_offers_not_going_out(questionnaire: Questionnaire) -> None:
    night = questionnaire.item("safe_night")
    scale = questionnaire.scale_of(night)  # type: ignore[arg-type]
    assert scale.option(9) is not None
    assert scale.option(9).non_substantive  # type: ignore[union-attr]
    assert scale.option(9).label["de"] == "gehe nachts nicht allein aus"  # type: ignore[union-attr]


def test_follow_ups_are_shown_only_after_a_yes(questionnaire: Questionnaire) -> None:
    items = [i.id for i in questionnaire.items()]
    for variable in questionnaire.variables():
        if any(tag.role == Role.REPORTED for tag in variable.tags):
            item = questionnaire.item(variable.id)
            trigger = variable.id.removesuffix("_reported")
            assert item.show_if == f"{trigger} == true"
            assert items.index(trigger) == items.index(variable.id) - 1
    for follow_up in ("avoid_places_where", "avoid_places_why"):
        assert questionnaire.item(follow_up).show_if == "avoid_places == true"


def test_victimisation_items_are_soft_required(questionnaire: Questionnaire) -> None:
    for variable in questionnaire.variables():
        if any(tag.role == Role.VICTIMISATION for tag in variable.tags):
            item = questionnaire.item(variable.id)
            assert isinstance(item, YesNoItem)
            assert item.required == "soft"


def test_variable_ids_are_stable_snake_case(questionnaire: Questionnaire) -> None:
    for variable in questionnaire.variables():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", variable.id), variable.id
        assert len(variable.id.encode()) <= 64


def test_about_fifteen_minutes(questionnaire: Questionnaire) -> None:
    # Roughly four answers a minute, closed questions included.
    assert 45 <= len(questionnaire.variables()) <= 90


def test_worry_about_what_one_does_not_have_may_not_apply(questionnaire: Questionnaire) -> None:
    worry = questionnaire.item("worry")
    option = questionnaire.scale_of(worry).option(9)  # type: ignore[arg-type]
    assert option is not None
    assert option.non_substantive, "a car one does not have is never scored as no worry"
    assert option.label == {"de": "trifft nicht zu", "en": "does not apply"}


#: Answers one page asks for at most (a radio group, a number or text field, a check box):
#: page 8 once held 10×5 radios, a trust question, 13 check boxes and a text field.
MAX_INPUTS_PER_PAGE = 60


def test_no_page_is_longer_than_a_phone_can_bear(questionnaire: Questionnaire) -> None:
    for section in questionnaire.sections:
        inputs = 0
        for item in section.items:
            if isinstance(item, BatteryItem):
                inputs += len(item.statements) * len(questionnaire.scale_of(item).options)
            elif isinstance(item, SingleChoiceItem | MultiChoiceItem):
                inputs += len(questionnaire.scale_of(item).options)
            elif not isinstance(item, InfoItem):
                inputs += 1
        assert inputs <= MAX_INPUTS_PER_PAGE, f"{section.id}: {inputs} inputs"
    assert [i.id for i in questionnaire.sections[-2].items] == ["measures", "first_action"]
