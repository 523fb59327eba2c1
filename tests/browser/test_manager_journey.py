"""The prevention manager's journey in Debian chromium against ``streamlit run``.

The database holds the demo municipality (responses and population, no incident counts yet)
and one local account. The manager signs in, uploads an incidents CSV with one bad row and
sees the error with its row, uploads the corrected file and saves it, sees the ranking, moves
a weight slider, and downloads the report and the SPSS file. An anonymous visitor who types an
analysis page's URL gets no analysis.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import docx
import pandas as pd
import pyreadstat
import pytest
from pypdf import PdfReader

from app import csv_bytes
from core import t
from storage import Accounts
from tests.browser._driver import StreamlitPage
from tests.browser.conftest import RunningApp
from tests.fixtures import fixture_bytes, seed_open_demo
from views import manager as manager_pages

pytestmark = pytest.mark.browser

NAME = "anna"
PASSWORD = "Praevention-Musterstadt-2026"
LANG = "de"
#: Generous: the machine is shared, and the first analysis reads every response.
STEP_TIMEOUT_MS = 90_000


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    """The demo municipality without incident counts, and the manager's account."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    seed_open_demo(url, incidents=False)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


class Manager(StreamlitPage):
    """Drives one browser page through the workspace by visible labels only."""

    step_timeout_ms = STEP_TIMEOUT_MS

    def go(self, title_key: str) -> None:
        """Open a page through the sidebar navigation (a typed URL would start a new session)."""
        self.page.get_by_test_id("stSidebarNav").get_by_text(t(title_key, LANG), exact=True).click()
        self.settle()
        self.page.get_by_role("heading", name=t(title_key, LANG)).first.wait_for(
            timeout=STEP_TIMEOUT_MS
        )

    def upload(self, name: str, data: bytes) -> None:
        self.page.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": data}
        )
        self.settle()

    def download(self, button: str) -> bytes:
        with self.page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
            self.page.get_by_role("button", name=button, exact=True).click()
        self.last_download_url = str(info.value.url)
        path = info.value.path()
        return Path(path).read_bytes()


def _incidents_with_one_bad_row() -> tuple[bytes, bytes]:
    good = pd.read_csv(io.BytesIO(fixture_bytes("pks.csv")), sep=";", dtype=str)
    bad = good.copy()
    bad.loc[4, "count"] = "zwölf"
    return csv_bytes(bad), csv_bytes(good)


def test_manager_signs_in_uploads_ranks_reweights_and_downloads(
    running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    manager = Manager(page)
    try:
        manager.sign_in(running_app.url, NAME, PASSWORD, LANG)
        manager.see(t("manager.demo_banner", LANG)[:20])

        # Upload incidents with one bad row: the error names the row; nothing is saved.
        manager.go("manager.data.title")
        bad, good = _incidents_with_one_bad_row()
        manager.upload("pks.csv", bad)
        manager.see(t("manager.data.rejected", LANG, count=1, file="pks.csv"))
        assert page.get_by_role("button", name=t("manager.data.save", LANG)).count() == 0
        # The corrected file: preview, save, listed.
        manager.upload("pks.csv", good)
        manager.see(
            t(
                "manager.data.read_ok",
                LANG,
                rows=len(pd.read_csv(io.BytesIO(good), sep=";")),
                layout="tidy",
            )
        )
        manager.click(t("manager.data.save", LANG))
        manager.see(
            t(
                "manager.data.saved_ok",
                LANG,
                source="pks.csv",
                rows=len(pd.read_csv(io.BytesIO(good), sep=";")),
            )
        )

        # The ranking, then a weight slider moved with the keyboard.
        manager.go("manager.priorities.title")
        manager.see(t("manager.priorities.ranking", LANG, area="Musterstadt (DEMO)")[:30])
        page.get_by_test_id("stDataFrame").first.wait_for(timeout=STEP_TIMEOUT_MS)
        registered = page.get_by_test_id("stSlider").nth(1)
        before = float(registered.get_by_test_id("stSliderThumbValue").inner_text())
        registered.get_by_role("slider").focus()
        for _ in range(6):
            page.keyboard.press("ArrowLeft")
        manager.settle()
        after = float(registered.get_by_test_id("stSliderThumbValue").inner_text())
        assert after < before
        page.get_by_test_id("stDataFrame").first.wait_for(timeout=STEP_TIMEOUT_MS)
        assert page.get_by_test_id("stException").count() == 0

        # The survey findings, then the downloads: the report in every format and SPSS.
        manager.go("findings.title")
        page.get_by_role("heading", name=t("findings.section.free_text", LANG)).wait_for(
            timeout=STEP_TIMEOUT_MS
        )
        assert page.get_by_test_id("stException").count() == 0
        manager.go("manager.exports.title")
        # The manager's recommendation for the top field goes into the report, escaped.
        page.get_by_role("textbox").last.wait_for(timeout=STEP_TIMEOUT_MS)
        recommendation = page.locator("textarea").first
        recommendation.fill("Mehr <b>Licht</b> am Bahnhof")
        page.get_by_role("heading", name=t("manager.exports.report", LANG)).first.click()
        manager.settle()
        report = manager.download(t("manager.exports.download_report_html", LANG)).decode("utf-8")
        # Before: the same /media/ URL answered 200 to an anonymous client while the session
        # lived. Now only this browser, holding the session's download pass, gets it.
        media_url = manager.last_download_url
        assert "/media/" in media_url
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(media_url, timeout=30)
        assert refused.value.code == 404
        assert "Sicherheitsanalyse" in report
        assert "Musterstadt (DEMO)" in report
        assert "Mehr &lt;b&gt;Licht&lt;/b&gt; am Bahnhof" in report
        assert "<script" not in report
        pdf = PdfReader(
            io.BytesIO(manager.download(t("manager.exports.download_report_pdf", LANG)))
        )
        assert len(pdf.pages) > 5
        assert "Musterstadt (DEMO)" in (pdf.metadata.title or "")
        assert "Mehr <b>Licht</b> am Bahnhof" in " ".join(p.extract_text() for p in pdf.pages)
        word = docx.Document(
            io.BytesIO(manager.download(t("manager.exports.download_report_docx", LANG)))
        )
        assert any("Mehr <b>Licht</b> am Bahnhof" in p.text for p in word.paragraphs)
        sav = tmp_path / "antworten.sav"
        sav.write_bytes(manager.download("SPSS (.sav)"))
        frame, meta = pyreadstat.read_sav(str(sav))
        assert len(frame) == 800
        assert meta.variable_value_labels
    finally:
        context.close()


def test_anonymous_visitor_cannot_open_an_analysis_page_by_url(
    running_app: RunningApp, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    manager = Manager(page)
    try:
        for path in (manager_pages.PRIORITIES_PATH, manager_pages.EXPORTS_PATH):
            page.goto(f"{running_app.url}/{path}")
            manager.settle()
            page.wait_for_timeout(1000)
            body = page.locator("body").inner_text()
            assert t("manager.priorities.weights", LANG) not in body
            assert t("manager.exports.download_report_pdf", LANG) not in body
            assert page.get_by_role("slider").count() == 0
            assert page.get_by_test_id("stDataFrame").count() == 0
    finally:
        context.close()


def test_residents_see_their_survey_and_no_navigation(
    running_app: RunningApp, browser: Any
) -> None:
    """No sidebar, no sign-in link: a resident on a phone sees only the questionnaire."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{running_app.url}/?survey=sicherheitsbefragung")
        Manager(page).settle()
        page.wait_for_timeout(1000)
        assert page.get_by_test_id("stSidebarNav").count() == 0
        assert page.locator(f"a[href*='{manager_pages.SIGNIN_PATH}']").count() == 0
        assert t("form.start", LANG) in page.locator("body").inner_text()
    finally:
        context.close()
