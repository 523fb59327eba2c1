"""Setup of an installation, the demo municipality, and the bulk import of responses."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect, text

from app import (
    DEMO,
    DEMO_QUESTIONNAIRE_ID,
    DEMO_SOURCE,
    demo_data,
    demo_questionnaire,
    reset_demo,
    seed_demo,
    setup_installation,
    synthetic_responses,
)
from core import ImportResult, InvalidInput
from reporting import responses_csv, responses_xlsx
from sources import read_response_table
from storage import (
    CURRENT_VERSION,
    MIGRATIONS,
    Accounts,
    DatasetKind,
    Datasets,
    QuestionnaireState,
    Store,
    make_engine,
    schema_version_table,
)
from survey import Questionnaire, load_action_fields, load_questionnaire
from tests.conftest import ACTION_FIELDS, DEFAULT_QUESTIONNAIRE, QUESTIONNAIRES, StoreFactory
from tests.fixtures import municipality_store


def canonical(frame: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """The responses as comparable text, in an order that does not depend on random ids."""
    columns = ["language", "stratum", *(v.id for v in questionnaire.variables())]
    out = frame[columns].astype("string").fillna("<NA>")
    out.insert(0, "submitted_on", pd.to_datetime(frame["submitted_on"]).dt.strftime("%Y-%m-%d"))
    return out.sort_values(list(out.columns), ignore_index=True)


def demo_datasets(url: str) -> list[tuple[DatasetKind, tuple[int, ...], int]]:
    with municipality_store(url) as store:
        listed = Datasets(store.engine, DEMO.ags).list()
    return sorted((s.kind, s.years, s.row_count) for s in listed if s.source == DEMO_SOURCE)


@pytest.fixture
def default_questionnaire() -> Questionnaire:
    return load_questionnaire(DEFAULT_QUESTIONNAIRE)


# --- setup ------------------------------------------------------------------------------------


def test_first_setup_prints_a_password_once_and_seeds_the_demo(
    database_url: str, store_factory: StoreFactory
) -> None:
    municipality_store(database_url).close()  # the questionnaires are the test town's
    first = setup_installation(database_url, questionnaires=QUESTIONNAIRES)
    assert first.admin_password is not None
    assert [p.id for p in first.published] == ["sicherheitsbefragung"]
    assert first.skipped == []
    assert first.demo_seeded is not None
    assert first.demo_present
    assert first.demo_seeded.responses == DEMO.responses == 800
    assert first.demo_seeded.incident_years == (2023, 2024, 2025)
    assert first.demo_seeded.margin_rows > 0
    with Accounts(database_url) as accounts:
        assert accounts.verify("admin", first.admin_password).ok

    second = setup_installation(database_url, questionnaires=QUESTIONNAIRES)
    assert second.admin_password is None
    assert second.demo_seeded is None
    assert second.demo_present
    assert second.schema_version == CURRENT_VERSION

    with store_factory() as town:
        store = town.for_municipality(DEMO.ags)  # the demo is its own municipality
        records = {r.id: r for r in town.questionnaires() + store.questionnaires()}
        assert records["sicherheitsbefragung"].state is QuestionnaireState.OPEN
        demo = records[DEMO_QUESTIONNAIRE_ID]
        # Residents never see the demo; its title says what it is.
        assert demo.state is QuestionnaireState.CLOSED
        assert "DEMO" in demo.title["de"]
        assert "DEMO" in demo.title["en"]
        questionnaire = demo_questionnaire()
        assert questionnaire.meta.municipality == DEMO.name
        responses = store.responses(questionnaire)
        datasets = Datasets(store.engine, store.municipality)
        population = datasets.combined(DatasetKind.POPULATION)
        incidents = datasets.combined(DatasetKind.INCIDENTS)
    assert len(responses) == 800  # the second setup added nothing
    assert responses["district"].nunique() == 6
    assert incidents is not None
    assert set(incidents.table["year"]) == {2023, 2024, 2025}
    assert population is not None
    assert population.margins is not None
    assert {"sex", "age_group"} <= set(population.margins.columns)
    assert len(demo_datasets(database_url)) == 2


def test_broken_questionnaire_is_reported_and_skipped(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(DEFAULT_QUESTIONNAIRE, folder)
    shutil.copy(ACTION_FIELDS, folder)
    (folder / "kaputt.yaml").write_text("meta:\n  id: kaputt\nsections: [\n", encoding="utf-8")
    municipality_store(sqlite_url).close()
    report = setup_installation(sqlite_url, questionnaires=folder, demo=False)
    assert [p.id for p in report.published] == ["sicherheitsbefragung"]
    assert [s.path.name for s in report.skipped] == ["kaputt.yaml"]
    assert report.skipped[0].problems
    assert not report.demo_present
    assert report.demo_seeded is None
    with municipality_store(sqlite_url) as store:
        assert [r.id for r in store.questionnaires()] == ["sicherheitsbefragung"]


def test_setup_migrates_a_version_1_database(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        MIGRATIONS[0].apply(connection)
        schema_version_table.create(connection)
        connection.execute(schema_version_table.insert().values(id=1, version=1))
    assert "datasets" not in inspect(engine).get_table_names()
    engine.dispose()
    setup_installation(sqlite_url, questionnaires=QUESTIONNAIRES, demo=False)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("select version from schema_version")).all() == [
            (CURRENT_VERSION,)
        ]
    assert {"datasets", "users", "sign_in_throttle"} <= set(inspect(engine).get_table_names())
    indexes = {i["name"] for i in inspect(engine).get_indexes("responses")}
    assert "ix_responses_questionnaire_day" in indexes
    engine.dispose()


def test_demo_reset_restores_exactly_and_leaves_other_data_alone(
    database_url: str,
    store_factory: StoreFactory,
    default_questionnaire: Questionnaire,
    rng: np.random.Generator,
) -> None:
    municipality_store(database_url).close()
    setup_installation(database_url, questionnaires=QUESTIONNAIRES)
    questionnaire = demo_questionnaire()
    other = synthetic_responses(default_questionnaire, 7, rng)
    with store_factory() as town:
        store = town.for_municipality(DEMO.ags)
        seeded = store.responses(questionnaire)
        before = canonical(seeded, questionnaire)
        datasets_before = demo_datasets(database_url)
        # The manager plays with the demo, and has real data of their own.
        store.import_responses(questionnaire, seeded.head(3).assign(submitted_on=None))
        store.create_codes(DEMO_QUESTIONNAIRE_ID, 5)
        town.import_responses(default_questionnaire, other)
        datasets = Datasets(store.engine, store.municipality)
        demo_ids = [s.id for s in datasets.list() if s.source == DEMO_SOURCE]
        datasets.delete(demo_ids[0])
        own = datasets.list()
    assert len(own) == 1
    summary = reset_demo(database_url)
    assert summary.responses == 800
    with store_factory() as town:
        store = town.for_municipality(DEMO.ags)
        after = canonical(store.responses(questionnaire), questionnaire)
        assert store.code_batches(DEMO_QUESTIONNAIRE_ID) == []
        kept = town.responses(default_questionnaire)
    pd.testing.assert_frame_equal(after, before)
    assert demo_datasets(database_url) == datasets_before
    assert len(kept) == 7
    pd.testing.assert_frame_equal(
        canonical(kept, default_questionnaire), canonical(other, default_questionnaire)
    )


def test_demo_reset_leaves_non_demo_datasets(sqlite_url: str) -> None:
    setup_installation(sqlite_url, questionnaires=QUESTIONNAIRES)
    with municipality_store(sqlite_url) as store:
        datasets = Datasets(store.engine, DEMO.ags)
        demo_population = next(
            s for s in datasets.list(DatasetKind.POPULATION) if s.source == DEMO_SOURCE
        )
        loaded = datasets.load(demo_population.id)
    with municipality_store(sqlite_url) as store:
        Datasets(store.engine, DEMO.ags).save(
            DatasetKind.POPULATION,
            ImportResult(table=loaded.table, layout="tidy"),
            source="own.csv",
        )
    reset_demo(sqlite_url)
    with municipality_store(sqlite_url) as store:
        sources = sorted(s.source for s in Datasets(store.engine, DEMO.ags).list())
    assert sources == sorted([DEMO_SOURCE, DEMO_SOURCE, "own.csv"])


def test_the_open_demo_and_the_installation_demo_live_side_by_side(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    installation = seed_demo(store, responses=40)
    open_demo = seed_demo(store, closed_copy=False, responses=30, incidents=False)
    assert (installation.questionnaire_id, installation.responses) == (DEMO_QUESTIONNAIRE_ID, 40)
    assert (open_demo.questionnaire_id, open_demo.responses) == ("sicherheitsbefragung", 30)
    assert open_demo.incident_years == ()
    assert open_demo.population_years == installation.population_years
    demo = store.for_municipality(DEMO.ags)  # the installation demo is its own municipality
    assert {r.id: r.state for r in demo.questionnaires()} == {
        DEMO_QUESTIONNAIRE_ID: QuestionnaireState.CLOSED
    }
    assert {r.id: r.state for r in store.questionnaires()} == {
        "sicherheitsbefragung": QuestionnaireState.OPEN
    }
    # The open demo's datasets look uploaded and are the town's: the demo's stay apart.
    assert sorted(s.source for s in Datasets(store.engine, DEMO.ags).list()) == sorted(
        [DEMO_SOURCE, DEMO_SOURCE]
    )
    assert [s.source for s in Datasets(store.engine, store.municipality).list()] == [
        "bevoelkerung.csv"
    ]
    assert len(store.responses(open_demo.questionnaire)) == 30


# --- import_responses -------------------------------------------------------------------------


def published(url: str, questionnaire: Questionnaire) -> Store:
    store = municipality_store(url)
    store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
    return store


def test_import_round_trips_the_codebook_layout(
    database_url: str, default_questionnaire: Questionnaire
) -> None:
    frame = demo_data(default_questionnaire, load_action_fields()).responses.head(120)
    frame = frame.assign(stratum=["nord" if i % 2 else None for i in range(len(frame))])
    with published(database_url, default_questionnaire) as store:
        assert store.import_responses(default_questionnaire, frame) == 120
        stored = store.responses(default_questionnaire)
    assert set(stored["mode"]) == {"paper"}
    pd.testing.assert_frame_equal(
        canonical(stored, default_questionnaire), canonical(frame, default_questionnaire)
    )


def test_import_reads_text_cells_as_a_file_gives_them(
    sqlite_url: str, default_questionnaire: Questionnaire
) -> None:
    frame = demo_data(default_questionnaire, load_action_fields()).responses.head(40)
    for export, name in ((responses_csv(frame), "antworten.csv"),):
        cells, rows, _header = read_response_table(io.BytesIO(export), filename=name)
        assert rows == list(range(2, 42))
        with published(sqlite_url, default_questionnaire) as store:
            assert store.import_responses(default_questionnaire, cells, row_numbers=rows) == 40
    workbook = responses_xlsx(frame, default_questionnaire)
    cells, rows, _header = read_response_table(io.BytesIO(workbook), filename="antworten.xlsx")
    with published(sqlite_url, default_questionnaire) as store:
        assert store.import_responses(default_questionnaire, cells, row_numbers=rows) == 40
        stored = store.responses(default_questionnaire)
    expected = canonical(pd.concat([frame, frame], ignore_index=True), default_questionnaire)
    pd.testing.assert_frame_equal(canonical(stored, default_questionnaire), expected)


def test_every_bad_row_is_reported_and_nothing_is_written(
    database_url: str, default_questionnaire: Questionnaire
) -> None:
    good = demo_data(default_questionnaire, load_action_fields()).responses.head(5)
    cells = good.astype(object)
    cells.loc[1, "sex"] = 7  # no such option
    cells.loc[3, "consent"] = "vielleicht"  # yes/no
    cells.loc[3, "submitted_on"] = "2026-02-30"  # no such day
    cells.loc[4, "language"] = "fr"
    multi = next(c for c in good.columns if "__" in c)
    cells.loc[2, multi] = 2  # a tick is 0 or 1
    with published(database_url, default_questionnaire) as store:
        with pytest.raises(InvalidInput) as raised:
            store.import_responses(default_questionnaire, cells, source="papier.csv")
        assert len(store.responses(default_questionnaire)) == 0
    where = sorted((p.location.row, p.location.field, p.key) for p in raised.value.problems)
    assert where == [
        (3, "sex", "answer.unknown_option"),
        (4, multi, "installation.import.not_zero_one"),
        (5, "consent", "answer.not_yes_no"),
        (5, "submitted_on", "storage.answer.not_a_date"),
        (6, "language", "storage.bad_choice"),
    ]
    assert all(p.location.file == "papier.csv" for p in raised.value.problems)
    assert "vielleicht" in raised.value.render("de")


def test_unknown_columns_and_modes_are_refused(
    sqlite_url: str, default_questionnaire: Questionnaire
) -> None:
    frame = pd.DataFrame({"sex": [1], "lieblingsfarbe": ["blau"]})
    with published(sqlite_url, default_questionnaire) as store:
        with pytest.raises(InvalidInput) as raised:
            store.import_responses(default_questionnaire, frame, mode="fax")
        assert len(store.responses(default_questionnaire)) == 0
    keys = sorted((p.location.field, p.key) for p in raised.value.problems)
    assert keys == [
        ("lieblingsfarbe", "installation.import.unknown_column"),
        ("mode", "storage.bad_choice"),
    ]


def test_rows_of_another_questionnaire_and_unpublished_revisions_are_refused(
    sqlite_url: str, default_questionnaire: Questionnaire
) -> None:
    frame = pd.DataFrame({"questionnaire_id": ["andere"], "sex": [1]})
    with published(sqlite_url, default_questionnaire) as store:
        with pytest.raises(InvalidInput) as raised:
            store.import_responses(default_questionnaire, frame)
        assert [p.key for p in raised.value.problems] == ["installation.import.other_questionnaire"]
    with Store(sqlite_url) as store, pytest.raises(InvalidInput) as raised:
        store.import_responses(demo_questionnaire(), pd.DataFrame({"sex": [1]}))
    assert [p.key for p in raised.value.problems] == ["storage.unknown_revision"]


def test_a_file_without_header_is_refused(
    sqlite_url: str, default_questionnaire: Questionnaire
) -> None:
    cells, rows, header = read_response_table(io.BytesIO(b"\n1;2\n\n1;1\n"), filename="ohne.csv")
    assert header == 2
    assert rows == [4]
    with published(sqlite_url, default_questionnaire) as store:
        with pytest.raises(InvalidInput) as raised:
            store.import_responses(
                default_questionnaire, cells, source="ohne.csv", row_numbers=rows, header_row=header
            )
        assert len(store.responses(default_questionnaire)) == 0
    # The blank first line counts: the "header" 1;2 is line 2 of the file.
    assert sorted((p.location.row, p.location.field) for p in raised.value.problems) == [
        (2, "1"),
        (2, "2"),
    ]
