"""Scratch databases for the tests and the benchmarks: one PostgreSQL admin URL, a check that
it is reachable, and a fresh database that is dropped afterwards.

PostgreSQL is at ``SICHERHEITSANALYSE_TEST_POSTGRES`` (default: 127.0.0.1:5432, user
postgres, trust auth, database ``test``). ``tests/conftest.py`` and ``bench/`` both use this
module: the benchmarks may import test helpers, the tests never import from ``bench/``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "SICHERHEITSANALYSE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_unreachable_reason() -> str | None:
    """Why PostgreSQL at :data:`POSTGRES_ADMIN_URL` cannot be used, or ``None`` if it can."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver error means: not reachable from here
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {type(exc).__name__}: {exc}"
    return None


@contextmanager
def scratch_postgres_database(prefix: str = "sa_test") -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped (connections and all) on exit."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
