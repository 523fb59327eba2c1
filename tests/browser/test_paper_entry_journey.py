"""Keying a returned paper form with double entry, in Debian chromium against ``streamlit run``.

The manager signs in, opens "Papier erfassen", switches double entry on and keys a form by
keyboard only (Tab from field to field, Enter to check, Enter to keep the first keying). A
second person on another device keys the same form, again by keyboard only, with one answer
different; the page shows the difference, the second person resolves it (the first keying
was right) and the form is stored. The test reads the stored response back from the database:
the answers and mode ``keyed``, and no pending keying left. Once at desktop size, once at
390×844. Screenshots go to ``$PAPER_ENTRY_SCREENSHOTS`` when set, else to the test's folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app import entry_fields
from core import t
from storage import Accounts, pending_keyings_table
from survey import Form, load_questionnaire
from tests.app.test_paper_entry import ANSWERS, TYPED
from tests.browser._driver import assert_stored
from tests.browser.conftest import RunningApp
from tests.browser.test_keyboard_journey import KeyboardRespondent
from tests.fixtures import fixture_path, fixture_text, municipality_store

pytestmark = pytest.mark.browser

NAME = "anna"
PASSWORD = "Praevention-Musterstadt-2026"
LANG = "de"
STEP_TIMEOUT_MS = 90_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: The form as the first person types it (answer id -> keys), in printed order; what is
#: stored once the difference is resolved in favour of the first keying.
FIRST, STORED = TYPED, ANSWERS
#: The second person misreads the age.
SECOND = {**FIRST, "age": "77"}


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    """The paper questionnaire published with one code batch, and the manager's account."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with municipality_store(url) as store:
        store.publish_questionnaire(
            load_questionnaire(fixture_path("paper_form.yaml")), fixture_text("paper_form.yaml")
        )
        batch = store.create_codes("papier", 5, stratum="Süd")
    (tmp_path / "code.txt").write_text(batch.codes[2], encoding="utf-8")
    # The batch's codes file, as `codes create` and the Übersicht hand it out.
    (tmp_path / "codes.csv").write_text("code\n" + "\n".join(batch.codes) + "\n", encoding="utf-8")
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PAPER_ENTRY_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Keyer(KeyboardRespondent):
    """A manager keying paper forms; after opening the page, by keyboard only (Tab and the
    focus checks of the keyboard journey)."""

    step_timeout_ms = STEP_TIMEOUT_MS

    def sign_in_and_open(self, url: str) -> None:
        self.sign_in(url, NAME, PASSWORD, LANG)
        title = t("paper_entry.title", LANG)
        if not self.page.get_by_test_id("stSidebarNav").is_visible():  # a phone
            self.page.get_by_test_id("stExpandSidebarButton").click()
        self.page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
        self.settle()
        self.page.get_by_role("heading", name=title).first.wait_for(timeout=STEP_TIMEOUT_MS)
        phone = self.page.viewport_size is not None and self.page.viewport_size["width"] < 600
        if phone and self.page.get_by_test_id("stSidebarCollapseButton").is_visible():
            # On a phone the navigation stays open over the page after a click.
            self.page.get_by_test_id("stSidebar").hover()
            self.page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        self.page.wait_for_timeout(300)

    def key_form(self, code: str, typed: dict[str, str], labels: dict[str, str]) -> None:
        """From the code field on: type, Tab to the next question, …, then Enter."""
        self.tab_to("textbox", t("paper_entry.code", LANG))
        self.page.keyboard.type(code)
        for key, text in typed.items():
            self.page.keyboard.press("Tab")
            assert self.focused() == ("textbox", labels[key]), "Tab goes to the next question"
            self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")
        self.settle()

    def enter(self) -> None:
        """Enter again, in the field that still has the focus."""
        assert self.focused()[0] == "textbox"
        self.page.keyboard.press("Enter")
        self.settle()

    def shoot(self, path: Path) -> None:
        height = int(
            self.page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
            )
        )
        size = self.page.viewport_size
        assert size is not None
        self.page.set_viewport_size({"width": size["width"], "height": max(height, 800)})
        self.page.wait_for_timeout(500)
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(size)
        self.settle()


@contextmanager
def keyer(browser: Any, url: str, viewport: dict[str, int]) -> Iterator[Keyer]:
    """A fresh browser (another person, another device), signed in, on the page."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 600)
    try:
        person = Keyer(
            context.new_page(), Form(load_questionnaire(fixture_path("paper_form.yaml")))
        )
        person.sign_in_and_open(url)
        yield person
    finally:
        context.close()


def _print_the_forms(browser: Any, url: str, tmp_path: Path, code: str) -> None:
    """The manager prints the batch's paper questionnaires on the Übersicht: one form per
    code, the code on it, the questions numbered as the data entry asks for them."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"], accept_downloads=True)
    try:
        manager = Keyer(
            context.new_page(), Form(load_questionnaire(fixture_path("paper_form.yaml")))
        )
        manager.sign_in(url, NAME, PASSWORD, LANG)
        panel = manager.page.get_by_test_id("stForm").filter(has_text=t("paper.page.print", LANG))
        panel.locator("input[type=file]").set_input_files(str(tmp_path / "codes.csv"))
        manager.settle()
        manager.click(t("paper.page.print", LANG))
        button = manager.page.get_by_role("button", name=t("paper.page.download", LANG))
        button.wait_for(timeout=STEP_TIMEOUT_MS)
        with manager.page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
            button.click()
        pdf = PdfReader(Path(info.value.path()))
        text = "\n".join(page.extract_text() for page in pdf.pages)
        assert code in text
        assert len(pdf.pages) % 5 == 0  # five codes, forms of equal length
        assert "1." in text  # numbered as keyed
        assert "6." in text
    finally:
        context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_double_entry_by_keyboard_with_one_difference_resolved(
    running_app: RunningApp, browser: Any, tmp_path: Path, size: str
) -> None:
    shots = _screenshots(tmp_path)
    code = (tmp_path / "code.txt").read_text(encoding="utf-8")
    questionnaire = load_questionnaire(fixture_path("paper_form.yaml"))
    labels = {f.key: f"{f.number}. {f.question}" for f in entry_fields(questionnaire, LANG)}
    viewport = VIEWPORTS[size]
    if size == "desktop":
        _print_the_forms(browser, running_app.url, tmp_path, code)

    with keyer(browser, running_app.url, viewport) as first:
        first.tab_to("checkbox", t("paper_entry.double", LANG))
        first.page.keyboard.press("Space")
        first.settle()
        first.key_form(code.lower(), FIRST, labels)
        first.see(t("paper_entry.checked.first", LANG))
        first.see("→ großes Problem")  # each answer reads back next to its input
        first.see("→ Bahnhof, Markt")
        first.shoot(shots / f"paper_entry_checked_{size}.png")
        first.enter()
        first.see(t("paper_entry.first_saved", LANG))
        # The blank next form has the focus on its code field again.
        first.page.wait_for_timeout(400)
        assert first.focused() == ("textbox", t("paper_entry.code", LANG))

    with municipality_store(running_app.database_url) as store:
        assert store.responses(questionnaire).empty
        assert store.keying_progress("papier")[0].pending == 1

    with keyer(browser, running_app.url, viewport) as second:
        second.key_form(code, SECOND, labels)
        second.see(t("paper_entry.checked.second", LANG))
        second.enter()
        second.see(t("paper_entry.compare.title", LANG))
        second.see(t("paper_entry.compare.first", LANG, value="71"))
        second.see(t("paper_entry.compare.second", LANG, value="77"))
        second.shoot(shots / f"paper_entry_compare_{size}.png")
        # Resolve by keyboard: Tab into the age's choices, Space takes the first keying's.
        second.tab_to("radio", t("paper_entry.compare.choose", LANG, number="6"))
        second.page.keyboard.press("Space")
        second.settle()
        second.tab_to("button", t("paper_entry.compare.store", LANG))
        second.page.keyboard.press("Enter")
        second.settle()
        second.see(t("paper_entry.stored_resolved", LANG))
        second.shoot(shots / f"paper_entry_stored_{size}.png")

    with municipality_store(running_app.database_url) as store:
        responses = store.responses(questionnaire)
        with store.engine.connect() as connection:
            left = connection.execute(select(func.count()).select_from(pending_keyings_table))
            pending = int(left.scalar_one())
    assert len(responses) == 1
    row = responses.iloc[0]
    assert row["mode"] == "keyed"
    assert row["stratum"] == "Süd"
    assert_stored(row, STORED)
    assert pending == 0
