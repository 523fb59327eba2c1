"""Responses stored per second through ``Store.submit``, against the floor of a bare INSERT.

Run: ``python -m bench.storage_throughput [--responses N] [--no-postgres]``

For SQLite (a temporary file, WAL, ``synchronous=FULL``) and PostgreSQL (a fresh database at
``SICHERHEITSANALYSE_TEST_POSTGRES``, default 127.0.0.1:5432/test) it measures, with 1 and 8
writer threads, the responses per second that ``Store.submit`` stores (validation, token,
JSON, one durable commit per response — shared by a group commit on SQLite), checks that
every response arrived, and compares with the floor: the same rows written by one bare
multi-row INSERT in one transaction. It also prints what an fsync costs on this disk, and
SQLite with group commit switched off (each writer commits alone), to show what it buys.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage import Store, responses_table
from storage._answers import answer_layout, validate_answers
from survey import Questionnaire, load_questionnaire
from tests.databases import postgres_unreachable_reason, scratch_postgres_database
from tests.fixtures import TEST_AGS, municipality_store

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = ROOT / "questionnaires" / "sicherheitsbefragung.yaml"


def random_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, Any]:
    """A plausible complete form dict (every item answered, a few texts)."""
    answers: dict[str, Any] = {}
    for key, spec in answer_layout(questionnaire).specs.items():
        if spec.kind in ("single", "battery"):
            answers[key] = rng.choice(spec.codes)
        elif spec.kind == "multi":
            answers[key] = rng.sample(list(spec.codes), k=min(2, len(spec.codes)))
        elif spec.kind == "number":
            low = int(spec.minimum if spec.minimum is not None else 0)
            high = int(spec.maximum if spec.maximum is not None else low + 80)
            answers[key] = rng.randint(low, max(low, min(high, low + 80)))
        elif spec.kind == "yesno":
            answers[key] = rng.random() < 0.5
        elif spec.kind == "text" and rng.random() < 0.2:
            answers[key] = "Mehr Beleuchtung am Bahnhof, bitte."
        elif spec.kind == "date":
            answers[key] = "2026-06-01"
    return answers


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-storage-", dir=ROOT / "data") as directory:
        yield f"sqlite:///{directory}/bench.db"


def postgres_database() -> AbstractContextManager[str]:
    return scratch_postgres_database("bench")


def run_writers(writers: int, work: Callable[[int], None]) -> float:
    """Run ``work(index)`` in ``writers`` threads started together; the wall time."""
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


#: Mean submissions per shared commit of each group-commit run (printed at the end).
batch_sizes: list[float] = []


def store_rate(
    url: str,
    questionnaire: Questionnaire,
    source: str,
    forms: list[dict[str, Any]],
    writers: int,
    *,
    group_commit: bool | None = None,
) -> float:
    """Responses per second through ``Store.submit``; fails if any response is missing."""
    with municipality_store(url, group_commit=group_commit) as store:
        store.publish_questionnaire(questionnaire, source)
        per_writer = len(forms) // writers

        def work(index: int) -> None:
            for form in forms[index * per_writer : (index + 1) * per_writer]:
                result = store.submit(
                    questionnaire, form, language="de", submission_token=secrets.token_urlsafe(16)
                )
                assert result.stored, result

        elapsed = run_writers(writers, work)
        committer = store.database.committer
        if committer is not None and committer.commits:
            batch_sizes.append(committer.units / committer.commits)
        with store.engine.connect() as connection:
            stored = connection.execute(
                select(func.count()).select_from(responses_table)
            ).scalar_one()
        expected = per_writer * writers
        if stored != expected:
            raise SystemExit(f"LOST RESPONSES: {stored} stored of {expected}")
        return expected / elapsed


def bare_rows(questionnaire: Questionnaire, forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Response rows as ``Store.submit`` writes them, built outside any timing."""
    layout = answer_layout(questionnaire)
    return [
        {
            "id": uuid.uuid4().hex,
            "questionnaire_id": questionnaire.id,
            "questionnaire_revision": questionnaire.revision,
            "submitted_on": date.today(),
            "language": "de",
            "mode": "web",
            "stratum": None,
            "municipality": TEST_AGS,
            "answers": json.dumps(
                validate_answers(layout, form)[1], ensure_ascii=False, separators=(",", ":")
            ),
        }
        for form in forms
    ]


def bulk_insert(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as connection:
        for i in range(0, len(rows), 2_000):  # SQLite allows 32,766 parameters per statement
            connection.execute(responses_table.insert().values(rows[i : i + 2_000]))


def floor_rate(
    url: str, questionnaire: Questionnaire, source: str, forms: list[dict[str, Any]]
) -> float:
    """The same rows by one bare multi-row INSERT in one transaction (no validation)."""
    rows = bare_rows(questionnaire, forms)
    with municipality_store(url) as store:
        store.publish_questionnaire(questionnaire, source)
        start = time.perf_counter()
        bulk_insert(store, rows)
        return len(rows) / (time.perf_counter() - start)


def read_times(
    url: str, questionnaire: Questionnaire, source: str, forms: list[dict[str, Any]], total: int
) -> tuple[float, float, float]:
    """Seconds for ``Store.responses`` over ``total`` responses: a first (cold) read, a
    read after 100 more responses (incremental), and a first read in a new process."""
    rows = bare_rows(questionnaire, forms)
    with municipality_store(url) as store:
        store.publish_questionnaire(questionnaire, source)
        for start in range(0, total, len(rows)):
            chunk = rows[: min(len(rows), total - start)]
            bulk_insert(store, [{**row, "id": uuid.uuid4().hex} for row in chunk])
        timer = time.perf_counter()
        assert len(store.responses(questionnaire)) == total
        cold = time.perf_counter() - timer
        for form in forms[:100]:
            store.submit(
                questionnaire, form, language="de", submission_token=secrets.token_urlsafe(16)
            )
        timer = time.perf_counter()
        assert len(store.responses(questionnaire)) == total + 100
        warm = time.perf_counter() - timer
    with municipality_store(url) as fresh:
        timer = time.perf_counter()
        fresh.responses(questionnaire)
        again = time.perf_counter() - timer
    return cold, warm, again


def fsync_cost(directory: Path) -> tuple[float, float, float]:
    """Milliseconds per fsync, and raw sqlite3 commits/s with synchronous=FULL and OFF."""
    probe = directory / "fsync.probe"
    handle = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        start = time.perf_counter()
        for _ in range(200):
            os.write(handle, b"x" * 512)
            os.fsync(handle)
        per_fsync = (time.perf_counter() - start) / 200 * 1000
    finally:
        os.close(handle)
        probe.unlink()
    rates = []
    for synchronous in ("FULL", "OFF"):
        path = directory / f"raw-{synchronous}.db"
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("CREATE TABLE t (id TEXT PRIMARY KEY, answers TEXT)")
        start = time.perf_counter()
        for i in range(1_000):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t VALUES (?, ?)", (str(i), "x" * 1_300))
            connection.execute("COMMIT")
        rates.append(1_000 / (time.perf_counter() - start))
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return per_fsync, rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=4_000, help="responses per measurement")
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument(
        "--read", type=int, default=100_000, help="responses to read back (0: skip)"
    )
    args = parser.parse_args()
    count = args.responses - args.responses % 8

    questionnaire = load_questionnaire(QUESTIONNAIRE)
    source = QUESTIONNAIRE.read_text(encoding="utf-8")
    rng = random.Random(20261124)
    forms = [random_answers(questionnaire, rng) for _ in range(count)]
    (ROOT / "data").mkdir(exist_ok=True)

    print(
        f"storage throughput — {date.today()} — {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"questionnaire {questionnaire.id}: {len(questionnaire.variables())} variables; "
        f"{count} responses per measurement"
    )
    with tempfile.TemporaryDirectory(prefix="bench-fsync-", dir=ROOT / "data") as directory:
        per_fsync, full, off = fsync_cost(Path(directory))
    print(
        f"fsync: {per_fsync:.3f} ms; raw sqlite3 commits/s: {full:,.0f} synchronous=FULL, "
        f"{off:,.0f} OFF"
    )

    engines: list[tuple[str, Callable[[], Any]]] = [("SQLite", sqlite_database)]
    if args.no_postgres:
        print("PostgreSQL: skipped (--no-postgres)")
    elif (reason := postgres_unreachable_reason()) is not None:
        print(f"PostgreSQL: skipped ({reason})")
    else:
        engines.append(("PostgreSQL", postgres_database))

    print(
        f"{'engine':<11} {'writers':>7} {'responses/s':>12} {'floor rows/s':>13} {'floor/api':>9}"
    )
    for name, database in engines:
        with database() as url:
            floor = floor_rate(url, questionnaire, source, forms)
        for writers in (1, 8):
            with database() as url:
                rate = store_rate(url, questionnaire, source, forms, writers)
            batch = f"  (mean group-commit batch {batch_sizes[-1]:.1f})" if batch_sizes else ""
            batch_sizes.clear()
            print(
                f"{name:<11} {writers:>7} {rate:>12,.0f} {floor:>13,.0f} {floor / rate:>8.1f}x"
                + batch
            )
        if name == "SQLite":
            with database() as url:
                rate = store_rate(url, questionnaire, source, forms, 8, group_commit=False)
            print(f"{'SQLite, no group commit':<24} 8 writers: {rate:,.0f} responses/s")
    print("every response was stored (counted after each run)")
    if args.read:
        for name, database in engines:
            with database() as url:
                cold, warm, again = read_times(url, questionnaire, source, forms, args.read)
            print(
                f"{name}: reading {args.read:,} responses: {cold:.2f} s first read, "
                f"{warm:.2f} s after 100 more (incremental), {again:.2f} s first read in a "
                "new Store"
            )


if __name__ == "__main__":
    main()
