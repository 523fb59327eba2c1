"""Paper questionnaires in Debian chromium against ``streamlit run``: the manager creates a
code batch and prints its paper questionnaire on the overview, a filled-in form comes back as
a synthetic scan (150 dpi, rotated, noisy), the manager uploads it on "Scans einlesen",
decides the uncertain box and types the written number, stores, and the response is in the
database with mode ``scanned``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from app._synthetic_scans import (
    Degradation,
    degrade,
    draw_smudge,
    draw_tick,
    images_pdf,
    rasterise,
    write_text,
)
from core import t
from reporting import paper_layout
from storage import Accounts
from survey import Questionnaire, load_questionnaire
from tests.browser._driver import StreamlitPage, assert_stored, publish
from tests.browser.conftest import RunningApp
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store

pytestmark = pytest.mark.browser

NAME = "anna"
PASSWORD = "Praevention-Musterstadt-2026"
LANG = "de"
STEP_TIMEOUT_MS = 90_000
DPI = 150
#: What the respondent ticks (answer id -> value) and writes.
TICKS: dict[str, Any] = {
    "consent": True,
    "district": "03",
    "safe_night": 2,
    "safe_centre_day": 1,
    "avoid_places": False,
    "measures": [1, 3],
}
YEARS = "12"


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    publish(url, DEFAULT_QUESTIONNAIRE)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


class Manager(StreamlitPage):
    step_timeout_ms = STEP_TIMEOUT_MS

    def go(self, title_key: str) -> None:
        self.page.get_by_test_id("stSidebarNav").get_by_text(t(title_key, LANG), exact=True).click()
        self.settle()
        self.page.get_by_role("heading", name=t(title_key, LANG)).first.wait_for(
            timeout=STEP_TIMEOUT_MS
        )

    def download(self, button: str) -> bytes:
        with self.page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
            self.page.get_by_role("button", name=button, exact=True).click()
        return Path(info.value.path()).read_bytes()


def _filled_scan(pdf: bytes, rng: np.random.Generator) -> bytes:
    """The first form of ``pdf`` filled in as :data:`TICKS`, a blot in the first box of
    question 5, the years written, scanned crooked and noisy."""
    questionnaire = publish_questionnaire()
    layout = paper_layout(questionnaire, LANG)
    pages = rasterise(pdf, DPI)[: layout.pages]
    for mark in layout.marks:
        wanted = TICKS.get(mark.answer_id)
        if wanted is not None and (
            mark.value == wanted or (isinstance(wanted, list) and mark.value in wanted)
        ):
            draw_tick(pages[mark.page - 1], mark, DPI, rng, "cross")
    blot = next(m for m in layout.marks if m.answer_id == "safe_day")
    draw_smudge(pages[blot.page - 1], blot, DPI, 0.05)
    field = next(f for f in layout.fields if f.answer_id == "years_lived")
    write_text(pages[field.page - 1], field.x, field.y, field.height, DPI, YEARS)
    spoilt = [
        degrade(page, DPI, Degradation(angle=float(rng.uniform(-2, 2)), blur=0.08, noise=8), rng)
        for page in pages
    ]
    return images_pdf(spoilt, DPI)


def publish_questionnaire() -> Questionnaire:
    return load_questionnaire(DEFAULT_QUESTIONNAIRE)


def test_print_scan_review_store(running_app: RunningApp, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    manager = Manager(page)
    rng = np.random.default_rng(13)
    try:
        manager.sign_in(running_app.url, NAME, PASSWORD, LANG)
        # A batch of two codes, then its paper questionnaire.
        page.get_by_label(t("manager.overview.code_count", LANG)).fill("2")
        manager.click(t("manager.overview.create_codes", LANG))
        manager.see(t("manager.overview.codes_once", LANG)[:30])
        manager.click(t("paper.page.print", LANG))
        pdf = manager.download(t("paper.page.download", LANG))
        questionnaire = publish_questionnaire()
        layout = paper_layout(questionnaire, LANG)
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 2 * layout.pages

        # The filled-in first form comes back as a scan.
        manager.go("paper.scans.title")
        page.locator("input[type=file]").set_input_files(
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": _filled_scan(pdf, rng)}
        )
        manager.settle()
        manager.click(t("paper.scans.read", LANG))
        manager.see(t("paper.scans.question", LANG, number=5))
        # Storing before the review is refused, nothing stored.
        manager.click(t("paper.scans.store", LANG))
        manager.see(t("paper.scans.not_stored", LANG))
        with municipality_store(running_app.database_url) as store:
            assert len(store.responses(questionnaire)) == 0
        # The blot is no tick: "keine Antwort"; the years are typed from the snippet.
        radio = page.get_by_test_id("stRadio").filter(
            has_text=t("paper.scans.question", LANG, number=5)
        )
        radio.get_by_text(t("paper.scans.no_answer", LANG), exact=True).click()
        page.get_by_label(t("paper.scans.question", LANG, number=3), exact=True).fill(YEARS)
        manager.click(t("paper.scans.store", LANG))
        manager.see(t("paper.scans.stored", LANG, count=1))
        assert page.get_by_test_id("stException").count() == 0

        with municipality_store(running_app.database_url) as store:
            frame = store.responses(questionnaire)
        assert list(frame["mode"]) == ["scanned"]
        assert_stored(frame.iloc[0], {**TICKS, "years_lived": int(YEARS)})
        assert pd.isna(frame.iloc[0]["safe_day"])
    finally:
        context.close()
