"""Bad URLs in a real browser (docs/bad-input.md): an unknown page path, a crafted, NUL-laden
or very long ``?survey=``, and ``?lang=xx`` each end on a page that says what to do, with no
traceback on the page or in the server's log.

A nested unknown path (``/a/b``) is Streamlit's own blank page (its scripts are loaded relative
to the path); nothing of ours runs there, so it is documented, not tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from core import t
from survey import load_questionnaire
from tests.browser._driver import StreamlitPage
from tests.browser.conftest import RunningApp
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store


def test_bad_urls_end_on_a_helpful_page(
    app_database_url: str, running_app: RunningApp, browser: Any, tmp_path: Path
) -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(app_database_url) as store:
        store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text("utf-8"))
    title = questionnaire.text(questionnaire.meta.title, "de")
    context = browser.new_context()
    page = context.new_page()
    driver = StreamlitPage(page)
    try:
        for path in (
            "gibt-es-nicht",
            "?survey=" + quote("gibtsnicht\x00<script>alert(1)</script>" + "x" * 3000),
            "?survey=" + quote("[klick](https://evil.invalid)") + "&lang=xx",
            "?lang=xx",
        ):
            page.goto(f"{running_app.url}/{path}")
            driver.settle()
            driver.see(title)
            page.wait_for_timeout(500)
            body = page.locator("body").inner_text()
            assert "Traceback" not in body, path
            assert "Error" not in body.split(title)[0], path
            assert title in body, path  # the list of open surveys, to choose from
            assert page.locator("a[href*='evil.invalid']").count() == 0
        page.goto(f"{running_app.url}/?survey={questionnaire.id}&lang=xx")
        driver.settle()
        driver.see(t("form.start", "de"))
    finally:
        context.close()
    log = (tmp_path / "streamlit.log").read_text("utf-8", errors="replace")
    assert "Traceback" not in log
