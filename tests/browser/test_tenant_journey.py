"""Town A's manager in Debian chromium, in an installation that also holds town B: every page,
the downloads, and typed URLs (B's draft survey, the administrators' page) show nothing of B.
Town B's manager, in another browser, does see B's data (so the probe can find it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import t
from storage import Accounts
from tests.browser.conftest import RunningApp
from tests.browser.test_manager_journey import Manager
from tests.fixtures import TEST_MANAGER
from tests.security._towns import (
    B_ANSWER,
    B_DATASET,
    B_DRAFT_ID,
    MANAGER_B,
    Towns,
    seed_towns,
)
from views import manager as manager_pages

pytestmark = pytest.mark.browser

PASSWORD = "Praevention-Landesweit-2026"
LANG = "de"
STEP_TIMEOUT_MS = 120_000
PAGES = (
    "manager.overview.title",
    "manager.data.title",
    "manager.priorities.title",
    "findings.title",
    "manager.exports.title",
)
SEEDED: dict[str, Towns] = {}


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    SEEDED[url] = seed_towns(url)
    with Accounts(url) as accounts:
        accounts.add_user(TEST_MANAGER, PASSWORD)
        accounts.add_user(MANAGER_B, PASSWORD)
    return url


class Visitor(Manager):
    """The manager journey's driver (sidebar navigation by visible labels)."""

    def text(self) -> str:
        return str(self.page.content())


def _clean(text: str, towns: Towns, where: str) -> None:
    found = [m for m in towns.markers if m.lower() in text.lower()]
    assert not found, f"{where} shows town B's {found}"


def test_town_a_sees_nothing_of_town_b_in_the_browser(
    running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    towns = SEEDED[running_app.database_url]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    visitor = Visitor(page)
    try:
        visitor.sign_in(running_app.url, TEST_MANAGER, PASSWORD, LANG)
        for title in PAGES:
            visitor.go(title)
            page.wait_for_timeout(1500)  # charts and tables drawn
            visitor.settle()
            _clean(visitor.text(), towns, title)
        # The downloads of the export page.
        for button in (
            t("manager.exports.format_csv", LANG),
            t("manager.exports.download_report_html", LANG),
        ):
            with page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
                page.get_by_role("button", name=button, exact=True).first.click()
            data = Path(info.value.path()).read_bytes().decode("utf-8", "replace")
            assert len(data) > 100
            _clean(data, towns, button)
        # Typed URLs start a new, anonymous session: the administrators' page is not there
        # (the public survey page is, and lists the open surveys of every town, which are
        # public by design); B's draft survey, its answers, dataset and codes are not.
        # (The page repeats the id a visitor typed: what they typed, nothing stored.)
        private = ["Entwurf QXZ", B_ANSWER, towns.b_batch, towns.b_dataset, B_DATASET]
        for path in (manager_pages.MUNICIPALITIES_PATH, f"?survey={B_DRAFT_ID}"):
            page.goto(f"{running_app.url}/{path}")
            visitor.settle()
            shown = visitor.text()
            assert not [m for m in private if m in shown], path
            assert t("municipality.col.ags", LANG) not in shown, path
        page.screenshot(path=str(tmp_path / "town_a.png"), full_page=True)
    finally:
        context.close()

    # Town B's manager does see B's data: the probe above could have found it.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    visitor = Visitor(page)
    try:
        visitor.sign_in(running_app.url, MANAGER_B, PASSWORD, LANG)
        page.wait_for_timeout(1500)
        visitor.settle()
        assert "QXZ" in visitor.text()  # in the table of questionnaires (a canvas grid)
    finally:
        context.close()
