"""The engine and the one write path every repository shares.

:func:`make_engine` opens the embedded SQLite default or PostgreSQL by one SQLAlchemy URL.
:class:`Database` owns that engine for a :class:`~storage.Store`: it migrates the schema once,
holds the installation's hash keys, and is the only place that opens transactions (:meth:`~
Database.write`, :meth:`~Database.read`) and runs units of work (:meth:`~Database.run`).

On SQLite, :meth:`Database.run` goes through a *group committer*: each caller hands its unit
of work to one committer thread, which runs the waiting units in one transaction (a rejected
unit has written nothing, so it does not affect the others; the inserts of the accepted ones
are written together at the end), commits durably (``synchronous=FULL``) and only then returns
every caller its result. Durability per unit is unchanged (a caller is answered only after the
commit that contains its writes reached the disk); fsync and lock hand-over are shared by the
batch. If a shared transaction fails, each of its units is retried alone. PostgreSQL runs each
unit in its own transaction (it groups the WAL flushes of concurrent commits itself).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core import InvalidInput, StorageError
from storage._keys import InstallationKeys, key_file_path, load_keys
from storage._schema import (
    MUNICIPALITY_SETTING,
    drafts_table,
    migrate,
    responses_table,
    submission_tokens_table,
)

T = TypeVar("T")

DATABASE_URL_ENV_VAR = "SICHERHEITSANALYSE_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path("data") / "sicherheitsanalyse.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SWITCH_ATTEMPTS = 50
SQLITE_PAGE_SIZE = 16_384
#: Most units one group commit takes; bounds the latency of the last caller.
GROUP_COMMIT_MAX_BATCH = 256
WRITE_ATTEMPTS = 5


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
            _private_file(Path(path))
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    engine = create_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )
    event.listen(engine, "begin", _name_municipality)
    return engine


#: The municipality the current thread works for (``None``: none, or the administration).
#: :func:`municipality_scope` sets it; every PostgreSQL transaction begun meanwhile names it in
#: ``app.municipality``, which the row-level-security policies read (migration 6).
_MUNICIPALITY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sicherheitsanalyse_municipality", default=None
)


@contextmanager
def municipality_scope(ags: str | None) -> Iterator[None]:
    """Transactions begun inside work for municipality ``ags`` (``None``: for none)."""
    token = _MUNICIPALITY.set(ags)
    try:
        yield
    finally:
        _MUNICIPALITY.reset(token)


def scoped_municipality() -> str | None:
    """The municipality of the innermost :func:`municipality_scope` (``None`` outside)."""
    return _MUNICIPALITY.get()


def _name_municipality(connection: Connection) -> None:
    """Each PostgreSQL transaction starts with ``app.municipality`` set for it alone
    (``set_config(..., true)`` ends with the transaction, so a pooled connection keeps
    nothing): the current scope's key, or empty, which matches no row."""
    connection.exec_driver_sql(
        "SELECT set_config(%(name)s, %(value)s, true)",
        {"name": MUNICIPALITY_SETTING, "value": _MUNICIPALITY.get() or ""},
    )


def _private_file(path: Path) -> None:
    """Create the database's folder 0700 and its file 0600 before SQLite does (SQLite gives
    the ``-wal`` and ``-shm`` files the mode of the database file), and tighten the modes of
    an existing installation: answers and code hashes are nobody else's business on the
    server either."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if folder.stat().st_uid == os.getuid():
            os.chmod(folder, folder.stat().st_mode & 0o700)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(f"{path}{suffix}", 0o600)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Deleted content (a submitted draft, a removed survey, moved keys) is overwritten with
    # zeros instead of lingering in free pages. Set explicitly: some builds default to off.
    cursor.execute("PRAGMA secure_delete=ON")
    # When the WAL restarts after a checkpoint it is cut to nothing, so the file does not keep
    # old frames (whole pages of earlier commits, in commit order) at its end.
    cursor.execute("PRAGMA journal_size_limit=0")
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


def _explicit_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so savepoints work and writes can
    take the lock up front (``BEGIN IMMEDIATE``); reads stay deferred and never block."""

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


# --- the one write path ---------------------------------------------------------------------

_DRAFT_DELETE = drafts_table.delete().where(drafts_table.c.draft_key == bindparam("k"))


class UnitRejected(Exception):
    """A unit of work refused its input before writing anything: the transaction it shares
    with other units goes on (subclasses say why)."""


@dataclass
class PendingWrites:
    """Inserts of accepted submissions, written together at the end of the transaction."""

    token_hashes: set[str] = field(default_factory=set)
    responses: list[dict[str, Any]] = field(default_factory=list)
    draft_keys: list[dict[str, str]] = field(default_factory=list)
    #: (state, access) per questionnaire, read once per transaction.
    questionnaire_settings: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def flush(self, connection: Connection) -> None:
        if self.token_hashes:
            connection.execute(
                submission_tokens_table.insert(),
                [{"token_hash": token_hash} for token_hash in self.token_hashes],
            )
        if self.responses:
            if connection.dialect.name == "sqlite":
                _insert_reshuffling_neighbours(connection, self.responses)
            else:
                connection.execute(responses_table.insert(), self.responses)
        if self.draft_keys:
            connection.execute(_DRAFT_DELETE, self.draft_keys)


Unit = Callable[[Connection, PendingWrites], T]

#: Most neighbours on each side rewritten with a new response (bounded by a page's bytes too).
_NEIGHBOURS = 256
_SHUFFLE = random.SystemRandom()


def _insert_reshuffling_neighbours(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert responses so that no page of the SQLite file keeps them in submission order.

    The table has no rowid, so a response's *page* follows its random id; but inside a page
    SQLite places each new cell below the older ones, and the cell offsets of two responses
    on one page would tell which was submitted first. So each new response is inserted
    together with its neighbours by id, a page's worth on each side (the rows its page can
    hold), deleted and re-inserted in random order: the offsets on that page then say nothing
    about who came first. The rows and their ids stay exactly as they were. The new responses
    of a batch are taken in random order too.
    """
    table = responses_table
    pending = list(rows)
    _SHUFFLE.shuffle(pending)
    for row in pending:
        neighbours: list[dict[str, Any]] = []
        for query in (
            select(table).where(table.c.id < row["id"]).order_by(table.c.id.desc()),
            select(table).where(table.c.id > row["id"]).order_by(table.c.id),
        ):
            size = 0
            for found in connection.execute(query.limit(_NEIGHBOURS)).mappings():
                neighbours.append(dict(found))
                size += len(found["answers"]) + 200  # the other columns, roughly
                if size >= SQLITE_PAGE_SIZE:
                    break
        if neighbours:
            connection.execute(table.delete().where(table.c.id.in_([n["id"] for n in neighbours])))
        batch = [row, *neighbours]
        _SHUFFLE.shuffle(batch)
        connection.execute(table.insert(), batch)


class Database:
    """One engine, migrated on opening, with the installation's keys and the write path.

    Parameters
    ----------
    url
        SQLAlchemy URL; default :func:`database_url`.
    group_commit
        Share commits between concurrent units (default: on for SQLite, off for PostgreSQL).
    """

    def __init__(self, url: str | None = None, *, group_commit: bool | None = None) -> None:
        self.engine: Engine = make_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.committer: GroupCommitter | None = None
        if self.sqlite:
            _explicit_sqlite_transactions(self.engine)
        with self.write() as connection:
            migrate(connection)
            # Still under the migration's lock, so concurrent starts agree on the keys.
            self.keys: InstallationKeys = load_keys(connection, key_file_path(self.engine.url))
        self.checkpoint()
        self.checkpointer = Checkpointer(self.checkpoint) if self.sqlite else None
        use_group = self.sqlite if group_commit is None else group_commit
        self.committer = GroupCommitter(self.run_alone, self.write) if use_group else None

    def close(self) -> None:
        """Stop the committer and checkpointer threads and release the connections."""
        if self.committer is not None:
            self.committer.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE),
        so a transaction never fails half-way because another writer got there first.

        On SQLite the WAL is checkpointed and truncated once the writers have been quiet for
        a moment (:class:`Checkpointer`)."""
        with self.engine.connect() as connection:
            if self.sqlite:
                connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection
        checkpointer = getattr(self, "checkpointer", None)  # None while migrating
        if checkpointer is not None:
            checkpointer.poke()

    def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate the WAL to zero bytes (SQLite).

        The WAL keeps every commit's pages in commit order: read frame by frame it tells which
        response was stored after which, and which code was marked used in the same commit.
        Truncating it whenever the writers are quiet leaves at most the commits of the current
        burst in it. A writer or a reader on an older snapshot makes the checkpoint give up at
        once (busy timeout 0) rather than stall anyone; the :class:`Checkpointer` retries.
        Returns whether the WAL was emptied.
        """
        if not self.sqlite:
            return False
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            try:
                raw.execute("PRAGMA busy_timeout=0")
                busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError:
                busy = 1
            finally:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return not busy

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def run(self, unit: Unit[T]) -> T:
        """``unit`` in a durable transaction: shared with concurrent units (group commit) or
        alone."""
        # The committer's thread runs outside the caller's municipality scope: on PostgreSQL
        # (row-level security) a scoped unit runs in its own transaction.
        if self.committer is not None and (self.sqlite or _MUNICIPALITY.get() is None):
            return self.committer.run(unit)
        return self.run_alone(unit)

    def run_alone(self, unit: Unit[T]) -> T:
        """``unit`` in a transaction of its own, retried after a lock timeout or a lost race."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.write() as connection:
                    pending = PendingWrites()
                    value = unit(connection, pending)
                    pending.flush(connection)
                    return value
            except (IntegrityError, OperationalError):
                # A concurrent submission with the same token won (the retry sees its token),
                # or a deadlock / lock timeout: try again after a short pause.
                time.sleep(0.01 * (attempt + 1))
        raise StorageError("the response could not be stored")


#: The writers must have been quiet this long before the WAL is truncated: one checkpoint
#: costs two fsyncs, so doing it after every commit cut the submissions per second tenfold.
CHECKPOINT_QUIET_SECONDS = 0.2
#: Under steady load, a checkpoint is tried at least this often anyway.
CHECKPOINT_MAX_DELAY_SECONDS = 10.0


class Checkpointer:
    """Truncates the SQLite WAL in its own thread once the writers have been quiet for
    :data:`CHECKPOINT_QUIET_SECONDS` (at the latest :data:`CHECKPOINT_MAX_DELAY_SECONDS`
    after a commit), so the submissions never wait for it."""

    def __init__(self, checkpoint: Callable[[], bool]) -> None:
        self._checkpoint = checkpoint
        self._wake = threading.Condition()
        self._last_commit: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """A commit happened: truncate the WAL after the next quiet moment."""
        with self._wake:
            if self._stopping:
                return
            self._last_commit = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="survey-wal-checkpoint", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._last_commit is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                first = self._last_commit
                assert first is not None
                # Wait for a quiet moment, but not for ever under steady load.
                while not self._stopping:
                    last = self._last_commit or first
                    now = time.monotonic()
                    due = min(last + CHECKPOINT_QUIET_SECONDS, first + CHECKPOINT_MAX_DELAY_SECONDS)
                    if now >= due:
                        break
                    self._wake.wait(due - now)
                if self._stopping:
                    return
                self._last_commit = None
            if not self._checkpoint():
                with self._wake:  # busy: try again after the next quiet moment
                    if self._last_commit is None:
                        self._last_commit = time.monotonic()


class GroupCommitter:
    """Runs units of work from many threads in shared, durable transactions (one thread).

    A batch is every unit waiting when the previous commit finished (at most
    :data:`GROUP_COMMIT_MAX_BATCH`). Units that are rejected wrote nothing, so the others
    commit together; if the batch itself fails, each unit is retried in a transaction of
    its own, so one bad unit cannot take the others down.
    """

    def __init__(
        self,
        run_alone: Callable[[Unit[Any]], Any],
        write: Callable[[], contextlib.AbstractContextManager[Connection]],
    ) -> None:
        self._run_alone = run_alone
        self._write = write
        self._queue: queue.SimpleQueue[tuple[Unit[Any], Future[Any]] | None]
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: Shared transactions committed and units they carried (the mean batch size).
        self.commits = 0
        self.units = 0

    def run(self, unit: Unit[T]) -> T:
        future: Future[T] = Future()
        self._ensure_thread()
        self._queue.put((unit, future))
        return future.result()

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="survey-group-commit", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < GROUP_COMMIT_MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Unit[Any], Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._write() as connection:
                pending = PendingWrites()
                for unit, future in batch:
                    try:
                        outcomes.append((future, unit(connection, pending), None))
                    except (UnitRejected, InvalidInput) as rejected:
                        outcomes.append((future, None, rejected))
                pending.flush(connection)
            self.commits += 1
            self.units += len(batch)
        except Exception:  # nothing of the batch was written: isolate the units
            for unit, future in batch:
                try:
                    future.set_result(self._run_alone(unit))
                except BaseException as failure:
                    future.set_exception(failure)
            return
        for future, value, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
