"""Accessibility as a test (BITV 2.0 / WCAG 2.1 AA, docs/accessibility.md).

Every screen of the default survey — data protection, each page, each page's prompt for
skipped questions, the thank-you page — in German and English, on a desktop and a 390×844
phone: axe-core (bundled in axe-playwright-python, run in Debian chromium) finds no serious or
critical violation; every question's text is at least as large as its answers; every radio
button and check box is a tap target of at least 44×44 px.

Set ``SICHERHEITSANALYSE_SCREENSHOTS`` to a folder to keep a screenshot of every screen and a
summary per run (``<viewport>-<lang>-axe.json``: every violation of any impact, the sizes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core import t
from survey import Form
from tests.browser._driver import StreamlitPage, publish
from tests.browser.conftest import RunningApp
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store
from views._widgets import question_label

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: WCAG 2.5.5 (AAA, and the size BITV test procedures ask of touch targets on phones).
MIN_TARGET_PX = 44
BLOCKING_IMPACTS = ("serious", "critical")

#: Font sizes of question texts, statement labels and answer options, and the smallest tap
#: target, on the page as drawn.
MEASURE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const sizes = selector => [...main.querySelectorAll(selector)]
      .map(el => parseFloat(getComputedStyle(el).fontSize));
  const targets = [...main.querySelectorAll(
      '[data-testid="stRadio"] [role="radiogroup"] label, [data-testid="stCheckbox"] label')]
      .map(el => { const box = el.getBoundingClientRect();
                   return [el.innerText.trim(), box.width, box.height]; });
  return {
    questions: sizes('[class*="st-key-question-"] h3'),
    statements: sizes('[data-testid="stWidgetLabel"] p'),
    options: sizes('[data-testid="stRadio"] [role="radiogroup"] label p, '
                   + '[data-testid="stCheckbox"] label p'),
    targets: targets,
  };
}"""


class Inspector(StreamlitPage):
    """Walks the survey by its buttons and checks every screen it passes."""

    def __init__(self, page: Any, name: str) -> None:
        super().__init__(page)
        self.name = name
        self.violations: list[str] = []
        #: Every screen's violations of any impact, by rule id, for the summary file.
        self.found: dict[str, dict[str, str]] = {}
        self.measurements: dict[str, dict[str, Any]] = {}
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        folder = os.environ.get("SICHERHEITSANALYSE_SCREENSHOTS")
        self.screenshots = Path(folder) if folder else None

    def check(self, screen: str) -> None:
        self.page.wait_for_timeout(300)
        results = self.axe.run(self.page)
        self.found[screen] = {v["id"]: str(v["impact"]) for v in results.response["violations"]}
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING_IMPACTS:
                targets = [str(node["target"]) for node in violation["nodes"]][:3]
                self.violations.append(
                    f"{self.name} {screen}: {violation['id']} ({violation['impact']}) {targets}"
                )
        self.measurements[screen] = self.page.evaluate(MEASURE)
        if self.screenshots is not None:
            self.screenshot(self.screenshots / f"{self.name}-{screen}.png")

    def screenshot(self, path: Path) -> None:
        """The whole page: the app scrolls inside its main area, so grow the window to it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        height = self.page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        self.page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size(size)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_screen_of_the_default_survey_is_accessible(
    running_app: RunningApp, browser: Any, lang: str, viewport: str
) -> None:
    q = publish(running_app.database_url, DEFAULT_QUESTIONNAIRE)
    form = Form(q)
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=lang)
    inspector = Inspector(context.new_page(), f"{viewport}-{lang}")
    inspector.page.goto(f"{running_app.url}/?survey={q.id}&lang={lang}")
    inspector.see(t("form.start", lang))
    assert inspector.page.evaluate("document.documentElement.lang") == lang
    inspector.check("privacy")
    inspector.click(t("form.start", lang))

    consent = inspector.page.get_by_role(
        "radiogroup", name=question_label(form, q.item("consent"), lang), exact=True
    )
    consent.get_by_text(t("form.yes", lang), exact=True).click()
    inspector.settle()
    answers = {"consent": True}
    pages = form.visible_pages(answers)
    for position, page in enumerate(pages, start=1):
        inspector.see(q.text(q.sections[page].title, lang))
        inspector.check(f"page{position:02d}")
        button = t("form.submit" if position == len(pages) else "form.next", lang)
        inspector.click(button)
        # Only the consent is answered, so every soft-required question on the way is asked.
        skipped = form.check_page(page, answers, lang).skipped
        if skipped:
            prompt = form.soft_prompt(skipped, lang)
            assert prompt is not None
            inspector.see(prompt)
            inspector.check(f"page{position:02d}-prompt")
            alerts = inspector.page.locator('[data-testid="stAlert"]')
            assert alerts.count() == 1, "one prompt for the page, not one per question"
            inspector.click(button)
    inspector.see(t("form.thanks_title", lang))
    inspector.check("thanks")
    context.close()
    if inspector.screenshots is not None:
        summary = {"violations": inspector.found, "measurements": inspector.measurements}
        (inspector.screenshots / f"{inspector.name}-axe.json").write_text(
            json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8"
        )

    assert not inspector.violations, "\n".join(inspector.violations)
    for screen, sizes in inspector.measurements.items():
        smallest_question = min(sizes["questions"] + sizes["statements"], default=None)
        largest_option = max(sizes["options"], default=None)
        if smallest_question is not None and largest_option is not None:
            assert smallest_question >= largest_option, f"{screen}: {sizes}"
        for text, width, height in sizes["targets"]:
            assert min(width, height) >= MIN_TARGET_PX, (
                f"{screen}: tap target {text!r} is {width:.0f}×{height:.0f} px"
            )
    with municipality_store(running_app.database_url) as store:
        assert len(store.responses(q)) == 1
