"""Keying paper forms (app/_paper_entry.py) on SQLite and PostgreSQL: reading typed answers
with the kinds' checks, skip logic flagged, single and double entry, differences resolved,
and one bad-input case per class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from app import (
    DONT_KNOW,
    KeyingOutcome,
    KeyingStep,
    Resolution,
    batch_choices,
    check_keying,
    compare_keyings,
    entry_fields,
    finish_keying,
    key_form,
    new_keying_token,
    paper_form,
    progress_table,
    read_form,
    resolve_differences,
    typed_text,
)
from storage import NO_BATCH, PaperForm, Store, SubmitStatus
from survey import Questionnaire, load_questionnaire, load_questionnaire_text
from tests.conftest import DEFAULT_QUESTIONNAIRE, StoreFactory
from tests.fixtures import fixture_path, fixture_text

LANG = "de"
#: A whole form as a keyer types it.
TYPED: dict[str, str] = {
    "district": "2",
    "p_graffiti": "3",
    "p_litter": "?",
    "places": "1, 3",
    "victim": "j",
    "victim_when": "3.4.2025",
    "age": "71",
    "sex": "1",
    "remarks": "Mehr Licht am Bahnhof",
}
#: What it stands for.
ANSWERS: dict[str, Any] = {
    "district": 2,
    "p_graffiti": 3,
    "p_litter": 9,
    "places": [1, 3],
    "victim": True,
    "victim_when": "2025-04-03",
    "age": 71,
    "sex": 1,
    "remarks": "Mehr Licht am Bahnhof",
}


@pytest.fixture
def questionnaire() -> Questionnaire:
    return load_questionnaire(fixture_path("paper_form.yaml"))


@pytest.fixture
def store(store_factory: StoreFactory, questionnaire: Questionnaire) -> Store:
    opened = store_factory()
    opened.publish_questionnaire(questionnaire, fixture_text("paper_form.yaml"))
    return opened


def keyed(
    store: Store,
    questionnaire: Questionnaire,
    form: PaperForm,
    typed: Mapping[str, str] = TYPED,
    *,
    double_entry: bool = False,
    drop_skipped: bool = False,
    token: str | None = None,
) -> KeyingOutcome:
    """Enter on a typed form (after its check): :func:`app.key_form`."""
    return key_form(
        store,
        questionnaire,
        form,
        read_form(questionnaire, typed, LANG),
        double_entry=double_entry,
        drop_skipped=drop_skipped,
        language="de",
        token=token or new_keying_token(),
        lang=LANG,
    )


# --- the fields and reading them --------------------------------------------------------------


def test_fields_carry_the_printed_numbers(questionnaire: Questionnaire) -> None:
    fields = entry_fields(questionnaire, LANG)
    assert [(f.number, f.key) for f in fields] == [
        ("1", "district"),
        ("2a", "p_graffiti"),
        ("2b", "p_litter"),
        ("3", "places"),
        ("4", "victim"),
        ("5", "victim_when"),
        ("6", "age"),
        ("7", "sex"),
        ("8", "remarks"),
    ]
    by_key = {f.key: f for f in fields}
    assert by_key["p_graffiti"].question == "Probleme im Wohngebiet – Graffiti"
    assert by_key["p_graffiti"].expected(LANG) == "1, 2, 3 oder 9"
    assert by_key["p_graffiti"].dont_know == 9
    assert by_key["sex"].dont_know is None  # two non-substantive answers: "?" is ambiguous
    assert by_key["age"].expected(LANG) == "eine ganze Zahl von 14 bis 110"
    assert by_key["p_graffiti"].legend() == (
        "1 kein Problem · 2 kleines Problem · 3 großes Problem · 9 weiß nicht"
    )
    assert by_key["age"].expected("en") == "a whole number from 14 to 110"


def test_a_typed_form_reads_as_the_web_form_would_store_it(questionnaire: Questionnaire) -> None:
    form = read_form(questionnaire, TYPED, LANG)
    assert form.ok
    assert form.answers == ANSWERS
    assert form.skipped == ()
    shown = {r.field.key: r.shown for r in form.readings}
    assert shown["district"] == "Süd"
    assert shown["p_litter"] == "weiß nicht"
    assert shown["places"] == "Bahnhof, Markt"
    assert shown["victim"] == "ja"
    assert shown["victim_when"] == "03.04.2025"
    # Typed back, each answer reads the same again.
    fields = {f.key: f for f in entry_fields(questionnaire, LANG)}
    again = read_form(
        questionnaire, {k: typed_text(fields[k], v) for k, v in ANSWERS.items()}, LANG
    )
    assert again.answers == ANSWERS


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ({"victim": "1"}, True),
        ({"victim": "Nein"}, False),
        ({"victim": "0"}, False),
        ({"victim_when": "2025-04-03"}, "2025-04-03"),
        ({"places": "3;1"}, [3, 1]),
        ({"places": "2 2"}, [2]),
        ({"age": " 71 "}, 71),
    ],
)
def test_more_ways_of_typing(
    questionnaire: Questionnaire, typed: dict[str, str], value: Any
) -> None:
    [(key, _text)] = typed.items()
    form = read_form(questionnaire, {**TYPED, **typed}, LANG)
    assert form.ok, [p.message(LANG) for p in form.problems]
    assert form.answers[key] == value


def test_blank_is_no_answer(questionnaire: Questionnaire) -> None:
    form = read_form(questionnaire, {"district": "1", "age": "  "}, LANG)
    assert form.ok
    assert form.answers == {"district": 1}


@pytest.mark.parametrize(
    ("key", "typed", "kind_key"),
    [
        ("p_graffiti", "7", "answer.unknown_option"),  # a wrong option number
        ("places", "1,4", "answer.unknown_option"),
        ("age", "200", "answer.too_large"),  # a number out of range
        ("age", "7", "answer.too_small"),
        ("age", "71,5", "answer.not_an_integer"),
        ("age", "siebzig", "answer.not_a_number"),
        ("victim", "vielleicht", "answer.not_yes_no"),
        ("victim_when", "31.02.2025", "answer.bad_date"),
        ("remarks", "x" * 41, "answer.too_long"),
    ],
)
def test_bad_answers_name_the_question_what_was_typed_and_what_is_expected(
    questionnaire: Questionnaire, key: str, typed: str, kind_key: str
) -> None:
    form = read_form(questionnaire, {**TYPED, key: typed}, LANG)
    [problem] = form.problems
    assert problem.key == "paper_entry.field_problem"
    assert problem.location.field == key
    field = next(f for f in entry_fields(questionnaire, LANG) if f.key == key)
    message = problem.message(LANG)
    assert message.startswith(f"Frage {field.number}: ")
    assert field.expected(LANG) in message
    # The kind's own message: the same the web form and the import show.
    assert problem.params["message"].split(" (")[0] in message
    assert kind_key.startswith("answer.")
    assert key not in form.answers


def test_dont_know_only_where_it_is_one_answer(questionnaire: Questionnaire) -> None:
    ambiguous = read_form(questionnaire, {"sex": DONT_KNOW}, LANG)
    assert "mehrdeutig" in ambiguous.problems[0].message(LANG)
    missing = read_form(questionnaire, {"age": DONT_KNOW}, LANG)
    assert "gibt es bei dieser Frage nicht" in missing.problems[0].message(LANG)
    text = read_form(questionnaire, {"remarks": DONT_KNOW}, LANG)
    assert text.answers == {"remarks": "?"}  # free text is taken as written


def test_answers_to_skipped_questions_are_flagged(questionnaire: Questionnaire) -> None:
    form = read_form(questionnaire, {**TYPED, "victim": "n"}, LANG)
    assert form.ok
    assert form.skipped == ("victim_when",)
    assert form.answers["victim_when"] == "2025-04-03"  # kept until the keyer decides


# --- keying against the store -------------------------------------------------------------------


def test_single_entry_stores_one_keyed_response(store: Store, questionnaire: Questionnaire) -> None:
    batch = store.create_codes("papier", 3, stratum="Süd")
    code = batch.codes[0]
    checked = check_keying(
        store,
        questionnaire,
        paper_form(batch.id, code=code),
        read_form(questionnaire, TYPED, LANG),
        double_entry=False,
    )
    assert (checked.step, checked.note) == (KeyingStep.CHECKED, "single")
    assert store.responses(questionnaire).empty  # checking writes nothing
    outcome = keyed(store, questionnaire, paper_form(batch.id, code=code))
    assert outcome.step is KeyingStep.STORED
    frame = store.responses(questionnaire)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["mode"], row["language"], row["stratum"]) == ("keyed", "de", "Süd")
    assert (int(row["p_graffiti"]), int(row["p_litter"]), int(row["places__3"])) == (3, 9, 1)
    assert (int(row["victim"]), row["victim_when"], int(row["age"])) == (1, "2025-04-03", 71)
    table = progress_table(store, "papier", LANG)
    assert table.iloc[0].tolist() == [f"{batch.id} (Süd)", "3", "1", "1", "0"]


def test_a_used_code_is_refused(store: Store, questionnaire: Questionnaire) -> None:
    batch = store.create_codes("papier", 1)
    code = batch.codes[0]
    form = paper_form(batch.id, code=code)
    assert keyed(store, questionnaire, form).step is KeyingStep.STORED
    again = keyed(store, questionnaire, form)
    assert again.step is KeyingStep.INVALID
    assert [p.key for p in again.problems] == ["storage.code_status.used"]
    assert len(store.responses(questionnaire)) == 1


def test_an_unknown_code_is_refused(store: Store, questionnaire: Questionnaire) -> None:
    batch = store.create_codes("papier", 1)
    outcome = keyed(store, questionnaire, paper_form(batch.id, code="2345-6789-ABCD"))
    assert outcome.step is KeyingStep.INVALID
    assert [p.key for p in outcome.problems] == ["storage.code_status.unknown"]
    assert store.responses(questionnaire).empty


def test_bad_answers_store_nothing(store: Store, questionnaire: Questionnaire) -> None:
    batch = store.create_codes("papier", 1)
    form = paper_form(batch.id, code=batch.codes[0])
    outcome = keyed(store, questionnaire, form, {**TYPED, "p_graffiti": "5", "age": "300"})
    assert outcome.step is KeyingStep.INVALID
    assert len(outcome.problems) == 2
    assert store.responses(questionnaire).empty


def test_skipped_answers_need_confirming_then_are_left_out(
    store: Store, questionnaire: Questionnaire
) -> None:
    batch = store.create_codes("papier", 1)
    form = paper_form(batch.id, code=batch.codes[0])
    typed = {**TYPED, "victim": "0"}
    token = new_keying_token()
    held = keyed(store, questionnaire, form, typed, token=token)
    assert held.step is KeyingStep.CONFIRM_SKIPPED
    assert held.skipped == ("victim_when",)
    assert store.responses(questionnaire).empty
    stored = keyed(store, questionnaire, form, typed, drop_skipped=True, token=token)
    assert stored.step is KeyingStep.STORED
    row = store.responses(questionnaire).iloc[0]
    assert int(row["victim"]) == 0
    assert row.isna()["victim_when"]


def test_double_entry_with_equal_keyings_stores_once(
    store: Store, questionnaire: Questionnaire
) -> None:
    batch = store.create_codes("papier", 1)
    code = batch.codes[0]
    form = paper_form(batch.id, code=code)
    first = keyed(store, questionnaire, form, double_entry=True)
    assert first.step is KeyingStep.FIRST_SAVED
    assert store.responses(questionnaire).empty
    # The second person's check says "second keying" but shows nothing of the first.
    typed = read_form(questionnaire, TYPED, LANG)
    checked = check_keying(store, questionnaire, form, typed, double_entry=False)
    assert (checked.note, checked.first) == ("second", {})
    # The pending first keying decides that this is the second, not the toggle.
    second = keyed(
        store,
        questionnaire,
        paper_form(batch.id, code=code.lower()),
        {**TYPED, "places": "3,1", "remarks": "Mehr  Licht am Bahnhof"},
    )
    assert second.step is KeyingStep.STORED
    assert store.responses(questionnaire)["mode"].tolist() == ["keyed"]
    assert store.keying_progress("papier")[0].pending == 0


def test_double_entry_differences_are_resolved_before_storing(
    store: Store, questionnaire: Questionnaire
) -> None:
    batch = store.create_codes("papier", 1)
    form = paper_form(batch.id, code=batch.codes[0])
    keyed(store, questionnaire, form, double_entry=True)
    second_typed = {**TYPED, "p_graffiti": "2", "age": "17", "remarks": ""}
    token = new_keying_token()
    compared = keyed(store, questionnaire, form, second_typed, double_entry=True, token=token)
    assert compared.step is KeyingStep.COMPARE
    assert [d.field.number for d in compared.differences] == ["2a", "6", "8"]
    graffiti = compared.differences[0]
    assert (graffiti.first_shown(LANG), graffiti.second_shown(LANG)) == (
        "großes Problem",
        "kleines Problem",
    )
    assert compared.differences[2].second_shown(LANG) == "(leer)"
    assert compared.differences == tuple(
        compare_keyings(questionnaire, compared.first, compared.second, LANG)
    )
    # Unresolved differences: nothing is stored, each one is named.
    answers, problems = resolve_differences(
        compared.differences, compared.second, {"p_graffiti": Resolution.FIRST}, {}, LANG
    )
    assert [p.params["number"] for p in problems] == ["6", "8"]
    assert problems[0].message(LANG).startswith("Frage 6: der Unterschied ist nicht aufgelöst")
    # A bad correction is checked like any answer.
    _answers, bad = resolve_differences(
        compared.differences,
        compared.second,
        {"p_graffiti": Resolution.FIRST, "age": Resolution.CORRECTED, "remarks": Resolution.FIRST},
        {"age": "700"},
        LANG,
    )
    assert [p.key for p in bad] == ["paper_entry.field_problem"]
    answers, problems = resolve_differences(
        compared.differences,
        compared.second,
        {"p_graffiti": Resolution.FIRST, "age": Resolution.CORRECTED, "remarks": Resolution.SECOND},
        {"age": "71"},
        LANG,
    )
    assert problems == []
    assert store.responses(questionnaire).empty
    outcome = finish_keying(
        store, questionnaire, form, answers, drop_skipped=False, language="de", token=token
    )
    assert outcome.step is KeyingStep.STORED
    row = store.responses(questionnaire).iloc[0]
    assert (int(row["p_graffiti"]), int(row["age"]), row["mode"]) == (3, 71, "keyed")
    assert row.isna()["remarks"]
    assert store.pending_keying("papier", form) is None


def test_forms_without_codes_need_a_number_for_double_entry(store_factory: StoreFactory) -> None:
    store = store_factory()
    text = fixture_text("paper_form.yaml").replace("access: code", "access: open")
    open_q = load_questionnaire_text(text, "papier.yaml")
    store.publish_questionnaire(open_q, text)
    assert batch_choices(store, "papier", open_access=True) == [NO_BATCH]
    refused = keyed(store, open_q, paper_form(NO_BATCH), double_entry=True)
    assert [p.key for p in refused.problems] == ["paper_entry.serial_required"]
    numbered = paper_form(NO_BATCH, serial="17")
    first = keyed(store, open_q, numbered, double_entry=True)
    assert first.step is KeyingStep.FIRST_SAVED
    second = keyed(store, open_q, numbered, double_entry=True)
    assert second.step is KeyingStep.STORED
    assert store.keying_progress("papier")[0].keyed == 1


def test_a_store_refusal_is_reported(store: Store, questionnaire: Questionnaire) -> None:
    batch = store.create_codes("papier", 1)
    code = batch.codes[0]
    form = paper_form(batch.id, code=code)
    answers = read_form(questionnaire, TYPED, LANG).answers
    store.submit(
        questionnaire, answers, language="de", submission_token=new_keying_token(), code=code
    )
    outcome = finish_keying(
        store,
        questionnaire,
        form,
        answers,
        drop_skipped=False,
        language="de",
        token=new_keying_token(),
    )
    assert outcome.step is KeyingStep.REFUSED
    assert outcome.result is not None
    assert outcome.result.status is SubmitStatus.CODE_USED


def test_a_first_keying_of_an_earlier_revision_is_not_compared(
    store: Store, questionnaire: Questionnaire
) -> None:
    batch = store.create_codes("papier", 1)
    form = paper_form(batch.id, code=batch.codes[0])
    assert keyed(store, questionnaire, form, double_entry=True).step is KeyingStep.FIRST_SAVED
    text = fixture_text("paper_form.yaml").replace("Papierbefragung", "Papierbefragung 2")
    revised = load_questionnaire_text(text, "papier.yaml")
    store.publish_questionnaire(revised, text)
    outcome = keyed(store, revised, form)
    assert [p.key for p in outcome.problems] == ["paper_entry.other_revision"]
    assert store.discard_keying("papier", form)
    assert keyed(store, revised, form).step is KeyingStep.STORED


def test_a_form_without_consent_is_not_stored_whether_keyed_or_scanned() -> None:
    """One rule for paper forms: the questionnaire's own hard rules (here the consent, which
    must be 'ja') refuse a keyed form as they refuse a scanned one (Form.blocking_problems)."""
    default = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    refused = read_form(default, {"consent": "0"}, "de")
    assert not refused.ok
    [problem] = [p for p in refused.problems if p.location.field == "consent"]
    assert problem.key == "paper_entry.field_problem"
    assert str(problem.params["number"]) == "1"
    assert "Einverständnis" in problem.message("de")
    assert read_form(default, {"consent": "1"}, "de").ok
