"""The bad-input rules for questionnaire uploads (the overview page and ``questionnaire
publish`` share them): every problem located, and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import (
    PublishStatus,
    default_survey_beside_others,
    plan_publication,
    publish_questionnaire_text,
    questionnaire_text,
)
from core import InvalidInput
from storage import QuestionnaireState, Store
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"
TOWN = FIXTURE.read_text(encoding="utf-8")


@pytest.fixture
def store(sqlite_url: str) -> Store:
    return municipality_store(sqlite_url)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"meta:\n  id: \xff\xfe\n", "publishing.page.not_utf8"),
        (b"#" * (3 * 1024 * 1024), "publishing.page.too_large"),
    ],
)
def test_an_unreadable_upload_is_refused_with_its_file(data: bytes, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        questionnaire_text(data, "upload.yaml")
    assert [(p.location.file, p.key) for p in refused.value.problems] == [("upload.yaml", key)]


@pytest.mark.parametrize(
    "broken",
    [
        TOWN.replace("kind: number", "kind: numbr"),  # an unknown kind
        TOWN.replace("  title: {de: Kleinstadt", "  title: [de: Kleinstadt"),  # YAML syntax
        TOWN.replace("    deadline: 2026-12-31", "    deadline: bald"),  # a bad letter date
        "",  # an empty file
    ],
)
def test_a_broken_upload_has_located_problems_and_changes_nothing(
    store: Store, broken: str
) -> None:
    with store:
        plan = plan_publication(store, broken, "kleinstadt.yaml")
        assert plan.errors
        assert plan.status is None
        assert all(p.location.file == "kleinstadt.yaml" for p in plan.errors)
        assert all(p.location.line is not None for p in plan.errors)
        with pytest.raises(InvalidInput):
            publish_questionnaire_text(store, broken, "kleinstadt.yaml")
        assert store.questionnaires() == []


def test_plans_new_unchanged_and_the_default_beside_the_town(store: Store) -> None:
    with store:
        default = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
        publish_questionnaire_text(
            store, default, "default.yaml", initial_state=QuestionnaireState.OPEN
        )
        assert plan_publication(store, TOWN, "k.yaml").status is PublishStatus.NEW
        publish_questionnaire_text(store, TOWN, "k.yaml")
        assert plan_publication(store, TOWN, "k.yaml").status is PublishStatus.UNCHANGED
        assert not default_survey_beside_others(store)  # the town's survey is a draft
        store.set_state("kleinstadt", "open")
        assert default_survey_beside_others(store)
