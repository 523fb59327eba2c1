"""The manager publishes a survey from the Übersicht page, tries it in the preview, and later
publishes a changed revision as a new version after seeing its codebook diff; then closes
the default survey with one click. Debian chromium against ``streamlit run``; the journey
ends with what the database holds: the test answer apart from the responses, and the
analysis reading only the resident's response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import Workspace
from core import t
from storage import Accounts, QuestionnaireState, responses_table, test_responses_table
from survey import load_questionnaire_text
from tests.browser._driver import StreamlitPage
from tests.browser.conftest import RunningApp
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store

pytestmark = pytest.mark.browser

NAME = "anna"
PASSWORD = "Praevention-Kleinstadt-2026"
LANG = "de"
STEP_TIMEOUT_MS = 90_000
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"
TOWN = FIXTURE.read_text(encoding="utf-8")
#: Between two waves the town renames a variable and relabels a code.
EDITED = TOWN.replace("id: years_lived", "id: years_here").replace(
    "de: eher unsicher, en:", "de: ziemlich unsicher, en:"
)
BROKEN = TOWN.replace("kind: number", "kind: numbr")


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    """The shipped default survey, open, and the manager's account."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    text = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
    with municipality_store(url) as store:
        store.publish_questionnaire(load_questionnaire_text(text), text)
    with Accounts(url) as accounts:
        accounts.add_user(NAME, PASSWORD)
    return url


class Manager(StreamlitPage):
    step_timeout_ms = STEP_TIMEOUT_MS

    def overview(self) -> None:
        nav = self.page.get_by_test_id("stSidebarNav")
        nav.get_by_text(t("manager.overview.title", LANG), exact=True).click()
        self.settle()
        self.page.get_by_role("heading", name=t("manager.overview.title", LANG)).first.wait_for(
            timeout=STEP_TIMEOUT_MS
        )

    def upload_questionnaire(self, name: str, text: str) -> None:
        expander = self.page.get_by_text(t("publishing.page.title", LANG), exact=True)
        if not self.page.get_by_test_id("stFileUploaderDropzone").first.is_visible():
            expander.click()
            self.page.get_by_test_id("stFileUploaderDropzone").first.wait_for(
                timeout=STEP_TIMEOUT_MS
            )
        self.page.locator("input[type=file]").first.set_input_files(
            {"name": name, "mimeType": "application/x-yaml", "buffer": text.encode("utf-8")}
        )
        self.settle()

    def choose_questionnaire(self, questionnaire_id: str) -> None:
        self.page.get_by_role("combobox", name=t("manager.questionnaire", LANG)).click()
        self.page.get_by_role("option").filter(has_text=f"({questionnaire_id})").click()
        self.settle()


def records(url: str) -> dict[str, Any]:
    with municipality_store(url) as store:
        return {r.id: r for r in store.questionnaires()}


def test_publish_preview_and_a_new_version_with_its_diff(
    running_app: RunningApp, browser: Any
) -> None:
    url = running_app.database_url
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    manager = Manager(page)
    try:
        manager.sign_in(running_app.url, NAME, PASSWORD, LANG)

        # A broken file: the problem with its line, and nothing published.
        manager.upload_questionnaire("kleinstadt.yaml", BROKEN)
        line = BROKEN.splitlines().index("        kind: numbr") + 1
        manager.see(f"kleinstadt.yaml:{line}:")
        manager.see(t("publishing.nothing_changed", LANG))
        assert page.get_by_role("button", name=t("publishing.page.publish_new", LANG)).count() == 0
        assert set(records(url)) == {"sicherheitsbefragung"}

        # The good file: published as a draft on a click.
        manager.upload_questionnaire("kleinstadt.yaml", TOWN)
        manager.click(t("publishing.page.publish_new", LANG))
        manager.see("„kleinstadt“")
        assert records(url)["kleinstadt"].state is QuestionnaireState.DRAFT

        # The preview: the draft as a resident sees it, the answer stored as a test.
        manager.choose_questionnaire("kleinstadt")
        manager.click(t("publishing.page.preview", LANG))
        manager.see(t("preview.banner", LANG)[:30])
        manager.click(t("form.start", LANG))
        group = page.get_by_role("radiogroup", name="Wie sicher fühlen Sie sich nachts?")
        group.get_by_text("eher sicher", exact=True).click()
        manager.settle()
        manager.click(t("form.next", LANG))
        manager.click(t("form.submit", LANG))
        manager.see(t("form.thanks_title", LANG))
        with municipality_store(url) as store:
            assert store.test_response_count("kleinstadt") == 1
            assert len(store.response_counts_by_day("kleinstadt")) == 0

        # Opened, a resident answers (outside the browser: any resident would do).
        with municipality_store(url) as store:
            store.set_state("kleinstadt", "open")
            first = load_questionnaire_text(TOWN, "kleinstadt.yaml")
            resident = store.submit(
                first, {"safe_night": 3}, language="de", submission_token="resident-1-token"
            )
            assert resident.stored

        # The changed revision: its diff first, and only as a new version.
        manager.overview()
        manager.upload_questionnaire("kleinstadt.yaml", EDITED)
        manager.see(t("publishing.diff_title", LANG, revision=first.revision))
        table = page.get_by_test_id("stTable").filter(has_text="years_here")
        table.first.wait_for(timeout=STEP_TIMEOUT_MS)
        manager.see(t("storage.publish.has_responses", LANG, id="kleinstadt", count=1)[:40])
        assert records(url)["kleinstadt"].revision == first.revision
        manager.click(t("publishing.page.publish_new_version", LANG))
        manager.see(t("publishing.published_new_version", LANG, id="kleinstadt", count=1,
                      revision=load_questionnaire_text(EDITED).revision)[:40])  # fmt: skip

        # The default survey beside the town's: closed with one click.
        manager.overview()
        manager.click(t("publishing.page.close_default", LANG))
        assert records(url)["sicherheitsbefragung"].state is QuestionnaireState.CLOSED
        assert page.get_by_test_id("stException").count() == 0
    finally:
        context.close()

    # What the database holds.
    second = load_questionnaire_text(EDITED, "kleinstadt.yaml")
    with municipality_store(url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.revision == second.revision
        assert record.state is QuestionnaireState.OPEN
        with store.engine.connect() as connection:
            real = connection.execute(select(responses_table)).all()
            tests = connection.execute(select(test_responses_table)).all()
        assert [(r.questionnaire_id, r.questionnaire_revision) for r in real] == [
            ("kleinstadt", first.revision)
        ]
        assert [(r.questionnaire_id, r.questionnaire_revision) for r in tests] == [
            ("kleinstadt", first.revision)
        ]
        assert '"safe_night":2' in tests[0].answers  # "eher sicher", marked as a test
        # The analysis and the exports read the responses: the resident's only.
        frame = Workspace(store).inputs("kleinstadt").responses
        assert list(frame["safe_night"]) == [3]
