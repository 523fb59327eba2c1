"""Municipalities: migration 6 on a database from before them (nothing assigned silently,
adopting on purpose), members, and the checks of keys and names."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from core import InvalidInput
from storage import (
    MIGRATIONS,
    OWNED_TABLES,
    Municipalities,
    Store,
    make_engine,
    schema_version_table,
)
from tests.conftest import StoreFactory
from tests.fixtures import SOURCE_TEXT, small_questionnaire

TOWN = "14713000"


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    """The test town's store, with the small questionnaire ("befragung") published."""
    store = store_factory()
    store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    return store


def _database_before_municipalities(url: str) -> None:
    """A database at schema version 5 as an older release left it: no municipality column."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for migration in MIGRATIONS[:5]:
            migration.apply(connection)
        schema_version_table.create(connection)
        connection.execute(schema_version_table.insert().values(id=1, version=5))
        # The tables of version 5 (the paper keyings came with version 7).
        for table in (t for t in OWNED_TABLES if inspect(connection).has_table(t.name)):
            connection.execute(text(f"DROP INDEX IF EXISTS ix_{table.name}_municipality"))
            connection.execute(text(f"ALTER TABLE {table.name} DROP COLUMN municipality"))
        connection.execute(
            text(
                "INSERT INTO questionnaires (id, revision, title, access, state) "
                "VALUES ('alt', 'r1', '{\"de\": \"Alt\"}', 'open', 'open')"
            )
        )
    engine.dispose()


def test_old_rows_belong_to_nobody_until_adopted(database_url: str) -> None:
    _database_before_municipalities(database_url)
    with Store(database_url) as store:
        municipalities = Municipalities(store.engine)
        assert municipalities.unassigned() == {"questionnaires": 1}
        municipalities.create(TOWN, "Leipzig")
        town = store.for_municipality(TOWN)
        assert town.questionnaires() == []  # never given to a municipality silently
        assert town.questionnaire("alt") is None
        assert municipalities.adopt(TOWN) == {"questionnaires": 1}
        assert municipalities.unassigned() == {}
        assert [r.id for r in town.questionnaires()] == ["alt"]


def test_keys_names_and_members_are_checked(store: Store) -> None:
    municipalities = Municipalities(store.engine)
    for ags, name, key in (
        ("1471300", "Leipzig", "municipality.bad_ags"),
        ("14713000x", "Leipzig", "municipality.bad_ags"),
        ("14713000", " ", "municipality.bad_name"),
        ("99000001", "Scheinstadt", "municipality.demo_prefix"),
        ("01999001", "Doppelt", "municipality.exists"),  # the test town
    ):
        with pytest.raises(InvalidInput) as raised:
            municipalities.create(ags, name)
        assert [p.key for p in raised.value.problems] == [key]
    with pytest.raises(InvalidInput):
        store.for_municipality("14713000")
    municipalities.create(TOWN, "Leipzig")
    municipalities.add_member(" Anna ", TOWN)
    municipalities.add_member("anna", TOWN)  # twice is once
    assert municipalities.members(TOWN) == ["anna"]
    assert municipalities.of_account("ANNA") == ["01999001", TOWN]
    assert municipalities.remove_member("anna", TOWN)
    assert not municipalities.remove_member("anna", TOWN)


def test_an_id_is_one_municipality_s(store: Store) -> None:
    Municipalities(store.engine).create(TOWN, "Leipzig")
    other = store.for_municipality(TOWN)
    with pytest.raises(InvalidInput) as raised:
        other.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    assert [p.key for p in raised.value.problems] == ["storage.publish.id_taken"]
    with (
        Store(store.engine.url.render_as_string(hide_password=False)) as installation,
        pytest.raises(InvalidInput) as raised,
    ):
        installation.publish_questionnaire(small_questionnaire(qid="neu"), SOURCE_TEXT)
    assert [p.key for p in raised.value.problems] == ["storage.municipality_required"]
