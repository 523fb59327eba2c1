"""Paper forms keyed in (storage/_keyings.py) on SQLite and PostgreSQL: the first keying of a
double entry kept under a keyed hash, the keyed response stored with its side effects in one
transaction, codes honoured exactly as online, and the progress per batch."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from core import InvalidInput
from storage import (
    CURRENT_VERSION,
    KEYING_TABLES,
    MIGRATIONS,
    NO_BATCH,
    OWNED_TABLES,
    CodeStatus,
    PaperForm,
    QuestionnaireState,
    Store,
    SubmitStatus,
    keyed_forms_table,
    pending_keyings_table,
)
from survey import Questionnaire, keyed_hash, normalise_code
from tests.conftest import StoreFactory
from tests.fixtures import SOURCE_TEXT, full_answers, small_questionnaire

ANSWERS: dict[str, Any] = {"district": "nord", "p_graffiti": 2, "places": [1, 3], "age": 40}


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    opened = store_factory()
    opened.publish_questionnaire(small_questionnaire(access="code"), SOURCE_TEXT)
    return opened


def q() -> Questionnaire:
    return small_questionnaire(access="code")


def token() -> str:
    return secrets.token_urlsafe(16)


def pending_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(pending_keyings_table)).scalar_one()
        )


def problem_keys(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.key for p in error.value.problems]


def test_migration_7_comes_after_the_municipalities_and_its_tables_are_owned() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))
    assert CURRENT_VERSION == 7
    # A pending keying holds answers: it belongs to a municipality like a response does
    # (row-level security on PostgreSQL, the municipality's export).
    for table in KEYING_TABLES:
        assert table in OWNED_TABLES
        assert "municipality" in table.c


def test_a_first_keying_waits_under_a_keyed_hash_and_the_store_deletes_it(store: Store) -> None:
    batch = store.create_codes("befragung", 3, stratum="Nord")
    code = batch.codes[0]
    form = PaperForm(batch.id, code=code.lower())  # typed in any case
    assert store.check_paper_form("befragung", form) is None
    store.save_first_keying(q(), form, ANSWERS)
    pending = store.pending_keying("befragung", PaperForm(batch.id, code=code))
    assert pending is not None
    assert pending.answers == ANSWERS
    assert (pending.batch_id, pending.revision) == (batch.id, "rev-1")
    # Neither the code nor its hash under the codes' or the drafts' key is stored.
    normalised = normalise_code(code)
    assert normalised is not None
    keys = store.database.keys
    with store.engine.connect() as connection:
        [row] = connection.execute(select(pending_keyings_table)).mappings().all()
    assert row["form_key"] == keyed_hash(keys.keying, "befragung", "code", normalised)
    assert row["form_key"] not in {
        keyed_hash(keys.code, "befragung", normalised),
        keyed_hash(keys.draft, "befragung", normalised),
    }
    assert normalised not in str(dict(row))
    # The progress counts it as pending; storing deletes it and counts the keyed form.
    [progress] = store.keying_progress("befragung")
    assert (progress.issued, progress.used, progress.keyed, progress.pending) == (3, 0, 0, 1)
    result = store.store_keyed(q(), form, ANSWERS, language="de", submission_token=token())
    assert result.status is SubmitStatus.STORED
    assert pending_rows(store) == 0
    [progress] = store.keying_progress("befragung")
    assert (progress.used, progress.keyed, progress.pending) == (1, 1, 0)
    frame = store.responses(q())
    assert frame["mode"].tolist() == ["keyed"]
    assert frame["stratum"].tolist() == ["Nord"]
    assert int(frame["places__3"].iloc[0]) == 1


def test_a_used_code_is_refused_as_online(store: Store) -> None:
    batch = store.create_codes("befragung", 2)
    code = batch.codes[0]
    online = store.submit(q(), ANSWERS, language="de", submission_token=token(), code=code)
    assert online.stored
    form = PaperForm(batch.id, code=code)
    with pytest.raises(InvalidInput) as checked:
        store.check_paper_form("befragung", form)
    assert problem_keys(checked) == ["storage.code_status.used"]
    assert checked.value.problems[0].message("de") == CodeStatus.USED.message("de")
    with pytest.raises(InvalidInput) as first:
        store.save_first_keying(q(), form, ANSWERS)
    assert problem_keys(first) == ["storage.code_status.used"]
    result = store.store_keyed(q(), form, ANSWERS, language="de", submission_token=token())
    assert result.status is SubmitStatus.CODE_USED
    assert len(store.responses(q())) == 1
    assert pending_rows(store) == 0


def test_an_unknown_or_other_batchs_code_is_refused(store: Store) -> None:
    first, second = store.create_codes("befragung", 1), store.create_codes("befragung", 1)
    with pytest.raises(InvalidInput) as unknown:
        store.check_paper_form("befragung", PaperForm(first.id, code="2222-3333-4444"))
    assert problem_keys(unknown) == ["storage.code_status.unknown"]
    with pytest.raises(InvalidInput) as malformed:
        store.check_paper_form("befragung", PaperForm(first.id, code="abc"))
    assert problem_keys(malformed) == ["storage.code_status.unknown"]
    other = PaperForm(first.id, code=second.codes[0])
    with pytest.raises(InvalidInput) as wrong_batch:
        store.check_paper_form("befragung", other)
    assert problem_keys(wrong_batch) == ["paper_entry.code_other_batch"]
    assert wrong_batch.value.problems[0].params == {"found": second.id, "expected": first.id}
    with pytest.raises(InvalidInput):
        store.store_keyed(q(), other, ANSWERS, language="de", submission_token=token())
    unknown_result = store.store_keyed(
        q(),
        PaperForm(first.id, code="2222-3333-4444"),
        ANSWERS,
        language="de",
        submission_token=token(),
    )
    assert unknown_result.status is SubmitStatus.CODE_UNKNOWN
    assert len(store.responses(q())) == 0


def test_a_batch_with_codes_needs_the_code(store: Store) -> None:
    batch = store.create_codes("befragung", 1)
    with pytest.raises(InvalidInput) as missing:
        store.check_paper_form("befragung", PaperForm(batch.id))
    assert problem_keys(missing) == ["paper_entry.code_required"]


def test_a_second_first_keying_of_one_form_is_refused(store: Store) -> None:
    batch = store.create_codes("befragung", 1)
    form = PaperForm(batch.id, code=batch.codes[0])
    store.save_first_keying(q(), form, ANSWERS)
    with pytest.raises(InvalidInput) as again:
        store.save_first_keying(q(), form, {"age": 41})
    assert problem_keys(again) == ["paper_entry.already_pending"]
    assert store.discard_keying("befragung", form)
    assert store.pending_keying("befragung", form) is None
    assert not store.discard_keying("befragung", form)


def test_bad_answers_are_refused_before_anything_is_written(store: Store) -> None:
    batch = store.create_codes("befragung", 1)
    form = PaperForm(batch.id, code=batch.codes[0])
    with pytest.raises(InvalidInput) as bad:
        store.save_first_keying(q(), form, {"p_graffiti": 7, "age": 300})
    assert sorted(problem_keys(bad)) == ["answer.too_large", "answer.unknown_option"]
    with pytest.raises(InvalidInput):
        store.store_keyed(q(), form, {"age": 300}, language="de", submission_token=token())
    assert pending_rows(store) == 0
    assert len(store.responses(q())) == 0
    assert store.check_paper_form("befragung", form) is None  # the code is still unused


def test_forms_without_a_code_by_serial_number(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)  # open access
    open_q = small_questionnaire()
    with pytest.raises(InvalidInput) as unidentified:
        store.save_first_keying(open_q, PaperForm(NO_BATCH), ANSWERS)
    assert problem_keys(unidentified) == ["paper_entry.form_unidentified"]
    with pytest.raises(InvalidInput) as bad_serial:
        store.save_first_keying(open_q, PaperForm(NO_BATCH, serial="17/3"), ANSWERS)
    assert problem_keys(bad_serial) == ["paper_entry.bad_serial"]
    form = PaperForm(NO_BATCH, serial=" b-17 ")
    store.save_first_keying(open_q, form, ANSWERS)
    assert store.check_paper_form("befragung", PaperForm(NO_BATCH, serial="B-17")) is not None
    result = store.store_keyed(open_q, form, ANSWERS, language="en", submission_token=token())
    assert result.stored
    # A single entry without any number is stored too (no double entry, nothing to find).
    single = store.store_keyed(
        open_q, PaperForm(NO_BATCH), full_answers(), language="de", submission_token=token()
    )
    assert single.stored
    [progress] = store.keying_progress("befragung")
    assert (progress.batch_id, progress.keyed, progress.pending) == (NO_BATCH, 2, 0)
    frame = store.responses(open_q)
    assert sorted(frame["mode"]) == ["keyed", "keyed"]
    assert pending_rows(store) == 0


def test_keyed_forms_are_accepted_after_the_survey_closed(store: Store) -> None:
    batch = store.create_codes("befragung", 2)
    store.set_state("befragung", QuestionnaireState.CLOSED.value)
    closed_online = store.submit(
        q(), ANSWERS, language="de", submission_token=token(), code=batch.codes[1]
    )
    assert closed_online.status is SubmitStatus.CLOSED
    form = PaperForm(batch.id, code=batch.codes[0])
    result = store.store_keyed(q(), form, ANSWERS, language="de", submission_token=token())
    assert result.stored


def test_a_repeated_token_stores_once(store: Store) -> None:
    batch = store.create_codes("befragung", 1)
    form = PaperForm(batch.id, code=batch.codes[0])
    same = token()
    first = store.store_keyed(q(), form, ANSWERS, language="de", submission_token=same)
    again = store.store_keyed(q(), form, ANSWERS, language="de", submission_token=same)
    assert first.stored
    assert not first.duplicate
    assert again.stored
    assert again.duplicate
    assert len(store.responses(q())) == 1
    with store.engine.connect() as connection:
        assert connection.execute(select(keyed_forms_table.c.stored)).scalar_one() == 1


def test_only_paper_modes_are_keyed(store: Store) -> None:
    batch = store.create_codes("befragung", 1)
    form = PaperForm(batch.id, code=batch.codes[0])
    with pytest.raises(InvalidInput) as web:
        store.store_keyed(q(), form, ANSWERS, language="de", submission_token=token(), mode="web")
    assert problem_keys(web) == ["storage.bad_choice"]
    scanned = store.store_keyed(
        q(), form, ANSWERS, language="de", submission_token=token(), mode="scanned"
    )
    assert scanned.stored
    assert store.responses(q())["mode"].tolist() == ["scanned"]


def test_removing_the_responses_removes_pending_keyings(store: Store) -> None:
    batch = store.create_codes("befragung", 2)
    store.save_first_keying(q(), PaperForm(batch.id, code=batch.codes[0]), ANSWERS)
    store.store_keyed(
        q(),
        PaperForm(batch.id, code=batch.codes[1]),
        ANSWERS,
        language="de",
        submission_token=token(),
    )
    store.remove_responses("befragung")
    assert pending_rows(store) == 0
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(keyed_forms_table)).scalar() == 0
