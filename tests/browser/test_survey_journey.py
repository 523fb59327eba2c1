"""A resident on a phone answers the whole default questionnaire with an access code.

390×844 viewport, German. Halfway through the respondent saves and leaves; later, in a new
browser context (another device: no cookies, no session), the code brings the answers back;
the respondent finishes and submits; the stored response is read back from the database.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from survey import (
    Access,
    BatteryItem,
    DateItem,
    Form,
    InfoItem,
    Item,
    MultiChoiceItem,
    NumberItem,
    Questionnaire,
    SingleChoiceItem,
    TextItem,
    YesNoItem,
    load_questionnaire,
)
from tests.browser._driver import StreamlitPage, assert_stored, publish
from tests.browser.conftest import RunningApp
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store
from views._widgets import battery_key, question_label

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MINI = Path(__file__).resolve().parent.parent / "views" / "fixtures" / "mini_survey.yaml"
LANG = "de"
#: Generous: the machine is shared, and every answer is a round trip to the server.
STEP_TIMEOUT_MS = 60_000


def planned_answers(q: Questionnaire) -> dict[str, Any]:
    """One substantive answer per question: the first option of batteries, the last of single
    choices, "Ja" for every yes/no question (so every follow-up question appears)."""
    plan: dict[str, Any] = {}
    for item in q.items():
        if isinstance(item, BatteryItem):
            for statement in item.statements:
                plan[statement.id] = q.scale_of(item).substantive_codes()[0]
        elif isinstance(item, SingleChoiceItem):
            plan[item.id] = q.scale_of(item).substantive_codes()[-1]
        elif isinstance(item, MultiChoiceItem):
            plan[item.id] = [q.scale_of(item).options[0].code]
        elif isinstance(item, YesNoItem):
            plan[item.id] = True
        elif isinstance(item, NumberItem):
            plan[item.id] = int(item.min or 0) + 5
        elif isinstance(item, TextItem):
            plan[item.id] = "Mehr Licht am Bahnhof"
        elif isinstance(item, DateItem):
            plan[item.id] = date(2020, 1, 31).isoformat()
    return plan


class Respondent(StreamlitPage):
    """Drives one browser page through the survey, answering by visible labels only."""

    step_timeout_ms = STEP_TIMEOUT_MS

    def __init__(self, page: Any, form: Form) -> None:
        super().__init__(page)
        self.form = form
        self.q = form.questionnaire

    def text(self, value: dict[str, str]) -> str:
        return self.q.text(value, LANG)

    def enter_code(self, code: str) -> None:
        self.page.get_by_role("textbox", name="Zugangscode", exact=False).fill(code)
        self.click("Code prüfen")

    def choose(self, group: str, option: str, within: str | None = None) -> None:
        scope = self.page.locator(f".st-key-{within}") if within else self.page
        radios = scope.get_by_role("radiogroup", name=group, exact=True)
        radios.get_by_text(option, exact=True).click()
        self.settle()

    def answer(self, item: Item, answers: dict[str, Any], plan: dict[str, Any]) -> None:
        q = self.q
        label = question_label(self.form, item, LANG)
        if isinstance(item, BatteryItem):
            labels = {o.code: self.text(o.label) for o in q.scale_of(item).options}
            for statement in self.form.visible_statements(item, answers):
                option = labels[plan[statement.id]]
                self.choose(self.text(statement.label), option, within=battery_key(item.id))
                answers[statement.id] = plan[statement.id]
            return
        value = plan[item.id]
        if isinstance(item, SingleChoiceItem):
            option = self.text(next(o for o in q.scale_of(item).options if o.code == value).label)
            if item.widget == "dropdown":
                self.page.get_by_role("combobox", name=label, exact=True).click()
                self.page.get_by_role("option", name=option, exact=True).click()
                self.settle()
            else:
                self.choose(label, option)
        elif isinstance(item, MultiChoiceItem):
            for code in value:
                option = next(o for o in q.scale_of(item).options if o.code == code)
                self.page.get_by_text(self.text(option.label), exact=True).click()
                self.settle()
        elif isinstance(item, YesNoItem):
            self.choose(label, "Ja" if value else "Nein")
        elif isinstance(item, NumberItem | TextItem):
            role = "spinbutton" if isinstance(item, NumberItem) else "textbox"
            field = self.page.get_by_role(role, name=label, exact=False).first
            field.fill(str(value))
            field.press("Tab")
            self.settle()
        elif isinstance(item, DateItem):
            field = self.page.get_by_role("textbox", name=label, exact=False).first
            field.fill(date.fromisoformat(value).strftime("%d.%m.%Y"))
            field.press("Enter")
            self.settle()
        answers[item.id] = value

    def scroll_to_bottom(self) -> None:
        self.page.evaluate(
            """() => { const main = document.querySelector('[data-testid="stMain"]');
                       main.scrollTop = main.scrollHeight; window.scrollTo(0, 1e6); }"""
        )

    def scroll_top_and_focus(self) -> tuple[int, str]:
        """Where the page is scrolled to, and the text of the focused element (the heading)."""
        self.page.wait_for_timeout(400)  # the page's own scroll runs two frames after drawing
        top, focused = self.page.evaluate(
            """() => [Math.max(document.querySelector('[data-testid="stMain"]').scrollTop,
                               document.scrollingElement.scrollTop),
                      (document.activeElement && document.activeElement.tagName === 'H2')
                          ? document.activeElement.innerText.trim() : '']"""
        )
        return int(top), str(focused)

    def answer_page(self, page: int, answers: dict[str, Any], plan: dict[str, Any]) -> None:
        section = self.q.sections[page]
        self.see(self.text(section.title))
        for item in section.items:
            if isinstance(item, InfoItem):
                continue
            if self.form.item_visible(item, self.form.clean(answers)):
                self.answer(item, answers, plan)


def test_phone_respondent_saves_resumes_on_another_device_and_submits(
    running_app: RunningApp, browser: Any
) -> None:
    q = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(running_app.database_url) as store:
        store.publish_questionnaire(q, DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
        store.set_access(q.id, Access.CODE)
        code = store.create_codes(q.id, 1, stratum="Altstadt").codes[0]
    form = Form(q)
    plan = planned_answers(q)
    answers: dict[str, Any] = {}
    address = f"{running_app.url}/?survey={q.id}"

    # --- first device: answer half of the pages, then save and leave ---
    phone = browser.new_context(viewport=PHONE, locale="de-DE")
    respondent = Respondent(phone.new_page(), form)
    respondent.page.goto(address)
    respondent.see("Ihr Zugangscode")
    respondent.enter_code("falsch-falsch")
    respondent.see("nicht bekannt")
    respondent.enter_code(code.lower())
    respondent.click("Befragung beginnen")
    pages = form.visible_pages(form.clean(plan))
    halfway = len(pages) // 2
    for position, page in enumerate(pages[:halfway]):
        respondent.answer_page(page, answers, plan)
        respondent.scroll_to_bottom()
        respondent.click("Weiter")
        respondent.see(respondent.text(q.sections[pages[position + 1]].title))
        top, focused = respondent.scroll_top_and_focus()
        assert top == 0, f"page {pages[position + 1]} opened scrolled down ({top} px)"
        assert focused == respondent.text(q.sections[pages[position + 1]].title)
    width = respondent.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing is wider than the phone"
    respondent.see(respondent.text(q.sections[pages[halfway]].title))
    respondent.click("Speichern und später fortsetzen")
    respondent.see("Ihre Antworten sind gespeichert")
    phone.close()

    # --- second device: the code brings back the page and the answers ---
    tablet = browser.new_context(viewport=PHONE, locale="de-DE")
    respondent = Respondent(tablet.new_page(), form)
    respondent.page.goto(address)
    respondent.enter_code(code)
    respondent.see("Willkommen zurück")
    respondent.see(respondent.text(q.sections[pages[halfway]].title))
    respondent.click("Zurück")
    previous = q.sections[pages[halfway - 1]]
    respondent.see(respondent.text(previous.title))
    for item in previous.items:
        labels = (
            [respondent.text(s.label) for s in item.statements]
            if isinstance(item, BatteryItem)
            else [question_label(form, item, LANG)]
            if isinstance(item, YesNoItem) or getattr(item, "widget", "") == "radio"
            else []
        )
        scope = (
            respondent.page.locator(f".st-key-{battery_key(item.id)}")
            if isinstance(item, BatteryItem)
            else respondent.page
        )
        for label in labels:
            group = scope.get_by_role("radiogroup", name=label, exact=True)
            # On a loaded machine the page may still be drawing: wait for the restored answer.
            group.get_by_role("radio", checked=True).first.wait_for(timeout=STEP_TIMEOUT_MS)
            assert group.get_by_role("radio", checked=True).count() == 1, f"{label} came back"
    respondent.click("Weiter")
    for position, page in enumerate(pages[halfway:]):
        respondent.answer_page(page, answers, plan)
        last = position == len(pages) - halfway - 1
        respondent.click("Antworten absenden" if last else "Weiter")
    respondent.see("Vielen Dank!")
    tablet.close()

    # --- the stored response ---
    with municipality_store(running_app.database_url) as store:
        responses = store.responses(q)
        assert store.load_draft(q.id, code) is None
    assert len(responses) == 1
    row = responses.iloc[0]
    assert row["mode"] == "web"
    assert row["language"] == "de"
    assert row["stratum"] == "Altstadt"
    assert row["consent"] == 1
    assert_stored(row, form.clean(answers))


def test_a_double_click_on_submit_stores_one_response(
    running_app: RunningApp, browser: Any
) -> None:
    q = publish(running_app.database_url, MINI)
    form = Form(q)
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    respondent = Respondent(context.new_page(), form)
    respondent.page.goto(f"{running_app.url}/?survey={q.id}")
    respondent.click("Befragung beginnen")
    respondent.choose(question_label(form, q.item("consent"), LANG), "Ja")
    respondent.click("Weiter")
    respondent.click("Weiter")
    respondent.see("trotzdem weiter?")
    respondent.click("Weiter")
    years = respondent.page.get_by_role("spinbutton", name=respondent.text(q.item("years").label))
    years.fill("12")
    years.press("Tab")
    respondent.settle()
    respondent.page.get_by_role("button", name="Antworten absenden").dblclick()
    respondent.settle()
    respondent.see("Vielen Dank!")
    context.close()
    with municipality_store(running_app.database_url) as store:
        responses = store.responses(q)
    assert len(responses) == 1
    assert responses.iloc[0]["years"] == 12
