"""The perceived reference in Debian chromium: on the Prioritäten page the manager chooses
"Vergleichstabelle hochladen", uploads a table with a typo and sees the row, uploads the
corrected one and reads in the ranking what each field was compared with (desktop and phone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import t
from storage import Accounts
from tests.browser.conftest import RunningApp
from tests.browser.test_manager_journey import LANG, NAME, PASSWORD, Manager
from tests.fixtures import seed_open_demo

pytestmark = pytest.mark.browser

GOOD = b"field;share\ngraffiti;45 %\ngewalt;12 %\n"
TYPO = b"field;share\ngrafitti;45 %\n"


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    seed_open_demo(url)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


def _choose_table(manager: Manager) -> None:
    page = manager.page
    label = t("manager.priorities.perceived_reference", LANG)
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=t("manager.priorities.perceived_table", LANG)).click()
    manager.settle()


@pytest.mark.parametrize(
    ("width", "height", "name"), [(1400, 1000, "desktop"), (390, 844, "phone")]
)
def test_the_manager_compares_with_an_uploaded_table(
    running_app: RunningApp, browser: Any, tmp_path: Path, width: int, height: int, name: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    manager = Manager(page)
    try:
        manager.sign_in(running_app.url, NAME, PASSWORD, LANG)
        if not page.get_by_test_id("stSidebarNav").is_visible():  # a phone: navigation folded
            page.get_by_test_id("stExpandSidebarButton").click()
            page.get_by_test_id("stSidebarNav").wait_for(timeout=manager.step_timeout_ms)
        manager.go("manager.priorities.title")
        if width < 600:
            page.get_by_test_id("stSidebar").hover()
            page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        manager.see(t("manager.priorities.perceived_reference", LANG))
        _choose_table(manager)
        manager.see(t("manager.priorities.perceived_no_table", LANG)[:30])
        manager.upload("vergleich.csv", TYPO)
        manager.see("vergleich.csv:2:1")
        manager.see("graffiti")
        manager.upload("vergleich.csv", GOOD)
        manager.see(t("manager.priorities.ranking", LANG, area="Musterstadt (DEMO)")[:30])
        body = page.locator("body").inner_text()
        assert "Traceback" not in body
        table = page.get_by_test_id("stDataFrame").first
        table.wait_for(timeout=manager.step_timeout_ms)
        table.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"perceived-{name}.png"))
    finally:
        context.close()
