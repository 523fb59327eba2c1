"""A letter's QR code in Debian chromium: ``/#code=<code>`` takes a resident past the code form,
and the code leaves the address bar at once (docs/privacy.md, "Codes on letters")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import t
from reporting import letter_link
from survey import load_questionnaire_text
from tests.browser._driver import StreamlitPage
from tests.browser.conftest import RunningApp
from tests.fixtures import municipality_store

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"
LANG = "de"


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    """One open, code-only survey (so the bare address opens it) with one batch of codes."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "  languages:", "  access: code\n  languages:"
    )
    with municipality_store(url) as store:
        store.publish_questionnaire(load_questionnaire_text(text), text)
        (tmp_path / "code.txt").write_text(store.create_codes("kleinstadt", 1).codes[0])
    return url


def test_the_qr_link_enters_the_code_and_removes_it_from_the_address_bar(
    running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    code = (tmp_path / "code.txt").read_text()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(letter_link(f"{running_app.url}/", code))
        resident = StreamlitPage(page)
        resident.settle()
        try:
            page.get_by_role("button", name=t("form.start", LANG)).wait_for(timeout=60_000)
        except Exception as missed:  # say what the resident saw instead
            raise AssertionError(page.locator("body").inner_text()) from missed
        assert "#" not in page.url
        assert code not in page.url
        assert not any(code in url for url in requested)  # no request ever carried it
        assert t("form.code_label", LANG) not in page.locator("body").inner_text()
    finally:
        context.close()
    with municipality_store(running_app.database_url) as store:
        assert store.check_code("kleinstadt", code).value == "valid"  # entered, not used up
