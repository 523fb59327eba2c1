"""The storage's publishing rule (no changed revision over responses unless as a new
version) and the preview's test answers (kept apart from the responses), on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core import InvalidInput
from storage import QuestionnaireState, responses_table, test_responses_table
from survey import load_questionnaire_text
from tests.conftest import StoreFactory

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"


def texts() -> tuple[str, str]:
    first = FIXTURE.read_text(encoding="utf-8")
    return first, first.replace("id: years_lived", "id: years_here")


def test_a_changed_revision_over_responses_is_refused_unless_a_new_version(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    first, second = texts()
    q1, q2 = load_questionnaire_text(first), load_questionnaire_text(second)
    store.publish_questionnaire(q1, first)
    store.publish_questionnaire(q2, second)  # no responses yet: a plain new revision
    store.publish_questionnaire(q1, first)
    assert store.submit(q1, {"safe_night": 1}, language="de", submission_token="r" * 20).stored
    third = second.replace("Finally", "At last")
    for changed, source in ((q2, second), (load_questionnaire_text(third), third)):
        with pytest.raises(InvalidInput) as refused:  # an earlier revision back, or a new one
            store.publish_questionnaire(changed, source)
        assert [p.key for p in refused.value.problems] == ["storage.publish.has_responses"]
    store.publish_questionnaire(q1, first)  # the current one again: a no-op, always allowed
    record = store.questionnaire(q1.id)
    assert record is not None
    assert record.revision == q1.revision
    store.publish_questionnaire(load_questionnaire_text(third), third, new_version=True)
    record = store.questionnaire(q1.id)
    assert record is not None
    assert record.revision == load_questionnaire_text(third).revision


def test_test_answers_are_stored_apart_and_never_read_as_responses(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    text, _ = texts()
    questionnaire = load_questionnaire_text(text)
    store.publish_questionnaire(questionnaire, text, initial_state=QuestionnaireState.DRAFT)
    # A draft cannot be answered by residents, but the manager may try it.
    store.submit_test(questionnaire, {"safe_night": 3, "remarks": "Probe"}, language="de")
    with pytest.raises(InvalidInput):
        store.submit_test(questionnaire, {"safe_night": 7}, language="de")
    assert store.test_response_count(questionnaire.id) == 1
    assert len(store.responses(questionnaire)) == 0
    assert len(store.response_counts_by_day(questionnaire.id)) == 0
    with store.engine.connect() as connection:
        assert connection.execute(select(responses_table.c.id)).all() == []
        stored = connection.execute(select(test_responses_table)).one()
    assert stored.questionnaire_revision == questionnaire.revision
    assert '"safe_night":3' in stored.answers
    # Test answers do not count as responses for the publishing rule either.
    _, second = texts()
    store.publish_questionnaire(load_questionnaire_text(second), second)
    store.remove_responses(questionnaire.id)
    assert store.test_response_count(questionnaire.id) == 0
