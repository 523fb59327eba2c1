"""Sign-in tried the way an attacker would (issue #12): parallel floods of unknown names, a
race on the failure counter, locking the admin out on purpose, and reading the throttle table
for what was typed. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from storage import (
    FREE_ATTEMPTS,
    MAX_CONCURRENT_VERIFICATIONS,
    MAX_DELAY_SECONDS,
    Accounts,
    SignInStatus,
    make_engine,
    sign_in_throttle_table,
)
from tests.conftest import StoreFactory
from tests.storage.test_accounts import GOOD, Clock


class ConcurrencyHasher(PasswordHasher):
    """Cheap argon2 that records how many checks run at the same moment (each held for a
    while, as a real 64 MiB check is), and how many ran in all."""

    def __init__(self, hold: float = 0.05) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.hold = hold
        self.running = 0
        self.most_at_once = 0
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.running += 1
            self.checks += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.hold)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hasher() -> ConcurrencyHasher:
    return ConcurrencyHasher()


@pytest.fixture
def accounts(database_url: str, clock: Clock, hasher: ConcurrencyHasher) -> Iterator[Accounts]:
    engine = make_engine(database_url)
    accounts = Accounts(engine, hasher=hasher, clock=clock)
    accounts.add_user("admin", GOOD)
    yield accounts
    engine.dispose()


def _parallel(count: int, attempt: object) -> list[SignInStatus]:
    barrier = threading.Barrier(count)

    def run(index: int) -> SignInStatus:
        barrier.wait()
        return attempt(index).status  # type: ignore[operator, no-any-return]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_sixteen_parallel_unknown_names_run_at_most_the_bound_of_checks_at_once(
    accounts: Accounts, hasher: ConcurrencyHasher
) -> None:
    """Before: 16 parallel sign-ins ran 16 argon2 checks (64 MiB each) at once."""
    statuses = _parallel(16, lambda i: accounts.verify(f"unbekannt{i}", "rate-mal-rate-mal"))
    assert hasher.most_at_once <= MAX_CONCURRENT_VERIFICATIONS == 2
    # Queued, not dropped: with a short check every attempt still got its answer.
    assert statuses == [SignInStatus.WRONG] * 16
    assert hasher.checks == 16


def test_with_every_check_in_use_an_attempt_is_refused_as_busy_and_not_counted(
    database_url: str, clock: Clock
) -> None:
    release = threading.Event()

    class BlockingHasher(ConcurrencyHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            release.wait(10)
            return super().verify(hash, password)

    engine = make_engine(database_url)
    slow = Accounts(engine, hasher=BlockingHasher(hold=0), clock=clock)
    impatient = Accounts(engine, hasher=ConcurrencyHasher(hold=0), clock=clock, verify_wait=0.2)
    with ThreadPoolExecutor(MAX_CONCURRENT_VERIFICATIONS) as pool:
        held = [
            pool.submit(slow.verify, f"flut{i}", "x" * 20)
            for i in range(MAX_CONCURRENT_VERIFICATIONS)
        ]
        time.sleep(0.3)  # both checks are now running and blocked
        busy = impatient.verify("admin", GOOD)
        release.set()
        assert [f.result().status for f in held] == [SignInStatus.WRONG] * 2
    assert busy.status is SignInStatus.BUSY
    assert busy.message("de") == (
        "Die Anmeldung ist gerade stark ausgelastet. Bitte versuchen Sie es in einigen "
        "Sekunden erneut."
    )
    with engine.connect() as connection:
        rows = connection.execute(select(sign_in_throttle_table)).all()
    assert len(rows) == 2  # the two flood names; the busy attempt counted nothing
    engine.dispose()


def test_after_four_failures_twelve_parallel_attempts_get_one_check(
    accounts: Accounts, hasher: ConcurrencyHasher, clock: Clock
) -> None:
    """Before: all 12 were checked (the counter was read, then written) and the right one,
    hidden among them, signed in. Now 12 guesses fired at once are one guess."""
    for _ in range(4):
        clock.advance(accounts.verify("admin", "falsch-falsch-falsch").wait_seconds)
    checks_before = hasher.checks
    statuses = _parallel(12, lambda i: accounts.verify("admin", f"rate-{i}-rate-{i}"))
    assert hasher.checks - checks_before == 1
    assert sorted(statuses) == sorted([SignInStatus.WRONG] + [SignInStatus.THROTTLED] * 11)
    with accounts.engine.connect() as connection:
        failures = connection.execute(select(sign_in_throttle_table.c.failures)).scalar_one()
    assert failures == 5  # no update lost


def test_free_attempts_run_in_parallel_but_no_more(
    accounts: Accounts, hasher: ConcurrencyHasher
) -> None:
    statuses = _parallel(12, lambda i: accounts.verify("admin", f"rate-{i}-rate-{i}"))
    assert statuses.count(SignInStatus.WRONG) == FREE_ATTEMPTS == hasher.checks


def test_twenty_wrong_passwords_do_not_lock_the_admin_out_beyond_the_short_delay(
    accounts: Accounts, clock: Clock
) -> None:
    """Before: anyone could lock the admin out for 15 minutes with 20 wrong passwords."""
    waits = []
    for _ in range(20):
        result = accounts.verify("admin", "falsch-falsch-falsch")
        assert result.status is SignInStatus.WRONG
        waits.append(result.wait_seconds)
        clock.advance(result.wait_seconds)
    clock.advance(-waits[-1])  # the admin arrives right after the attacker's 20th failure
    assert max(waits) == MAX_DELAY_SECONDS == 30.0
    refused = accounts.verify("admin", GOOD)
    assert refused.status is SignInStatus.THROTTLED
    assert refused.wait_seconds <= 30.0
    clock.advance(refused.wait_seconds)
    assert accounts.verify("admin", GOOD).ok


@pytest.mark.parametrize(
    "typed", ["Mein-Geheimes-Passwort-2026", "anna.schmidt@musterstadt.de", "ad\x00min"]
)
def test_the_throttle_table_holds_nothing_that_was_typed(
    database_url: str, clock: Clock, typed: str, tmp_path: Path
) -> None:
    """Before: a password typed into the name field was stored in plain text."""
    engine = make_engine(database_url)
    accounts = Accounts(engine, hasher=ConcurrencyHasher(hold=0), clock=clock)
    accounts.verify(typed, "irgendwas-irgendwas")
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(select(sign_in_throttle_table)).all()]
    assert len(rows) == 1
    cells = " ".join(str(cell) for cell in rows[0]).lower()
    assert typed.lower().replace("\x00", "") not in cells
    for fragment in ("geheim", "musterstadt", "admin"):
        assert fragment not in cells
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = Path(str(engine.url.database))
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).lower()
        assert typed.lower().encode() not in raw
    engine.dispose()


def test_the_race_holds_on_the_engine_the_app_signs_in_with(
    store_factory: StoreFactory, clock: Clock
) -> None:
    """The app's Accounts share the store's engine (explicit BEGIN on SQLite)."""
    hasher = ConcurrencyHasher()
    accounts = Accounts(store_factory().engine, hasher=hasher, clock=clock)
    accounts.add_user("admin", GOOD)
    for _ in range(4):
        clock.advance(accounts.verify("admin", "falsch-falsch-falsch").wait_seconds)
    checks_before = hasher.checks
    statuses = _parallel(12, lambda i: accounts.verify("admin", f"rate-{i}-rate-{i}"))
    assert hasher.checks - checks_before == 1
    assert statuses.count(SignInStatus.THROTTLED) == 11
