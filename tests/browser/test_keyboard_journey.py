"""A resident who cannot use a mouse answers the whole default questionnaire by keyboard.

Only Tab, Shift+Tab, Space, Enter, the arrow keys and typing: no click, no mouse. Each answer
is reached by tabbing forward from where the focus is (a new page puts it on the page's
heading), so the tab order has to follow the page. The stored response is read back from the
database (WCAG 2.1.1 Keyboard, 2.4.3 Focus Order).
"""

from __future__ import annotations

from typing import Any

import pytest

from core import t
from survey import (
    BatteryItem,
    Form,
    InfoItem,
    Item,
    MultiChoiceItem,
    NumberItem,
    SingleChoiceItem,
    TextItem,
    YesNoItem,
)
from tests.browser._driver import StreamlitPage, assert_stored, publish
from tests.browser.conftest import RunningApp
from tests.browser.test_survey_journey import planned_answers
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store
from views._widgets import question_label

pytestmark = pytest.mark.browser

LANG = "de"
DESKTOP = {"width": 1280, "height": 900}
#: More Tab presses than any page has stops: a target not reached by then is not reachable.
MAX_TABS = 250

#: What the focused element is: its role, and the name a screen reader would give it.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el) return ['', ''];
  const group = el.closest('[role="radiogroup"]');
  if (el.type === 'radio' && group) return ['radio', group.getAttribute('aria-label') || ''];
  if (el.type === 'checkbox') return ['checkbox', (el.closest('label') || el).innerText.trim()];
  if (el.tagName === 'BUTTON') return ['button', el.innerText.trim()];
  if (el.getAttribute('role') === 'combobox' || el.getAttribute('aria-haspopup'))
    return ['combobox', el.getAttribute('aria-label') || ''];
  if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')
    return ['textbox', el.getAttribute('aria-label') || ''];
  return [el.tagName.toLowerCase(), (el.innerText || '').trim().slice(0, 80)];
}"""


class KeyboardRespondent(StreamlitPage):
    """Drives the survey with the keyboard only."""

    def __init__(self, page: Any, form: Form) -> None:
        super().__init__(page)
        self.form = form
        self.q = form.questionnaire
        self.keys = self.page.keyboard

    def focused(self) -> tuple[str, str]:
        role, name = self.page.evaluate(FOCUSED)
        return str(role), str(name)

    def tab_to(self, role: str, name: str) -> None:
        """Press Tab until the element of ``role`` named ``name`` has the focus."""
        seen: list[tuple[str, str]] = []
        for _ in range(MAX_TABS):
            self.keys.press("Tab")
            now = self.focused()
            if now == (role, name):
                return
            seen.append(now)
        raise AssertionError(f"Tab never reached {role} {name!r}; passed {seen[-12:]}")

    def shift_tab_to(self, role: str, name: str) -> None:
        """Press Shift+Tab until the element of ``role`` named ``name`` has the focus."""
        for _ in range(MAX_TABS):
            self.keys.press("Shift+Tab")
            if self.focused() == (role, name):
                return
        raise AssertionError(f"Shift+Tab never reached {role} {name!r}")

    def press(self, key: str) -> None:
        """A key that changes an answer: Streamlit reruns, so wait for it."""
        self.keys.press(key)
        self.settle()

    def choose(self, group: str, index: int) -> None:
        """Option ``index`` of a radio group: Space takes the first, arrows move on."""
        self.tab_to("radio", group)
        self.press("Space")
        # Answering must not throw the focus away (to the page body): a keyboard user would
        # have to start again at the top of the page.
        assert self.focused() == ("radio", group), "the focus stays on the answer"
        for _ in range(index):
            self.press("ArrowDown")
            assert self.focused() == ("radio", group), "the focus stays in its group"

    def answer(self, item: Item, answers: dict[str, Any], plan: dict[str, Any]) -> None:
        q = self.q
        label = question_label(self.form, item, LANG)
        if isinstance(item, BatteryItem):
            codes = [o.code for o in q.scale_of(item).options]
            for statement in self.form.visible_statements(item, self.form.clean(answers)):
                self.choose(q.text(statement.label, LANG), codes.index(plan[statement.id]))
                answers[statement.id] = plan[statement.id]
            return
        value = plan[item.id]
        if isinstance(item, SingleChoiceItem):
            options = q.scale_of(item).options
            if item.widget == "dropdown":
                self.tab_to("combobox", label)
                option = next(o for o in options if o.code == value)
                self.keys.type(q.text(option.label, LANG))
                self.press("Enter")
            else:
                self.choose(label, [o.code for o in options].index(value))
        elif isinstance(item, YesNoItem):
            self.choose(label, 0 if value else 1)
        elif isinstance(item, MultiChoiceItem):
            for option in q.scale_of(item).options:
                if option.code in value:
                    self.tab_to("checkbox", q.text(option.label, LANG))
                    self.press("Space")
        elif isinstance(item, NumberItem | TextItem):
            self.tab_to("textbox", label)
            self.keys.type(str(value))
            self.keys.press("Tab")  # leaving the field hands the value to the app
            self.settle()
        answers[item.id] = value

    def leave_page(self, button: str, *, can_go_back: bool) -> None:
        """Tab to ``button``, step back to "Zurück" with Shift+Tab and forward again (on the
        first page "Zurück" is disabled and so skipped by Tab), then press it with Enter."""
        self.tab_to("button", button)
        if can_go_back:
            self.keys.press("Shift+Tab")
            assert self.focused() == ("button", t("form.back", LANG))
            self.keys.press("Tab")
            assert self.focused() == ("button", button)
        self.press("Enter")


def test_a_keyboard_only_resident_answers_everything_and_it_is_stored(
    running_app: RunningApp, browser: Any
) -> None:
    q = publish(running_app.database_url, DEFAULT_QUESTIONNAIRE)
    form = Form(q)
    plan = planned_answers(q)
    answers: dict[str, Any] = {}
    context = browser.new_context(viewport=DESKTOP, locale="de-DE")
    respondent = KeyboardRespondent(context.new_page(), form)
    respondent.page.goto(f"{running_app.url}/?survey={q.id}")
    respondent.see(t("form.start", LANG))
    respondent.tab_to("button", t("form.start", LANG))
    respondent.press("Enter")

    pages = form.visible_pages(form.clean(plan))
    for position, page in enumerate(pages):
        section = q.sections[page]
        respondent.see(q.text(section.title, LANG))
        respondent.page.wait_for_timeout(400)  # the page puts the focus on its heading
        assert respondent.focused() == ("h2", q.text(section.title, LANG))
        if section.id == "residence":
            # "Weiter" with the soft-required district blank: the one prompt names it, the
            # focus stays on "Weiter", and Shift+Tab leads back up past the question (to the
            # language switch, the last stop before it), whence Tab goes on as before.
            respondent.tab_to("button", t("form.next", LANG))
            respondent.press("Enter")
            district = q.item("district")
            prompt = form.soft_prompt([district.id], LANG)
            assert prompt is not None
            respondent.see(prompt)
            assert respondent.focused() == ("button", t("form.next", LANG))
            respondent.shift_tab_to("radio", t("common.language", LANG))
        for item in section.items:
            if isinstance(item, InfoItem):
                continue
            if form.item_visible(item, form.clean(answers)):
                respondent.answer(item, answers, plan)
        last = position == len(pages) - 1
        respondent.leave_page(
            t("form.submit" if last else "form.next", LANG), can_go_back=position > 0
        )
    respondent.see(t("form.thanks_title", LANG))
    context.close()

    with municipality_store(running_app.database_url) as store:
        responses = store.responses(q)
    assert len(responses) == 1
    row = responses.iloc[0]
    stored = form.clean(answers)
    assert stored == form.clean(plan), "every planned answer was given"
    assert_stored(row, stored)
