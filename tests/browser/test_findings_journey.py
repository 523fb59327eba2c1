"""The Befragungsergebnisse page in Debian chromium against ``streamlit run``.

The manager signs in, opens Befragungsergebnisse, sees the charts of the demo municipality
(800 responses), changes the district filter and sees one district; on a survey of 6 responses
the page says it cannot be analysed. Screenshots (desktop and 390×844) are written to
``$FINDINGS_SCREENSHOTS`` when set, else to the test's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core import t
from storage import Accounts
from tests.browser._driver import StreamlitPage
from tests.browser.conftest import RunningApp
from tests.fixtures import seed_open_demo
from views import manager as manager_pages

pytestmark = pytest.mark.browser

NAME = "anna"
PASSWORD = "Praevention-Musterstadt-2026"
LANG = "de"
STEP_TIMEOUT_MS = 90_000


@pytest.fixture
def app_database_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The demo municipality with ``request.param`` responses, and the manager's account."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    seed_open_demo(url, responses=request.param)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FINDINGS_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Manager(StreamlitPage):
    step_timeout_ms = STEP_TIMEOUT_MS

    def sign_in(self, url: str) -> None:
        self.page.goto(f"{url}/{manager_pages.SIGNIN_PATH}")
        self.settle()
        self.page.get_by_label(t("manager.signin.name", LANG)).fill(NAME)
        self.page.get_by_label(t("manager.signin.password", LANG)).fill(PASSWORD)
        self.click(t("manager.signin.submit", LANG))
        self.page.get_by_role("heading", name=t("manager.overview.title", LANG)).first.wait_for(
            timeout=STEP_TIMEOUT_MS
        )

    def open_findings(self) -> None:
        title = t("findings.title", LANG)
        self.open_sidebar()
        self.page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
        self.settle()
        self.page.get_by_role("heading", name=title).first.wait_for(timeout=STEP_TIMEOUT_MS)
        self.page.get_by_role("heading", name=t("findings.section.free_text", LANG)).wait_for(
            timeout=STEP_TIMEOUT_MS
        )

    def choose_district(self, name: str) -> None:
        box = self.page.get_by_test_id("stSelectbox").filter(
            has_text=t("findings.district_filter", LANG)
        )
        box.click()
        self.page.get_by_role("option", name=name, exact=True).click()
        self.settle()

    def open_sidebar(self) -> None:
        """On a phone the navigation starts collapsed."""
        if not self.page.get_by_test_id("stSidebarNav").is_visible():
            self.page.get_by_test_id("stExpandSidebarButton").click()
            self.page.get_by_test_id("stSidebarNav").wait_for(timeout=STEP_TIMEOUT_MS)

    def close_sidebar(self) -> None:
        """On a phone the navigation stays open over the page after a click."""
        sidebar = self.page.get_by_test_id("stSidebar")
        sidebar.hover()
        self.page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        self.page.get_by_test_id("stSidebarNav").wait_for(state="hidden", timeout=STEP_TIMEOUT_MS)

    def shoot(self, path: Path, width: int) -> None:
        """The whole page: Streamlit scrolls inside its own container, so the viewport is
        made as tall as the content for the picture."""
        height = int(
            self.page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
            )
        )
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": width, "height": max(height, 800)})
        self.settle()
        self.page.wait_for_timeout(1500)  # plotly redraws at the new size
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(size)
        self.settle()

    def body(self) -> str:
        return str(self.page.locator("body").inner_text())


@contextmanager
def findings_page(browser: Any, url: str, width: int, height: int) -> Iterator[Manager]:
    """A fresh browser context of ``width`` × ``height``, signed in, on Befragungsergebnisse."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 600
    )
    try:
        manager = Manager(context.new_page())
        manager.sign_in(url)
        manager.open_findings()
        yield manager
    finally:
        context.close()


def assert_no_missing_shown(manager: Manager) -> None:
    body = manager.body()
    for word in (" None", " nan", "NaN"):
        assert word not in body
    assert manager.page.get_by_test_id("stException").count() == 0


@pytest.mark.parametrize("app_database_url", [None], indirect=True)
def test_manager_opens_findings_and_filters_a_district(
    running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    shots = _screenshots(tmp_path)
    with findings_page(browser, running_app.url, 1400, 1000) as manager:
        manager.see(t("findings.topic.unsafe_night.title", LANG))
        # On a loaded machine the charts may still be drawing: wait for them, then count.
        manager.page.get_by_test_id("stPlotlyChart").nth(7).wait_for(timeout=STEP_TIMEOUT_MS)
        assert manager.page.get_by_test_id("stPlotlyChart").count() >= 8
        assert "Befragung nicht auswertbar" not in manager.body()
        assert_no_missing_shown(manager)
        manager.shoot(shots / "findings_desktop.png", 1400)

        manager.choose_district("Bahnhofsviertel")
        manager.see(t("findings.dark.town_only", LANG))
        # On a loaded machine the charts may still be drawing: wait for them, then count.
        manager.page.get_by_test_id("stPlotlyChart").nth(7).wait_for(timeout=STEP_TIMEOUT_MS)
        assert manager.page.get_by_test_id("stPlotlyChart").count() >= 8
        assert_no_missing_shown(manager)
        manager.shoot(shots / "findings_district_desktop.png", 1400)
    with findings_page(browser, running_app.url, 390, 844) as manager:
        manager.close_sidebar()
        manager.page.screenshot(path=str(shots / "findings_phone.png"))
        manager.shoot(shots / "findings_phone_full.png", 390)


@pytest.mark.parametrize("app_database_url", [6], indirect=True)
def test_a_tiny_survey_shows_the_banner_and_no_empty_chart(
    running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    shots = _screenshots(tmp_path)
    with findings_page(browser, running_app.url, 1400, 1000) as manager:
        manager.see("Befragung nicht auswertbar – n = 6")
        assert t("findings.empty.suppressed", LANG) in manager.body()
        assert_no_missing_shown(manager)
        manager.shoot(shots / "findings_tiny_desktop.png", 1400)
