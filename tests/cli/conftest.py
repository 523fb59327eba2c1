"""The command-line tests work in a database that has one municipality (the test town), as an
installation after ``sicherheitsanalyse municipality create`` has; ``--municipality`` is then
not needed."""

from __future__ import annotations

import pytest

from tests.fixtures import municipality_store


@pytest.fixture
def sqlite_url(sqlite_url: str) -> str:
    municipality_store(sqlite_url).close()
    return sqlite_url


@pytest.fixture
def postgres_url(postgres_url: str) -> str:
    municipality_store(postgres_url).close()
    return postgres_url
