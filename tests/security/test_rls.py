"""Row-level security on PostgreSQL, bypassing the app: direct SQL under the app's role (no
BYPASSRLS) with town A's ``app.municipality`` neither sees, changes nor deletes town B's rows,
and cannot write a row for B. And the app itself works under that role."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from app import Workspace
from core import InvalidInput
from storage import MUNICIPALITY_SETTING, OWNED_TABLES, Store
from tests.databases import POSTGRES_ADMIN_URL
from tests.fixtures import TEST_AGS, full_answers
from tests.security._towns import B_ANSWER, B_OPEN_ID, B_RESPONSES, TOWN_B, Towns, seed_towns

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class AppRole:
    towns: Towns
    #: The same database, signed in as the app's role.
    url: str


def grant_app_role(admin_url: str, role: str) -> None:
    """What docs/operations.md tells the administrator to run for the app's role."""
    database = make_url(admin_url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        for statement in (
            f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        ):
            connection.execute(text(statement))
    engine.dispose()


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[AppRole]:
    towns = seed_towns(postgres_url)
    role = f"sa_app_{secrets.token_hex(4)}"
    grant_app_role(postgres_url, role)
    url = make_url(postgres_url).set(username=role, password=None)
    try:
        yield AppRole(towns, url.render_as_string(hide_password=False))
    finally:
        engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            connection.execute(text(f'DROP OWNED BY "{role}"'))
        engine.dispose()
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _as_town(connection: object, ags: str) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text("SELECT set_config(:name, :value, true)"),
        {"name": MUNICIPALITY_SETTING, "value": ags},
    )


def _rows_of_b(owner: Engine) -> dict[str, int]:
    """Town B's rows per table, counted by the tables' owner (not held to the policies)."""
    with owner.connect() as connection:
        return {
            t.name: int(
                connection.execute(
                    text(f"SELECT count(*) FROM {t.name} WHERE municipality = :b"), {"b": TOWN_B}
                ).scalar_one()
            )
            for t in OWNED_TABLES
        }


def test_direct_sql_under_the_app_role_never_reaches_another_town(app_role: AppRole) -> None:
    engine = create_engine(app_role.url.replace("postgresql://", "postgresql+psycopg://"))
    owner = create_engine(app_role.towns.url.replace("postgresql://", "postgresql+psycopg://"))
    b_rows = _rows_of_b(owner)
    assert all(b_rows.values()), b_rows  # B has rows in every table, so the probes mean something
    for table in OWNED_TABLES:
        name = table.name
        with engine.begin() as connection:
            _as_town(connection, TEST_AGS)
            seen = connection.execute(
                text(f"SELECT count(*) FROM {name} WHERE municipality = :b"), {"b": TOWN_B}
            ).scalar_one()
            others = connection.execute(
                text(f"SELECT count(*) FROM {name} WHERE municipality IS DISTINCT FROM :a"),
                {"a": TEST_AGS},
            ).scalar_one()
            updated = connection.execute(
                text(f"UPDATE {name} SET municipality = municipality WHERE municipality = :b"),
                {"b": TOWN_B},
            ).rowcount
            deleted = connection.execute(
                text(f"DELETE FROM {name} WHERE municipality = :b"), {"b": TOWN_B}
            ).rowcount
        assert (seen, others, updated, deleted) == (0, 0, 0, 0), name
        with engine.begin() as connection:  # no municipality named: nothing at all
            assert connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0
    # Writing a row for B, or moving one of A's rows to B, is refused.
    for statement in (
        "INSERT INTO questionnaires (id, revision, title, access, state, municipality) "
        "VALUES ('eingeschmuggelt', 'r', '{}', 'open', 'open', :b)",
        "UPDATE datasets SET municipality = :b",
        "INSERT INTO responses (id, questionnaire_id, questionnaire_revision, submitted_on, "
        "language, mode, answers, municipality) VALUES "
        f"('x1', '{B_OPEN_ID}', 'r', CURRENT_DATE, 'de', 'web', '{{}}', :b)",
    ):
        with engine.begin() as c:
            _as_town(c, TEST_AGS)
            with pytest.raises(ProgrammingError, match="row-level security"):
                c.execute(text(statement), {"b": TOWN_B})
    assert _rows_of_b(owner) == b_rows
    with owner.connect() as connection:
        answers = connection.execute(text("SELECT answers FROM responses")).scalars().all()
    assert any(B_ANSWER in a for a in answers)
    engine.dispose()
    owner.dispose()


def test_the_app_works_under_the_app_role_and_sees_one_town(app_role: AppRole) -> None:
    towns = app_role.towns
    with Store(app_role.url) as store:
        assert store.questionnaires() == []  # the installation's store names no town: nothing
        a = store.for_municipality(TEST_AGS)
        assert {r.id for r in a.questionnaires()} == {"sicherheitsbefragung"}
        inputs = Workspace(store, municipality=TEST_AGS).inputs("sicherheitsbefragung")
        assert len(inputs.responses) == 60
        assert inputs.incidents is not None
        assert not inputs.incidents["area"].astype(str).str.contains("QXZ").any()
        with pytest.raises(InvalidInput):
            a.responses(towns.b_questionnaire)
        # The public survey page knows only the id: it works for B's open survey, under B.
        record = store.questionnaire(B_OPEN_ID)
        assert record is not None
        result = store.submit(
            towns.b_questionnaire,
            full_answers(),
            language="de",
            submission_token="public-" + "x" * 20,
        )
        assert result.stored
        assert (
            len(store.for_municipality(TOWN_B).responses(towns.b_questionnaire)) == B_RESPONSES + 1
        )
