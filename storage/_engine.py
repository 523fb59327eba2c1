"""Database engines: the embedded SQLite default and PostgreSQL, by one SQLAlchemy URL.

Every table of the product is declared on :data:`metadata` (in the module that owns it) so
that :func:`create_schema` creates and migrates all of them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event

DATABASE_URL_ENV_VAR = "SICHERHEITSANALYSE_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path("data") / "sicherheitsanalyse.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SWITCH_ATTEMPTS = 50
SQLITE_PAGE_SIZE = 16_384

metadata = MetaData()


def database_url() -> str:
    """The configured URL, or the embedded SQLite file under ``./data/``."""
    url = os.environ.get(DATABASE_URL_ENV_VAR)
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`database_url`).

    SQLite gets WAL mode, a busy timeout and ``synchronous=FULL`` so that every commit is
    durable; PostgreSQL uses psycopg 3 and a small pool.

    Both hide statement parameters from logs and error messages: with SQL logging switched on
    for debugging, a log line would otherwise put a response's answers and id (or a code's
    hash) next to a timestamp to the millisecond.
    """
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Only takes effect on a new, empty file (before WAL): responses of ~1.5 kB then fit a
    # page of the WITHOUT ROWID table instead of spilling into overflow pages, which made
    # reading 100,000 responses take twice as long.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put a new database file into WAL mode; the mode then stays with the file.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once,
    without its busy handler, to a connection that tries while another one is switching a
    brand-new file. So: only switch when needed, and retry briefly.
    """
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
