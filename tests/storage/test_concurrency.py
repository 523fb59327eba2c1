"""Concurrent submissions on both engines: nothing lost, nothing doubled, a code used once."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import pytest

from core import InvalidInput
from storage import Store, SubmitStatus
from tests.conftest import StoreFactory
from tests.fixtures import SOURCE_TEXT, full_answers, municipality_store, small_questionnaire

THREADS = 8
PER_THREAD = 250


@pytest.fixture(params=[True, False], ids=["group-commit", "direct"])
def store(store_factory: StoreFactory, request: pytest.FixtureRequest) -> Store:
    opened = store_factory(group_commit=request.param)
    opened.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    return opened


def run_threads(work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * THREADS
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def runner(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_eight_writers_lose_nothing(store: Store) -> None:
    questionnaire = small_questionnaire()

    def writer(index: int) -> list[SubmitStatus]:
        return [
            store.submit(
                questionnaire,
                {**full_answers(), "age": 20 + index, "p_graffiti": 1 + n % 3},
                language="de",
                submission_token=secrets.token_urlsafe(16),
            ).status
            for n in range(PER_THREAD)
        ]

    statuses = [s for per_thread in run_threads(writer) for s in per_thread]
    assert statuses == [SubmitStatus.STORED] * THREADS * PER_THREAD
    frame = store.responses(questionnaire)
    assert len(frame) == THREADS * PER_THREAD
    assert frame["response_id"].is_unique
    assert frame.groupby("age").size().tolist() == [PER_THREAD] * THREADS


def test_eight_threads_racing_one_code_give_one_response(store: Store) -> None:
    questionnaire = small_questionnaire()
    [code] = store.create_codes(questionnaire.id, 1).codes
    store.save_draft(questionnaire.id, code, {"age": 50}, 1)

    def racer(_index: int) -> SubmitStatus:
        return store.submit(
            questionnaire,
            full_answers(),
            language="de",
            submission_token=secrets.token_urlsafe(16),
            code=code,
        ).status

    statuses = run_threads(racer)
    assert sorted(statuses) == sorted(
        [SubmitStatus.STORED] + [SubmitStatus.CODE_USED] * (THREADS - 1)
    )
    assert len(store.responses(questionnaire)) == 1
    assert store.load_draft(questionnaire.id, code) is None


def test_a_double_click_from_eight_threads_stores_once(store: Store) -> None:
    questionnaire = small_questionnaire()
    the_token = secrets.token_urlsafe(16)

    def clicker(_index: int) -> tuple[SubmitStatus, bool]:
        result = store.submit(
            questionnaire, full_answers(), language="de", submission_token=the_token
        )
        return result.status, result.duplicate

    results = run_threads(clicker)
    assert {status for status, _ in results} == {SubmitStatus.STORED}
    assert sorted(duplicate for _, duplicate in results) == [False] + [True] * (THREADS - 1)
    assert len(store.responses(questionnaire)) == 1


def test_a_failing_unit_in_a_group_commit_does_not_take_the_others_down(sqlite_url: str) -> None:
    from sqlalchemy import Connection, func, select

    from storage import submission_tokens_table
    from storage._engine import PendingWrites

    with municipality_store(sqlite_url, group_commit=True) as store:
        committer = store.database.committer
        assert committer is not None

        def unit(index: int) -> Any:
            def run(connection: Connection, pending: PendingWrites) -> int:
                if index == 3:
                    raise RuntimeError("this unit breaks")
                pending.token_hashes.add(f"token-{index}")
                return index

            return run

        def caller(index: int) -> Any:
            try:
                return committer.run(unit(index))
            except RuntimeError as error:
                return str(error)

        results = run_threads(caller)
        assert sorted(map(str, results)) == sorted(
            [str(i) for i in range(THREADS) if i != 3] + ["this unit breaks"]
        )
        with store.engine.connect() as connection:
            stored = connection.execute(
                select(func.count()).select_from(submission_tokens_table)
            ).scalar_one()
        assert stored == THREADS - 1


def test_stores_starting_at_once_on_an_empty_database_agree(store_factory: StoreFactory) -> None:
    def start(_index: int) -> object:
        with store_factory() as opened:
            opened.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
            return opened.database.keys

    hashes = run_threads(start)
    assert len(set(hashes)) == 1


def test_drafts_saved_while_the_code_submits_never_outlive_the_submission(
    store: Store,
) -> None:
    questionnaire = small_questionnaire()
    [code] = store.create_codes(questionnaire.id, 1).codes

    def tab(index: int) -> str:
        if index == 0:
            return store.submit(
                questionnaire,
                full_answers(),
                language="de",
                submission_token=secrets.token_urlsafe(16),
                code=code,
            ).status.value
        try:
            for page in range(20):
                store.save_draft(questionnaire.id, code, {"age": 30 + index}, page)
        except InvalidInput as refused:  # the code was used meanwhile
            return refused.problems[0].key
        return "saved"

    outcomes = run_threads(tab)
    assert outcomes[0] == "stored"
    assert set(outcomes[1:]) <= {"saved", "storage.code_status.used"}
    if store.load_draft(questionnaire.id, code) is not None:
        # Only a draft saved completely before the submission could remain — and the
        # submission deletes it, so none may be left at all.
        pytest.fail("a draft outlived the submission of its code")


def test_a_double_click_with_a_code_stores_once_and_never_reports_the_code_used(
    store: Store,
) -> None:
    questionnaire = small_questionnaire()
    [code] = store.create_codes(questionnaire.id, 1).codes
    the_token = secrets.token_urlsafe(16)

    def clicker(_index: int) -> tuple[SubmitStatus, bool]:
        result = store.submit(
            questionnaire, full_answers(), language="de", submission_token=the_token, code=code
        )
        return result.status, result.duplicate

    results = run_threads(clicker)
    assert {status for status, _ in results} == {SubmitStatus.STORED}
    assert sorted(duplicate for _, duplicate in results) == [False] + [True] * (THREADS - 1)
    assert len(store.responses(questionnaire)) == 1
