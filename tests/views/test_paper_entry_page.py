"""The page "Papier erfassen" through AppTest, signed in, against a real SQLite database:
keying a form (check, then store), bad input per class, double entry with a difference
resolved, and the progress per batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import Resolution
from core import t
from storage import DATABASE_URL_ENV_VAR, CodeBatch
from survey import Questionnaire, load_questionnaire
from tests.app.test_paper_entry import TYPED
from tests.fixtures import fixture_path, fixture_text, municipality_store
from tests.views.test_manager_pages import page, texts

LANG = "de"
MODULE = "paper_entry"
PREFIX = "manager.paper_entry"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, CodeBatch]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    with municipality_store(url) as store:
        store.publish_questionnaire(questionnaire(), fixture_text("paper_form.yaml"))
        batch = store.create_codes("papier", 3, stratum="Süd")
    return url, batch


def questionnaire() -> Questionnaire:
    return load_questionnaire(fixture_path("paper_form.yaml"))


def number(at: AppTest) -> int:
    return int(at.session_state[f"{PREFIX}.n"])


def type_form(at: AppTest, code: str, typed: dict[str, str]) -> None:
    n = number(at)
    at.text_input(key=f"{PREFIX}.{n}.form_id").input(code)
    for key, text in typed.items():
        at.text_input(key=f"{PREFIX}.{n}.q.{key}").input(text)


def press_enter(at: AppTest) -> None:
    """The form's submit button (what Enter in any of its inputs presses)."""
    at.button[0].click().run()
    assert not at.exception, at.exception


def stored(url: str) -> list[dict[str, object]]:
    with municipality_store(url) as store:
        frame = store.responses(questionnaire())
    return [dict(row) for _index, row in frame.iterrows()]


def test_a_form_is_checked_then_stored(setup: tuple[str, CodeBatch]) -> None:
    url, batch = setup
    at = page(MODULE)
    assert t("paper_entry.title", LANG) in [title.value for title in at.title]
    # The progress per batch before anything is keyed.
    progress = at.dataframe[0].value
    assert progress.iloc[0].tolist() == [f"{batch.id} (Süd)", "3", "0", "0", "0"]
    labels = [i.label for i in at.text_input]
    assert labels[:4] == [
        t("paper_entry.code", LANG),
        "1. Ortsteil",
        "2a. Probleme im Wohngebiet – Graffiti",
        "2b. Probleme im Wohngebiet – Müll",
    ]
    type_form(at, batch.codes[0], TYPED)
    press_enter(at)
    # Checked: every answer reads back next to its input, nothing is stored yet.
    shown = texts(at)
    for label in ("→ Süd", "→ großes Problem", "→ weiß nicht", "→ Bahnhof, Markt", "→ 03.04.2025"):
        assert label in shown
    assert t("paper_entry.checked.single", LANG) in shown
    assert at.button[0].label == t("paper_entry.save", LANG)
    assert stored(url) == []
    press_enter(at)
    assert t("paper_entry.stored", LANG) in texts(at)
    [row] = stored(url)
    assert (row["mode"], int(row["p_litter"]), int(row["age"])) == ("keyed", 9, 71)  # type: ignore[call-overload]
    # A blank form follows, and the progress counts the form.
    assert all(i.value == "" for i in at.text_input)
    assert at.dataframe[0].value.iloc[0].tolist() == [f"{batch.id} (Süd)", "3", "1", "1", "0"]


def test_a_changed_form_is_checked_again_before_it_is_stored(setup: tuple[str, CodeBatch]) -> None:
    url, batch = setup
    at = page(MODULE)
    type_form(at, batch.codes[0], TYPED)
    press_enter(at)
    at.text_input(key=f"{PREFIX}.{number(at)}.q.age").input("72")
    press_enter(at)
    assert stored(url) == []
    assert "→ 72" in texts(at)
    press_enter(at)
    assert int(stored(url)[0]["age"]) == 72  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("key", "typed", "expected"),
    [
        ("p_graffiti", "7", "Frage 2a: Bitte wählen Sie eine der angebotenen Antworten"),
        ("age", "200", "Frage 6: Bitte geben Sie eine Zahl bis 110 ein (nicht 200)"),
    ],
)
def test_bad_answers_are_shown_at_their_question(
    setup: tuple[str, CodeBatch], key: str, typed: str, expected: str
) -> None:
    url, batch = setup
    at = page(MODULE)
    type_form(at, batch.codes[0], {**TYPED, key: typed})
    press_enter(at)
    assert any(expected in e.value for e in at.error)
    assert t("paper_entry.not_keyed", LANG, count=1) in texts(at)
    press_enter(at)  # Enter again does not store a form with problems
    assert stored(url) == []


@pytest.mark.parametrize("case", ["used", "unknown"])
def test_used_and_unknown_codes_are_refused(setup: tuple[str, CodeBatch], case: str) -> None:
    url, batch = setup
    at = page(MODULE)
    if case == "used":
        type_form(at, batch.codes[0], TYPED)
        press_enter(at)
        press_enter(at)
        code = batch.codes[0]
    else:
        code = "2345-6789-ABCD"
    type_form(at, code, TYPED)
    press_enter(at)
    assert t(f"storage.code_status.{case}", LANG) in [e.value for e in at.error]
    press_enter(at)
    assert len(stored(url)) == (1 if case == "used" else 0)


def test_skipped_answers_are_flagged_and_dropped_only_when_confirmed(
    setup: tuple[str, CodeBatch],
) -> None:
    url, batch = setup
    at = page(MODULE)
    type_form(at, batch.codes[0], {**TYPED, "victim": "n"})
    press_enter(at)
    warning = t("paper_entry.skipped", LANG, count=1, numbers="5")
    assert warning in [w.value for w in at.warning]
    press_enter(at)
    assert stored(url) == []
    assert warning in [w.value for w in at.warning]
    at.checkbox(key=f"{PREFIX}.{number(at)}.drop_skipped").check()
    press_enter(at)
    [row] = stored(url)
    assert int(row["victim"]) == 0  # type: ignore[call-overload]
    assert row["victim_when"] is None or str(row["victim_when"]) == "<NA>"


def test_double_entry_resolves_a_difference_before_storing(setup: tuple[str, CodeBatch]) -> None:
    url, batch = setup
    first = page(MODULE)
    first.toggle(key=f"{PREFIX}.double").set_value(True).run()
    type_form(first, batch.codes[1], TYPED)
    press_enter(first)
    assert t("paper_entry.checked.first", LANG) in texts(first)
    press_enter(first)
    assert t("paper_entry.first_saved", LANG) in texts(first)
    assert first.dataframe[0].value.iloc[0].tolist()[-1] == "1"  # pending
    assert stored(url) == []

    # A second person in another session, double entry on or off: the first keying decides.
    second = page(MODULE)
    type_form(second, batch.codes[1], {**TYPED, "age": "17"})
    press_enter(second)
    assert t("paper_entry.checked.second", LANG) in texts(second)
    assert "71" not in texts(second)  # nothing of the first keying is shown
    press_enter(second)
    assert t("paper_entry.compare.title", LANG) in texts(second)
    radio = second.radio(key=f"{PREFIX}.{number(second)}.choice.age")
    assert radio.options == [
        t("paper_entry.compare.first", LANG, value="71"),
        t("paper_entry.compare.second", LANG, value="17"),
        t("paper_entry.compare.corrected", LANG),
    ]
    # Unresolved: refused, naming the question.
    second.button[0].click().run()
    assert any("Frage 6: der Unterschied ist nicht aufgelöst" in e.value for e in second.error)
    assert stored(url) == []
    second.radio(key=f"{PREFIX}.{number(second)}.choice.age").set_value(Resolution.FIRST)
    second.button[0].click().run()
    assert not second.exception, second.exception
    assert t("paper_entry.stored_resolved", LANG) in texts(second)
    [row] = stored(url)
    assert (row["mode"], int(row["age"])) == ("keyed", 71)  # type: ignore[call-overload]
    assert second.dataframe[0].value.iloc[0].tolist()[-2:] == ["1", "0"]


def test_the_page_speaks_english(setup: tuple[str, CodeBatch]) -> None:
    _url, batch = setup
    at = page(MODULE, "en")
    assert t("paper_entry.title", "en") in [title.value for title in at.title]
    type_form(at, batch.codes[0], {**TYPED, "age": "200"})
    press_enter(at)
    assert any("Question 6: Please enter a number of at most 110" in e.value for e in at.error)


def test_a_first_keying_can_be_discarded(setup: tuple[str, CodeBatch]) -> None:
    _url, batch = setup
    at = page(MODULE)
    at.toggle(key=f"{PREFIX}.double").set_value(True).run()
    type_form(at, batch.codes[0], TYPED)
    press_enter(at)
    press_enter(at)
    assert at.dataframe[0].value.iloc[0].tolist()[-1] == "1"
    at.text_input(key=f"{PREFIX}.discard_id").input("2345-6789-ABCD")
    at.button(key=f"{PREFIX}.discard_button").click().run()
    assert t("paper_entry.nothing_to_discard", LANG) in texts(at)
    at.text_input(key=f"{PREFIX}.discard_id").input(batch.codes[0])
    at.button(key=f"{PREFIX}.discard_button").click().run()
    assert not at.exception, at.exception
    assert t("paper_entry.discarded", LANG) in texts(at)
    assert at.dataframe[0].value.iloc[0].tolist()[-1] == "0"
