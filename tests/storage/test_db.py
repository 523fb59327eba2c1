from __future__ import annotations

from sqlalchemy import text

from storage import SQLITE_PAGE_SIZE, make_engine


def test_engines_connect_on_both_databases(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("select 1")).scalar_one() == 1
    engine.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    engine.dispose()


def test_a_new_sqlite_file_gets_pages_large_enough_for_a_response(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA page_size")).scalar_one() == SQLITE_PAGE_SIZE
    engine.dispose()
