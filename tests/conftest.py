"""Shared fixtures: a seeded rng, the repository paths, scratch databases on both engines and
the one store factory the storage-using tests open their stores with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import pytest

from storage import Store
from tests.databases import postgres_unreachable_reason, scratch_postgres_database
from tests.fixtures import municipality_store

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "questionnaires"
DEFAULT_QUESTIONNAIRE = QUESTIONNAIRES / "sicherheitsbefragung.yaml"
ACTION_FIELDS = QUESTIONNAIRES / "action_fields.yaml"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so every random test is reproducible."""
    return np.random.default_rng(20261124)


# --- databases --------------------------------------------------------------------------------
# Storage tests run against both engines. PostgreSQL is at 127.0.0.1:5432 (trust auth, database
# `test`); where it is unreachable its tests skip with the reason, except under CI=true, where
# they must run and so fail instead.


@pytest.fixture(scope="session")
def postgres_available() -> None:
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


@pytest.fixture
def postgres_url(
    postgres_available: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards; its key file
    (``storage._keys``) is in the test's folder, not in the repository's ``data/``."""
    monkeypatch.setenv("SICHERHEITSANALYSE_KEY_FILE", str(tmp_path / "postgres.keys"))
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both engines: every test using this runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


class StoreFactory(Protocol):
    def __call__(self, *, group_commit: bool | None = None) -> Store: ...


@pytest.fixture
def store_factory(database_url: str) -> Iterator[StoreFactory]:
    """Opens stores on the test's scratch database (``database_url``: once on SQLite, once on
    PostgreSQL); every store it opened is closed after the test, so a test may open several
    (a restart, concurrent starts) without closing them itself."""
    opened: list[Store] = []

    def open_store(*, group_commit: bool | None = None) -> Store:
        store = municipality_store(database_url, group_commit=group_commit)
        opened.append(store)
        return store

    yield open_store
    for store in reversed(opened):
        store.close()
