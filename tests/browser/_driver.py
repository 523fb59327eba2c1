"""What both browser journeys do to a Streamlit page: wait for a rerun, look, click."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core import t
from survey import Questionnaire, load_questionnaire
from tests.fixtures import municipality_store
from views import manager as manager_pages


class StreamlitPage:
    """A Playwright page showing the app, driven by visible labels only.

    ``step_timeout_ms`` bounds each wait (a subclass sets its own: the machine is shared).
    """

    step_timeout_ms = 60_000

    def __init__(self, page: Any) -> None:
        self.page = page

    def settle(self) -> None:
        """Wait until Streamlit has finished the rerun a click or an entry started."""
        self.page.wait_for_timeout(300)
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.getAttribute('data-test-script-state') === 'notRunning'
                    && !document.querySelector('[data-testid="stStatusWidget"]');
            }""",
            timeout=self.step_timeout_ms,
        )

    def see(self, text: str) -> None:
        self.page.get_by_text(text, exact=False).first.wait_for(timeout=self.step_timeout_ms)

    def click(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()
        self.settle()

    def sign_in(self, base_url: str, name: str, password: str, lang: str = "de") -> None:
        """Sign in on the sign-in page and wait for the overview."""
        self.page.goto(f"{base_url}/{manager_pages.SIGNIN_PATH}")
        self.settle()
        self.page.get_by_label(t("manager.signin.name", lang)).fill(name)
        self.page.get_by_label(t("manager.signin.password", lang)).fill(password)
        self.click(t("manager.signin.submit", lang))
        self.page.get_by_role("heading", name=t("manager.overview.title", lang)).first.wait_for(
            timeout=self.step_timeout_ms
        )


def assert_stored(row: Mapping[str, Any], answers: Mapping[str, Any]) -> None:
    """The stored response ``row`` holds every answer of the cleaned ``answers`` dict, in the
    codebook layout (a 0/1 column per chosen option, yes/no as 1/0)."""
    for answer_id, value in answers.items():
        if isinstance(value, list):
            for code in value:
                assert row[f"{answer_id}__{code}"] == 1, answer_id
        elif isinstance(value, bool):
            assert row[answer_id] == int(value), answer_id
        else:
            assert str(row[answer_id]) == str(value), answer_id


def publish(database_url: str, path: Path) -> Questionnaire:
    """Publish the questionnaire file ``path`` in the app's database, as ``setup`` would."""
    questionnaire = load_questionnaire(path)
    with municipality_store(database_url) as store:
        store.publish_questionnaire(questionnaire, path.read_text(encoding="utf-8"))
    return questionnaire
