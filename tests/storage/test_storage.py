"""Storage round trips, codebook layout, codes, drafts, idempotency and bad input, on SQLite
and PostgreSQL (stores from the fixture ``store_factory``)."""

from __future__ import annotations

import secrets
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import DateTime, Time, func, select, text

from core import InvalidInput
from storage import (
    CURRENT_VERSION,
    STORAGE_TABLES,
    CodeStatus,
    QuestionnaireState,
    Store,
    SubmitResult,
    SubmitStatus,
    metadata,
    responses_table,
)
from survey import RESPONSE_META_COLUMNS, Access, latest_date
from tests.conftest import StoreFactory
from tests.fixtures import SOURCE_TEXT, full_answers, municipality_store, small_questionnaire


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    opened = store_factory()
    opened.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    return opened


def token() -> str:
    return secrets.token_urlsafe(16)


def submit(store: Store, answers: dict[str, Any], **kwargs: Any) -> SubmitResult:
    kwargs.setdefault("language", "de")
    kwargs.setdefault("submission_token", token())
    return store.submit(small_questionnaire(), answers, **kwargs)


def response_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(responses_table)).scalar_one()
        )


# --- questionnaires -----------------------------------------------------------------------


def test_publish_is_idempotent_and_keeps_the_source(store: Store) -> None:
    store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    [record] = store.questionnaires()
    assert (record.id, record.revision, record.access, record.state) == (
        "befragung",
        "rev-1",
        Access.OPEN,
        QuestionnaireState.OPEN,
    )
    assert record.title == {"de": "Befragung", "en": "Survey"}
    assert store.questionnaire_source("befragung") == SOURCE_TEXT


def test_a_new_revision_becomes_current_and_old_sources_stay(store: Store) -> None:
    store.set_state("befragung", "closed")
    store.publish_questionnaire(small_questionnaire(revision="rev-2"), "# second\n")
    [record] = store.questionnaires()
    assert record.revision == "rev-2"
    assert record.state is QuestionnaireState.CLOSED  # republishing keeps the state
    assert store.questionnaire_source("befragung") == "# second\n"
    assert store.questionnaire_source("befragung", "rev-1") == SOURCE_TEXT


def test_access_follows_a_new_revision_and_survives_a_restart(store: Store) -> None:
    store.set_access("befragung", Access.CODE)
    store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)  # an app restart
    assert store.questionnaires()[0].access is Access.CODE
    store.publish_questionnaire(small_questionnaire(revision="rev-2"), "# second\n")
    assert store.questionnaires()[0].access is Access.OPEN  # the new file says "open"
    store.publish_questionnaire(small_questionnaire(access="code", revision="rev-3"), "# 3\n")
    assert store.questionnaires()[0].access is Access.CODE


def test_state_and_access_can_be_changed(store: Store) -> None:
    store.set_access("befragung", Access.CODE)
    store.set_state("befragung", "draft")
    [record] = store.questionnaires()
    assert (record.access, record.state) == (Access.CODE, QuestionnaireState.DRAFT)


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda s: s.set_state("befragung", "paused"), "storage.bad_choice"),
        (lambda s: s.set_access("befragung", "everyone"), "storage.bad_choice"),
        (lambda s: s.set_state("nope", "open"), "storage.unknown_questionnaire"),
        (lambda s: s.questionnaire_source("nope"), "storage.unknown_questionnaire"),
        (lambda s: s.questionnaire_source("befragung", "rev-9"), "storage.unknown_revision"),
        (lambda s: s.create_codes("nope", 3), "storage.unknown_questionnaire"),
        (lambda s: s.create_codes("befragung", 0), "storage.bad_count"),
        (lambda s: s.create_codes("befragung", 10_000_001), "storage.bad_count"),
        (
            lambda s: s.publish_questionnaire(small_questionnaire(revision=""), "x"),
            "storage.no_revision",
        ),
    ],
)
def test_bad_management_input_is_reported(store: Store, call: Any, key: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(store)
    assert [p.key for p in raised.value.problems] == [key]
    assert raised.value.render("de")  # renders in German without a missing key


# --- responses ----------------------------------------------------------------------------


def test_round_trip_gives_the_codebook_layout(store: Store) -> None:
    assert submit(store, full_answers(), language="en").stored
    frame = store.responses(small_questionnaire())
    variables = [v.id for v in small_questionnaire().variables()]
    assert list(frame.columns) == [*RESPONSE_META_COLUMNS, *variables]
    row = frame.iloc[0]
    assert row["questionnaire_id"] == "befragung"
    assert row["questionnaire_revision"] == "rev-1"
    assert row["language"] == "en"
    assert row["mode"] == "web"
    assert pd.isna(row["stratum"])
    assert row["submitted_on"] == pd.Timestamp.now().normalize()
    assert row["district"] == "nord"
    assert (row["p_graffiti"], row["p_litter"]) == (3, 9)
    assert (row["places__1"], row["places__2"], row["places__3"]) == (1, 0, 1)
    assert (row["age"], row["hours"], row["victim"]) == (78, 1.5, 1)
    assert (row["when"], row["remarks"]) == ("2026-10-03", "Mehr Licht <bitte>")
    dtypes = {c: str(frame[c].dtype) for c in frame.columns}
    assert dtypes["submitted_on"] == "datetime64[s]"
    assert {dtypes[c] for c in ("p_graffiti", "places__1", "age", "victim")} == {"Int64"}
    assert dtypes["hours"] == "Float64"
    assert {dtypes[c] for c in ("district", "when", "remarks", "response_id")} == {"string"}


def test_unanswered_items_are_missing_and_an_empty_multi_is_all_zero(store: Store) -> None:
    assert submit(store, {"places": [], "victim": False, "age": None, "remarks": "  "}).stored
    row = store.responses(small_questionnaire()).iloc[0]
    assert (row["places__1"], row["places__2"], row["places__3"]) == (0, 0, 0)
    assert row["victim"] == 0
    for missing in ("district", "p_graffiti", "age", "hours", "when", "remarks"):
        assert pd.isna(row[missing]), missing


def test_no_responses_give_an_empty_frame_with_the_columns(store: Store) -> None:
    frame = store.responses(small_questionnaire())
    assert len(frame) == 0
    assert str(frame["age"].dtype) == "Int64"
    assert list(frame.columns)[: len(RESPONSE_META_COLUMNS)] == list(RESPONSE_META_COLUMNS)


def test_paper_mode_and_counts_by_day(store: Store) -> None:
    submit(store, {"age": 40}, mode="paper")
    submit(store, {"age": 41})
    assert sorted(store.responses(small_questionnaire())["mode"]) == ["paper", "web"]
    counts = store.response_counts_by_day("befragung")
    assert list(counts.columns) == ["submitted_on", "responses"]
    assert counts["responses"].tolist() == [2]


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({"unknown": 1}, "answer.unknown_item"),
        ({"consent": 1}, "answer.unknown_item"),  # info items store nothing
        ({"places__1": 1}, "answer.unknown_item"),  # codebook names are not form keys
        ({"p_graffiti": 4}, "answer.unknown_option"),
        ({"p_graffiti": "3"}, "answer.unknown_option"),
        ({"p_graffiti": True}, "answer.unknown_option"),
        ({"p_graffiti": 3.0}, "answer.unknown_option"),
        ({"district": "west"}, "answer.unknown_option"),
        ({"places": 1}, "answer.unknown_option"),
        ({"places": [1, 7]}, "answer.unknown_option"),
        ({"age": "78"}, "answer.not_a_number"),
        ({"age": True}, "answer.not_a_number"),
        ({"hours": float("nan")}, "answer.not_a_number"),
        ({"age": 7.5}, "answer.not_an_integer"),
        ({"age": 111}, "answer.too_large"),
        ({"remarks": 5}, "answer.not_text"),
        ({"remarks": "x" * 51}, "answer.too_long"),
        ({"victim": "ja"}, "answer.not_yes_no"),
        ({"when": "03.10.2026"}, "answer.bad_date"),
        ({"when": "2026-02-30"}, "answer.bad_date"),
        ({"when": "1899-12-31"}, "answer.date_out_of_range"),
        ({"when": "2999-01-01"}, "answer.date_out_of_range"),
    ],
)
def test_bad_answers_are_rejected_and_nothing_is_written(
    store: Store, answers: dict[str, Any], key: str
) -> None:
    the_token = token()
    with pytest.raises(InvalidInput) as raised:
        submit(store, {**full_answers(), **answers}, submission_token=the_token)
    assert [p.key for p in raised.value.problems] == [key]
    assert raised.value.problems[0].location.field == next(iter(answers))
    assert response_count(store) == 0
    # The token was not consumed: the corrected form can still be sent with it.
    assert submit(store, full_answers(), submission_token=the_token) == SubmitResult(
        SubmitStatus.STORED
    )


def test_an_implausible_date_in_a_paper_import_is_reported_with_its_row(store: Store) -> None:
    frame = pd.DataFrame({"when": ["2026-10-03", "0001-01-01", str(latest_date())]})
    with pytest.raises(InvalidInput) as raised:
        store.import_responses(small_questionnaire(), frame, source="papier.csv")
    assert [(p.location.row, p.location.field, p.key) for p in raised.value.problems] == [
        (3, "when", "answer.date_out_of_range")
    ]
    message = raised.value.render("de")
    assert message.startswith("papier.csv: Zeile 3: Fehler: when: ")
    assert "0001-01-01" in message
    assert "01.01.1900" in message  # the plausible range, in the current language
    assert response_count(store) == 0


def test_all_problems_are_reported_together(store: Store) -> None:
    with pytest.raises(InvalidInput) as raised:
        submit(store, {"age": "x", "victim": 3}, language="fr", mode="phone", submission_token="s")
    assert sorted(p.location.field or "" for p in raised.value.problems) == [
        "age",
        "language",
        "mode",
        "submission_token",
        "victim",
    ]
    assert response_count(store) == 0


def test_an_unpublished_revision_is_rejected(store: Store) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.submit(
            small_questionnaire(revision="rev-unpublished"),
            full_answers(),
            language="de",
            submission_token=token(),
        )
    assert [p.key for p in raised.value.problems] == ["storage.unknown_revision"]
    assert response_count(store) == 0


def test_a_closed_questionnaire_takes_no_responses(store: Store) -> None:
    store.set_state("befragung", "closed")
    result = submit(store, full_answers())
    assert result.status is SubmitStatus.CLOSED
    assert result.message("de")
    assert result.message("en")
    assert response_count(store) == 0


def test_the_same_token_twice_stores_one_response(store: Store) -> None:
    the_token = token()
    first = submit(store, full_answers(), submission_token=the_token)
    again = submit(store, full_answers(), submission_token=the_token)
    assert first == SubmitResult(SubmitStatus.STORED)
    assert again == SubmitResult(SubmitStatus.STORED, duplicate=True)
    assert response_count(store) == 1


def test_tokens_are_stored_only_as_hashes(store: Store) -> None:
    the_token = token()
    submit(store, full_answers(), submission_token=the_token)
    assert the_token not in dump_database(store)


# --- access codes -------------------------------------------------------------------------


def test_a_code_submits_once_and_carries_its_stratum(store: Store) -> None:
    store.set_access("befragung", Access.CODE)
    [code] = store.create_codes("befragung", 1, stratum="Nord-Ost").codes
    assert store.check_code("befragung", code) is CodeStatus.VALID
    assert submit(store, full_answers()).status is SubmitStatus.CODE_REQUIRED
    assert submit(store, full_answers(), code=code.lower()).stored
    assert store.check_code("befragung", code) is CodeStatus.USED
    assert submit(store, full_answers(), code=code).status is SubmitStatus.CODE_USED
    frame = store.responses(small_questionnaire())
    assert frame["stratum"].tolist() == ["Nord-Ost"]
    [batch] = store.code_batches("befragung")
    assert (batch.stratum, batch.issued, batch.used) == ("Nord-Ost", 1, 1)


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKMN", "0000-0000-0000", "too short", ""])
def test_unknown_or_malformed_codes_are_refused(store: Store, typed: str) -> None:
    store.create_codes("befragung", 2)
    assert store.check_code("befragung", typed) is CodeStatus.UNKNOWN
    assert submit(store, full_answers(), code=typed).status is SubmitStatus.CODE_UNKNOWN
    assert response_count(store) == 0


def test_a_code_belongs_to_its_questionnaire(store: Store) -> None:
    other = small_questionnaire(qid="zweite")
    store.publish_questionnaire(other, SOURCE_TEXT)
    [code] = store.create_codes("zweite", 1).codes
    assert store.check_code("befragung", code) is CodeStatus.UNKNOWN
    assert store.check_code("zweite", code) is CodeStatus.VALID


def test_code_batches_count_issued_and_used(store: Store) -> None:
    first = store.create_codes("befragung", 3, stratum="Nord")
    store.create_codes("befragung", 2)
    submit(store, full_answers(), code=first.codes[0])
    summaries = {s.id: s for s in store.code_batches("befragung")}
    assert summaries[first.id].used == 1
    assert sorted((s.issued, s.used) for s in summaries.values()) == [(2, 0), (3, 1)]


def test_codes_are_stored_only_as_hashes_and_never_linked_to_a_response(store: Store) -> None:
    codes = store.create_codes("befragung", 5).codes
    store.save_draft("befragung", codes[0], {"age": 33}, 1)
    submit(store, full_answers(), code=codes[0])
    dump = dump_database(store)
    for code in codes:
        assert code not in dump
        assert code.replace("-", "") not in dump
    response_columns = {c.name for c in responses_table.columns}
    assert not {"code", "code_hash", "batch_id", "draft_key"} & response_columns


def test_no_table_stores_a_time() -> None:
    for table in STORAGE_TABLES:
        for column in table.columns:
            assert not isinstance(column.type, DateTime | Time), f"{table.name}.{column.name}"
            # By word: "ip" as a substring would also be "municipality" or "recipient".
            words = column.name.split("_")
            assert not any(word in words for word in ("at", "time", "ip", "agent")), column.name
            assert not any(word in column.name for word in ("time", "agent", "address"))


# --- drafts -------------------------------------------------------------------------------


def test_a_draft_resumes_on_another_device_and_is_deleted_by_the_submission(store: Store) -> None:
    [code] = store.create_codes("befragung", 1).codes
    assert store.load_draft("befragung", code) is None
    store.save_draft("befragung", code, {"age": 30, "places": [2]}, 1)
    store.save_draft("befragung", code, {"age": 31, "places": [2, 3], "when": None}, 2)
    typed_elsewhere = " " + code.lower().replace("-", "") + " "
    draft = store.load_draft("befragung", typed_elsewhere)
    assert draft is not None
    assert (draft.answers, draft.page) == ({"age": 31, "places": [2, 3]}, 2)
    assert submit(store, {**draft.answers, "victim": False}, code=code).stored
    assert store.load_draft("befragung", code) is None
    with store.engine.connect() as connection:
        assert connection.execute(text("select count(*) from drafts")).scalar_one() == 0


def test_closing_a_questionnaire_deletes_its_unfinished_drafts(store: Store) -> None:
    [code] = store.create_codes("befragung", 1).codes
    store.save_draft("befragung", code, {"age": 30}, 1)
    store.set_state("befragung", "open")
    assert store.load_draft("befragung", code) is not None
    store.set_state("befragung", "closed")
    assert store.load_draft("befragung", code) is None
    with store.engine.connect() as connection:
        assert connection.execute(text("select count(*) from drafts")).scalar_one() == 0


def test_a_draft_checked_against_the_questionnaire(store: Store) -> None:
    [code] = store.create_codes("befragung", 1).codes
    with pytest.raises(InvalidInput) as raised:
        store.save_draft("befragung", code, {"age": 300}, 1, questionnaire=small_questionnaire())
    assert [p.key for p in raised.value.problems] == ["answer.too_large"]
    store.save_draft("befragung", code, {"age": 30}, 1, questionnaire=small_questionnaire())
    draft = store.load_draft("befragung", code)
    assert draft is not None
    assert draft.answers == {"age": 30}


@pytest.mark.parametrize(
    ("code_kind", "answers", "page", "key"),
    [
        ("unknown", {"age": 1}, 0, "storage.code_status.unknown"),
        ("malformed", {"age": 1}, 0, "storage.code_status.unknown"),
        ("used", {"age": 1}, 0, "storage.code_status.used"),
        ("valid", {"age": {"nested": 1}}, 0, "storage.answer.not_storable"),
        ("valid", {"age": 1}, -1, "storage.bad_page"),
        ("valid", {"remarks": "x" * 300_000}, 0, "storage.draft_too_large"),
    ],
)
def test_bad_drafts_are_rejected_and_nothing_is_written(
    store: Store, code_kind: str, answers: dict[str, Any], page: int, key: str
) -> None:
    valid, used = store.create_codes("befragung", 2).codes
    submit(store, full_answers(), code=used)
    code = {
        "unknown": "ABCD-EFGH-JKMN",
        "malformed": "nope",
        "used": used,
        "valid": valid,
    }[code_kind]
    with pytest.raises(InvalidInput) as raised:
        store.save_draft("befragung", code, answers, page)
    assert [p.key for p in raised.value.problems] == [key]
    with store.engine.connect() as connection:
        assert connection.execute(text("select count(*) from drafts")).scalar_one() == 0


# --- schema -------------------------------------------------------------------------------


def test_schema_is_versioned_and_reopening_keeps_data(store_factory: StoreFactory) -> None:
    with store_factory() as first:
        first.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
        code_status = first.check_code
        [code] = first.create_codes("befragung", 1).codes
        assert code_status("befragung", code) is CodeStatus.VALID
    with store_factory() as second:
        with second.engine.connect() as connection:
            versions = connection.execute(text("select version from schema_version")).all()
        assert versions == [(CURRENT_VERSION,)]
        # The installation keys survive a restart, so stored code hashes still match.
        assert second.check_code("befragung", code) is CodeStatus.VALID


def test_every_status_has_a_message_in_both_languages() -> None:
    for status in SubmitStatus:
        for lang in ("de", "en"):
            assert SubmitResult(status).message(lang)
    for code_status in CodeStatus:
        assert code_status.message("de") != code_status.message("en")


def dump_database(store: Store) -> str:
    """Every stored value of the storage tables as one text, to search for plaintext."""
    parts: list[str] = []
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table in STORAGE_TABLES:
                for row in connection.execute(select(table)):
                    parts.extend(str(value) for value in row)
    return "\n".join(parts)


# --- reading back -------------------------------------------------------------------------


def test_a_later_read_adds_new_responses_like_a_fresh_read(
    store: Store, store_factory: StoreFactory
) -> None:
    for age in (20, 30):
        submit(store, {**full_answers(), "age": age})
    first = store.responses(small_questionnaire())
    first["age"] = 0  # the caller's copy: must not leak into the store's cache
    for age in (40, 50, 60):
        submit(store, {**full_answers(), "age": age})
    again = store.responses(small_questionnaire())
    with store_factory() as fresh:
        pd.testing.assert_frame_equal(again, fresh.responses(small_questionnaire()))
    assert sorted(again["age"].tolist()) == [20, 30, 40, 50, 60]


def test_the_general_reader_gives_the_same_frame(store: Store) -> None:
    from storage._answers import answer_layout
    from storage._response_frames import frame_from_rows

    for age in (20, 30, 40):
        submit(store, {**full_answers(), "age": age, "places": [2]}, mode="paper")
    submit(store, {"remarks": 'Ein "Zitat", mit Komma\nund Zeile'})
    submit(store, {})  # nothing answered: stored as an empty object
    with store.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(select(responses_table))]
    general = frame_from_rows(rows, answer_layout(small_questionnaire()))
    pd.testing.assert_frame_equal(store.responses(small_questionnaire()), general)


def test_a_variable_whose_type_changed_between_revisions_keeps_every_value(
    store: Store,
) -> None:
    submit(store, {"district": "nord"})
    second = small_questionnaire(revision="rev-2").model_dump(by_alias=True)
    second["sections"][0]["items"][1]["options"] = [
        {"code": 1, "label": {"de": "Nord"}},
        {"code": 2, "label": {"de": "Süd"}},
    ]
    from survey import Questionnaire

    revised = Questionnaire.model_validate(second)
    store.publish_questionnaire(revised, "# rev-2\n", new_version=True)
    store.submit(revised, {"district": 2}, language="de", submission_token=token())
    frame = store.responses(revised)
    assert sorted(frame["district"].tolist()) == ["2", "nord"]


def test_the_storage_logs_nothing(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="survey")
    [code] = store.create_codes("befragung", 1).codes
    store.save_draft("befragung", code, {"age": 40}, 1)
    submit(store, full_answers(), code=code)
    store.responses(small_questionnaire())
    assert [r for r in caplog.records if r.name.startswith("survey")] == []


def test_sqlite_row_order_does_not_follow_submission_order(sqlite_url: str) -> None:
    with municipality_store(sqlite_url) as opened, opened.engine.connect() as connection:
        for table in ("responses", "submission_tokens"):
            sql = connection.execute(
                text("select sql from sqlite_master where name = :t"), {"t": table}
            ).scalar_one()
            assert "WITHOUT ROWID" in sql


def test_pending_migrations_run_once_in_order(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage._schema as schema

    store_factory().close()  # an installation at the current version
    applied: list[int] = []

    def step(version: int) -> schema.Migration:
        def apply(connection: Any) -> None:
            applied.append(version)
            connection.execute(text(f"CREATE TABLE migration_probe_{version} (x INTEGER)"))

        return schema.Migration(version, f"probe {version}", apply)

    later = (*schema.MIGRATIONS, step(CURRENT_VERSION + 1), step(CURRENT_VERSION + 2))
    monkeypatch.setattr(schema, "MIGRATIONS", later)
    for _ in range(2):  # the second start finds nothing left to do
        with store_factory() as upgraded, upgraded.engine.connect() as connection:
            version = connection.execute(text("select version from schema_version")).scalar_one()
            assert version == CURRENT_VERSION + 2
    assert applied == [CURRENT_VERSION + 1, CURRENT_VERSION + 2]


def test_wrong_codes_of_every_session_pause_code_checks_for_the_rest_of_the_minute() -> None:
    from storage._codes import WRONG_CODES_PER_MINUTE, WrongCodeLimiter

    now = [1000.0]
    limiter = WrongCodeLimiter(clock=lambda: now[0])
    for _ in range(WRONG_CODES_PER_MINUTE - 1):
        limiter.record_failure("befragung")
    assert limiter.wait("befragung") == 0.0
    limiter.record_failure("befragung")
    now[0] += 10
    assert limiter.wait("befragung") == pytest.approx(50.0)
    assert limiter.wait("andere") == 0.0  # per questionnaire
    now[0] += 50
    assert limiter.wait("befragung") == 0.0
