"""The survey page through Streamlit's AppTest, against a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage import DATABASE_URL_ENV_VAR, Store
from survey import (
    KINDS,
    Access,
    BatteryItem,
    DateItem,
    Form,
    MultiChoiceItem,
    NumberItem,
    Questionnaire,
    SingleChoiceItem,
    TextItem,
    YesNoItem,
    load_questionnaire,
)
from tests.conftest import DEFAULT_QUESTIONNAIRE, ROOT
from tests.fixtures import municipality_store
from views import survey_page
from views._widgets import WIDGETS, widget_key

MINI = Path(__file__).resolve().parent / "fixtures" / "mini_survey.yaml"
#: The machine is shared and slow; a first run imports pandas, SQLAlchemy and the loader.
TIMEOUT = 120


class Survey:
    """A respondent's browser session on one questionnaire, with helpers to find widgets."""

    def __init__(self, store: Store, questionnaire: Questionnaire) -> None:
        self.store = store
        self.q = questionnaire
        self.at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
        self.at.query_params["survey"] = questionnaire.id

    def run(self) -> Survey:
        self.at.run()
        assert not self.at.exception, self.at.exception
        return self

    def texts(self) -> str:
        """Everything the page shows as text, to assert on messages."""
        at = self.at
        parts = [e.value for e in [*at.title, *at.header, *at.subheader, *at.markdown]]
        parts += [e.value for e in [*at.error, *at.warning, *at.success, *at.info]]
        parts += [w.label for w in [*at.radio, *at.text_input, *at.number_input, *at.checkbox]]
        return "\n".join(str(p) for p in parts)

    def problems(self) -> str:
        return "\n".join(str(e.value) for e in [*self.at.error, *self.at.warning])

    def click(self, label: str) -> Survey:
        matches = [b for b in self.at.button if b.label == label]
        assert matches, f"no button {label!r} in {[b.label for b in self.at.button]}"
        matches[0].click()
        return self.run()

    def enter_code(self, code: str) -> Survey:
        """Type an access code into the code form and check it."""
        self.at.text_input[0].input(code)
        return self.click("Code prüfen")

    def widget(self, answer_id: str) -> Any:
        key = widget_key(self.q.id, answer_id)
        for kind in ("radio", "selectbox", "number_input", "text_input", "text_area"):
            for element in getattr(self.at, kind):
                if element.key == key:
                    return element
        for element in self.at.date_input:
            if element.key == key:
                return element
        raise AssertionError(f"no widget for {answer_id!r} on this page")

    def has(self, answer_id: str) -> bool:
        try:
            self.widget(answer_id)
        except AssertionError:
            return False
        return True

    def answer(self, answer_id: str, value: Any) -> Survey:
        self.widget(answer_id).set_value(value)
        return self.run()

    def tick(self, item_id: str, code: Any) -> Survey:
        key = widget_key(self.q.id, f"{item_id}.{code}")
        next(c for c in self.at.checkbox if c.key == key).check()
        return self.run()

    def responses(self) -> Any:
        return self.store.responses(self.q)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    with municipality_store(url) as opened:
        yield opened
    survey_page._store.clear()
    survey_page._form.clear()


def publish(store: Store, path: Path, access: Access | None = None) -> Questionnaire:
    questionnaire = load_questionnaire(path)
    store.publish_questionnaire(questionnaire, path.read_text(encoding="utf-8"))
    if access is not None:
        store.set_access(questionnaire.id, access)
    return questionnaire


@pytest.fixture
def mini(store: Store) -> Questionnaire:
    return publish(store, MINI)


def started(store: Store, q: Questionnaire) -> Survey:
    survey = Survey(store, q).run()
    assert "anonym" in survey.texts()
    return survey.click("Befragung beginnen")


# --- choosing a survey ------------------------------------------------------------------------


def test_without_a_survey_in_the_url_the_open_surveys_are_listed(
    store: Store, mini: Questionnaire
) -> None:
    publish(store, DEFAULT_QUESTIONNAIRE)
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Kleine Befragung" in labels
    assert len(labels) == 2


def test_with_one_open_survey_the_bare_address_opens_it(store: Store, mini: Questionnaire) -> None:
    """The letter can print just the server's address: with one survey open, that is it."""
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert mini.id in at.query_params["survey"]
    assert at.title[0].value == "Kleine Befragung"


def test_an_unknown_or_closed_survey_gets_a_clear_message(
    store: Store, mini: Questionnaire
) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = "gibtsnicht"
    at.run()
    assert "„gibtsnicht“ gibt es nicht" in at.error[0].value
    assert [b.label for b in at.button] == ["Kleine Befragung"]

    store.set_state(mini.id, "closed")
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = mini.id
    at.run()
    assert "nicht geöffnet" in at.error[0].value


@pytest.mark.parametrize(
    ("survey", "lang", "shown"),
    [
        ("[hier klicken](https://example.invalid)", "de", "„hierklickenhttpsexample.invalid“"),
        ("![x](https://example.invalid/x.png)" + "a" * 200, "xx", "„xhttpsexample.invalidx.png"),
        ("**<script>**", "en", "“script”"),
    ],
)
def test_a_crafted_survey_id_in_the_url_is_shown_as_plain_text(
    store: Store, mini: Questionnaire, survey: str, lang: str, shown: str
) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = survey
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert shown in message
    assert "(" not in message
    assert "<" not in message
    assert len(message) < 200


def test_a_bad_language_in_the_url_falls_back_to_the_default(
    store: Store, mini: Questionnaire
) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = mini.id
    at.query_params["lang"] = "klingon"
    at.run()
    assert at.title[0].value == "Kleine Befragung"
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = mini.id
    at.query_params["lang"] = "en"
    at.run()
    assert at.title[0].value == "Small survey"


# --- the mini questionnaire, page by page -------------------------------------------------------


def test_hard_required_blocks_and_the_message_sits_at_the_item(
    store: Store, mini: Questionnaire
) -> None:
    survey = started(store, mini)
    assert survey.widget("consent").value is None, "nothing is pre-selected"
    survey.click("Weiter")
    assert "Bitte beantworten Sie diese Frage." in survey.problems()
    assert "Einverständnis" in survey.texts(), "still on the first page"
    survey.answer("consent", True).click("Weiter")
    assert "Sicherheit" in [h.value for h in survey.at.header]


def test_soft_required_asks_once_and_then_lets_go(store: Store, mini: Questionnaire) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.click("Weiter")
    # One prompt for the page naming the skipped questions by number, not a box per item.
    assert survey.problems() == (
        "Sie haben die Fragen 2 und 3 nicht beantwortet. Trotzdem weiter? "
        "Dann wählen Sie noch einmal „Weiter“."
    )
    assert "2. Wie sicher fühlen Sie sich nachts?" in [h.value for h in survey.at.subheader]
    assert survey.at.header[0].value == "Sicherheit"
    survey.click("Weiter")
    assert survey.at.header[0].value == "Zur Person"


def test_skip_logic_is_live_and_hidden_answers_are_not_stored(
    store: Store, mini: Questionnaire
) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    assert not survey.has("avoid_where")
    survey.answer("avoid", True)
    assert survey.has("avoid_where")
    survey.answer("avoid_where", "Am Bahnhof")
    survey.answer("avoid", False)
    assert not survey.has("avoid_where")
    # safe_night == 1 opens the follow-up page
    survey.answer("safe_night", 1).answer("prob_graffiti", 3).answer("prob_litter", 9)
    survey.click("Weiter")
    assert survey.at.header[0].value == "Unsicherheit"
    survey.click("Zurück").answer("safe_night", 4).click("Weiter")
    assert survey.at.header[0].value == "Zur Person"
    survey.answer("years", 12).click("Antworten absenden")
    assert "Vielen Dank!" in survey.texts()
    row = survey.responses().iloc[0]
    assert row["avoid"] == 0
    assert pd.isna(row["avoid_where"])
    assert row["safe_night"] == 4
    assert row["prob_litter"] == 9


def test_validation_messages_next_to_the_item(store: Store, mini: Questionnaire) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.click("Weiter").click("Weiter")
    survey.answer("years", 105).click("Antworten absenden")
    assert "Bitte höchstens 100 Jahre." in survey.problems()
    survey.answer("years", 200).click("Antworten absenden")
    assert "Bitte geben Sie eine Zahl bis 110 ein (nicht 200)." in survey.problems()
    assert survey.responses().empty


def test_back_and_next_keep_answers_and_the_language_switch_keeps_them_too(
    store: Store, mini: Questionnaire
) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.answer("safe_night", 3).answer("prob_graffiti", 2).answer("prob_litter", 1)
    survey.answer("avoid", True).answer("avoid_where", "Park")
    survey.click("Weiter")
    assert "Seite 3 von 3" in survey.at.get("progress")[0].proto.text
    survey.answer("district", "02").tick("measures", 2)
    survey.click("Zurück")
    assert survey.widget("safe_night").value == 3
    assert survey.widget("avoid_where").value == "Park"

    language = next(r for r in survey.at.radio if r.label == "Sprache")
    language.set_value("en")
    survey.run()
    assert survey.at.header[0].value == "Safety"
    assert survey.widget("safe_night").label == "2. How safe do you feel at night?"
    assert survey.widget("safe_night").value == 3
    survey.click("Next")
    assert survey.widget("district").value == "02"
    survey.answer("years", 7).answer("moved_in", date(2015, 3, 1)).click("Submit answers")
    assert "Thank you!" in survey.texts()
    row = survey.responses().iloc[0]
    assert row["language"] == "en"
    assert row["measures__2"] == 1
    assert row["measures__1"] == 0
    assert row["district"] == "02"
    assert row["avoid_where"] == "Park"
    assert row["moved_in"] == "2015-03-01"


def test_submitting_twice_stores_one_response(store: Store, mini: Questionnaire) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.click("Weiter").click("Weiter").answer("years", 3)
    state = survey.at.session_state[f"survey.{mini.id}.session"]
    token = state.submission_token
    survey.click("Antworten absenden")
    assert len(survey.responses()) == 1
    # The same session token again (a double click arriving late) is a no-op.
    result = store.submit(
        mini, {"consent": True, "years": 3}, language="de", submission_token=token
    )
    assert result.duplicate
    assert len(survey.responses()) == 1


def test_two_surveys_in_one_browser_keep_their_answers_apart(
    store: Store, mini: Questionnaire
) -> None:
    default = publish(store, DEFAULT_QUESTIONNAIRE)
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.answer("safe_night", 2)
    survey.at.query_params["survey"] = default.id
    survey.run()
    assert "Befragung beginnen" in [b.label for b in survey.at.button]
    survey.click("Befragung beginnen")
    assert survey.at.header[0].value != "Sicherheit"
    survey.at.query_params["survey"] = mini.id
    survey.run()
    assert survey.at.header[0].value == "Sicherheit"
    assert survey.widget("safe_night").value == 2


# --- access codes, drafts and resuming -----------------------------------------------------------


def test_code_only_survey_asks_for_the_code_and_slows_down_guessing(store: Store) -> None:
    q = publish(store, MINI, access=Access.CODE)
    survey = Survey(store, q).run()
    assert "Ihr Zugangscode" in survey.texts()
    for _ in range(3):
        survey.at.text_input[0].input("AAAA-BBBB-CCCC")
        survey.click("Code prüfen")
        assert "nicht bekannt" in survey.problems()
    state = survey.at.session_state[f"survey.{q.id}.session"]
    assert state.code_failures == 3
    # A session that has just guessed many times must wait, even with a correct code: the
    # page does not even ask the database then, so waiting is no oracle.
    state.code_failures = 9
    state.last_code_failure = time.monotonic()
    code = store.create_codes(q.id, 1).codes[0]
    survey.at.text_input[0].input(code)
    survey.click("Code prüfen")
    assert "Bitte warten Sie" in survey.problems()
    assert "Ihr Zugangscode" in survey.texts()
    state.last_code_failure = time.monotonic() - 3600
    survey.at.text_input[0].input(code)
    survey.click("Code prüfen")
    assert "Befragung beginnen" in [b.label for b in survey.at.button]


def test_reloading_the_page_does_not_reset_the_limit_on_wrong_codes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the code throttle lived in the browser session, so a reload (a new session)
    started guessing afresh. Now wrong codes of every session count towards the
    questionnaire's limit per minute, kept server-side and never written to the file."""
    import storage._codes

    monkeypatch.setattr(storage._codes, "WRONG_CODES_PER_MINUTE", 6)
    q = publish(store, MINI, access=Access.CODE)
    code = store.create_codes(q.id, 1).codes[0]
    for _reload in range(2):  # each reload is a fresh session with fresh free attempts
        survey = Survey(store, q).run()
        for _ in range(3):
            assert "nicht bekannt" in survey.enter_code("AAAA-BBBB-CCCC").problems()
    fresh = Survey(store, q).run().enter_code(code)
    assert "Bitte warten Sie" in fresh.problems()
    assert "Ihr Zugangscode" in fresh.texts()


def test_after_a_server_restart_a_coded_respondent_is_told_and_resumes_on_the_saved_page(
    store: Store,
) -> None:
    """Before: a restart mid-survey silently dropped the answers and showed the privacy page.
    The URL carries the page number (never the code), so the new session knows it lost one."""
    q = publish(store, MINI, access=Access.CODE)
    code = store.create_codes(q.id, 1).codes[0]
    first = Survey(store, q).run().enter_code(code).click("Befragung beginnen")
    first.answer("consent", True).click("Weiter")
    first.answer("safe_night", 2)
    page = first.at.query_params[survey_page.PAGE_PARAM]
    assert page == ["2"] or page == "2"
    assert code not in str(first.at.query_params)

    survey_page._store.clear()  # the restart: the server forgets every session
    survey_page._form.clear()
    after = Survey(store, q)
    after.at.query_params[survey_page.PAGE_PARAM] = "2"
    after.run()
    assert "Ihre Sitzung wurde unterbrochen" in after.problems()
    assert "Willkommen zurück" in after.enter_code(code).texts()
    assert after.at.header[0].value == "Sicherheit"  # the page saved when turning to it


def test_after_a_server_restart_an_open_survey_says_the_answers_are_gone(store: Store) -> None:
    q = publish(store, MINI)
    after = Survey(store, q)
    after.at.query_params[survey_page.PAGE_PARAM] = "3"
    after.run()
    assert "Ihre bisherigen Antworten sind daher nicht mehr vorhanden" in after.problems()
    assert "Befragung beginnen" in [b.label for b in after.at.button]
    assert survey_page.PAGE_PARAM not in after.at.query_params


def test_a_coded_respondent_saves_and_resumes_in_another_session(store: Store) -> None:
    q = publish(store, MINI, access=Access.CODE)
    code = store.create_codes(q.id, 1).codes[0]
    first = Survey(store, q).run()
    first.at.text_input[0].input(code.lower().replace("-", " "))
    first.click("Code prüfen").click("Befragung beginnen")
    first.answer("consent", True).click("Weiter")
    first.answer("safe_night", 2).answer("avoid", True).answer("avoid_where", "Markt")
    first.click("Speichern und später fortsetzen")
    assert "gespeichert" in first.texts()

    second = Survey(store, q).run()
    second.at.text_input[0].input(code)
    second.click("Code prüfen")
    assert "Willkommen zurück" in second.texts()
    assert second.at.header[0].value == "Sicherheit"
    assert second.widget("safe_night").value == 2
    assert second.widget("avoid_where").value == "Markt"
    second.click("Weiter").click("Weiter").answer("years", 40).click("Antworten absenden")
    assert "Vielen Dank!" in second.texts()
    assert len(second.responses()) == 1
    assert store.load_draft(q.id, code) is None

    third = Survey(store, q).run()
    third.at.text_input[0].input(code)
    third.click("Code prüfen")
    assert "bereits geantwortet" in third.problems()


def test_a_failed_write_keeps_the_answers_on_screen(store: Store, mini: Questionnaire) -> None:
    survey = started(store, mini).answer("consent", True).click("Weiter")
    survey.click("Weiter").click("Weiter").answer("years", 3)
    # The responses table goes away underneath the running app (a broken database).
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE responses RENAME TO responses_away"))
    try:
        survey.click("Antworten absenden")
    finally:
        with store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE responses_away RENAME TO responses"))
    assert "nichts verloren" in survey.problems()
    assert survey.widget("years").value == 3
    assert survey.responses().empty
    survey.click("Antworten absenden")
    assert "Vielen Dank!" in survey.texts()
    assert len(survey.responses()) == 1


# --- the default questionnaire, every page ---------------------------------------------------


def planned_answers(q: Questionnaire) -> dict[str, Any]:
    """A substantive answer for every widget of ``q``, keyed by answer id."""
    plan: dict[str, Any] = {}
    for item in q.items():
        if isinstance(item, BatteryItem):
            for statement in item.statements:
                plan[statement.id] = q.scale_of(item).substantive_codes()[0]
        elif isinstance(item, SingleChoiceItem):
            plan[item.id] = q.scale_of(item).substantive_codes()[-1]
        elif isinstance(item, MultiChoiceItem):
            plan[f"{item.id}.{q.scale_of(item).options[0].code}"] = True
        elif isinstance(item, YesNoItem):
            plan[item.id] = True
        elif isinstance(item, NumberItem):
            plan[item.id] = int(item.min or 0) + 1
        elif isinstance(item, TextItem):
            plan[item.id] = "Mehr Licht am Bahnhof"
        elif isinstance(item, DateItem):
            plan[item.id] = date(2020, 1, 31)
    return plan


def fill_page(survey: Survey, plan: dict[str, Any], seen: set[str]) -> None:
    """Answer every visible question on the page; repeat for questions that appear.

    Every widget is blank when it first appears: nothing is pre-selected.
    """
    prefix = widget_key(survey.q.id, "")
    while True:
        changed = False
        for kind in (
            "radio",
            "selectbox",
            "number_input",
            "text_input",
            "text_area",
            "date_input",
            "checkbox",
        ):
            for element in getattr(survey.at, kind):
                answer_id = str(element.key or "").removeprefix(prefix)
                ours = bool(element.key) and element.key.startswith(prefix)
                if ours and element.key not in seen:
                    seen.add(element.key)
                    assert element.value in (None, False, ""), f"{answer_id} is pre-selected"
                if ours and answer_id in plan and element.value in (None, False, ""):
                    element.set_value(plan[answer_id])
                    changed = True
        if not changed:
            return
        survey.run()


def test_the_default_questionnaire_can_be_answered_completely(store: Store) -> None:
    q = publish(store, DEFAULT_QUESTIONNAIRE)
    form = Form(q)
    plan = planned_answers(q)
    survey = started(store, q)
    widgets: set[str] = set()
    seen: list[int] = []
    while "Vielen Dank!" not in survey.texts():
        state = survey.at.session_state[f"survey.{q.id}.session"]
        assert not seen or state.page > seen[-1], f"stuck on page {state.page}: {survey.problems()}"
        seen.append(state.page)
        fill_page(survey, plan, widgets)
        last = form.next_page(state.page, form.clean(state.answers)) is None
        survey.click("Antworten absenden" if last else "Weiter")
    assert seen[0] == 0
    assert len(seen) >= len([s for s in q.sections if s.show_if is None])
    responses = survey.responses()
    assert len(responses) == 1
    row = responses.iloc[0]
    assert row["consent"] == 1
    assert row["vict_theft"] == 1
    assert row["vict_theft_reported"] == 1
    assert row["avoid_places_where"] == "Mehr Licht am Bahnhof"


def test_default_questionnaire_validation_skip_logic_language_and_back(store: Store) -> None:
    q = publish(store, DEFAULT_QUESTIONNAIRE)
    survey = started(store, q)
    survey.click("Weiter")
    assert "Bitte beantworten Sie diese Frage." in survey.problems()
    survey.answer("consent", False).click("Weiter")
    assert "Ohne Ihr Einverständnis" in survey.problems()
    survey.answer("consent", True).click("Weiter")
    assert survey.at.header[0].value == "Ihr Wohnort"
    # district is soft-required: asked once, then the respondent may go on
    survey.answer("years_lived", 12).click("Weiter")
    assert "Sie haben Frage 2 nicht beantwortet. Trotzdem weiter?" in survey.problems()
    survey.answer("years_lived", 130).click("Weiter")
    assert "Bitte geben Sie eine Zahl bis 100 ein (nicht 130)." in survey.problems()
    survey.answer("years_lived", 12).click("Weiter")
    assert survey.at.header[0].value == "Ihr Sicherheitsgefühl"
    survey.answer("safe_night", q.scale_of(q.item("safe_night")).substantive_codes()[0])
    survey.click("Zurück")
    assert survey.widget("years_lived").value == 12

    language = next(r for r in survey.at.radio if r.label == "Sprache")
    language.set_value("en")
    survey.run()
    assert survey.at.header[0].value == "Where you live"
    survey.click("Next")
    assert (
        survey.widget("safe_night").value == q.scale_of(q.item("safe_night")).substantive_codes()[0]
    )
    survey.click("Next")
    assert "You have not answered" in survey.problems(), "safe_day is soft-required"
    for title in ("Worries and caution", "Problems in your neighbourhood", "Places you avoid"):
        survey.click("Next")
        assert survey.at.header[0].value == title
    survey.click("Next")
    assert survey.at.header[0].value == "Your experiences"
    assert not survey.has("vict_theft_reported")
    survey.answer("vict_theft", True)
    assert survey.has("vict_theft_reported")
    survey.answer("vict_theft", False)
    assert not survey.has("vict_theft_reported")


def test_every_question_kind_has_a_widget() -> None:
    assert {kind.widget for kind in KINDS.values()} <= set(WIDGETS)
