from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core import InvalidInput
from storage import (
    FREE_ATTEMPTS,
    MAX_DELAY_SECONDS,
    MIN_PASSWORD_LENGTH,
    Accounts,
    SignInStatus,
    UserRole,
    back_off_seconds,
    make_engine,
    oidc_manager_allowed,
    password_problems,
    sign_in_throttle_table,
    users_table,
)
from tests.conftest import StoreFactory

GOOD = "korrekt-Pferd-Batterie"

#: Cheap argon2 parameters keep the suite fast; one test checks the real defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    """A settable UTC clock, so back-off is tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database_url: str, clock: Clock) -> Iterator[Accounts]:
    engine = make_engine(database_url)
    yield Accounts(engine, hasher=FAST_HASHER, clock=clock)
    engine.dispose()


def keys(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.key for p in error.value.problems]


def test_add_and_verify_a_user(accounts: Accounts) -> None:
    accounts.add_user("Mara.Schulz", GOOD)
    result = accounts.verify("  mara.schulz ", GOOD)
    assert result.ok
    assert result.role is UserRole.MANAGER
    assert result.message() == ""
    assert [(u.name, u.role) for u in accounts.users()] == [("mara.schulz", UserRole.MANAGER)]


def test_only_an_argon2id_hash_is_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    accounts = Accounts(engine)  # the real default parameters
    accounts.add_user("mara", GOOD)
    with engine.connect() as connection:
        stored = connection.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert accounts.verify("mara", GOOD).ok
    engine.dispose()


def test_users_table_keeps_no_time_finer_than_a_day(accounts: Accounts) -> None:
    assert str(users_table.c.created_on.type) == "DATE"
    accounts.add_user("mara", GOOD)
    assert accounts.users()[0].created_on.isoformat() == "2026-11-24"


def test_wrong_password_and_unknown_user_look_the_same(accounts: Accounts) -> None:
    accounts.add_user("mara", GOOD)
    wrong = accounts.verify("mara", GOOD + "x")
    unknown = accounts.verify("nobody", GOOD)
    assert wrong.status is unknown.status is SignInStatus.WRONG
    assert wrong.message("de") == unknown.message("de") == "Benutzername oder Passwort ist falsch."
    assert wrong.role is None


def test_repeated_failures_back_off_exponentially(accounts: Accounts, clock: Clock) -> None:
    accounts.add_user("mara", GOOD)
    waits = []
    for _ in range(FREE_ATTEMPTS + 3):
        result = accounts.verify("mara", "falsch-falsch-falsch")
        assert result.status is SignInStatus.WRONG
        waits.append(result.wait_seconds)
        clock.advance(result.wait_seconds)
    assert waits[: FREE_ATTEMPTS - 1] == [0.0] * (FREE_ATTEMPTS - 1)
    assert waits[FREE_ATTEMPTS - 1 :] == [1.0, 2.0, 4.0, 8.0]


def test_throttled_attempt_is_refused_even_with_the_right_password(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.add_user("mara", GOOD)
    for _ in range(FREE_ATTEMPTS + 1):
        last = accounts.verify("mara", "falsch-falsch-falsch")
        clock.advance(last.wait_seconds)
    assert last.wait_seconds == 2.0
    clock.advance(-2.0)
    clock.advance(0.5)
    refused = accounts.verify("mara", GOOD)
    assert refused.status is SignInStatus.THROTTLED
    assert refused.wait_seconds == pytest.approx(1.5)
    assert refused.message("en") == "Too many failed attempts. Please try again in 2 seconds."
    clock.advance(1.5)
    assert accounts.verify("mara", GOOD).ok
    # success clears the counter: the next failure is free again
    assert accounts.verify("mara", "falsch-falsch-falsch").wait_seconds == 0.0


def test_unknown_names_are_throttled_too(accounts: Accounts) -> None:
    for _ in range(FREE_ATTEMPTS):
        accounts.verify("ghost", "whatever-whatever")
    assert accounts.verify("ghost", "whatever-whatever").status is SignInStatus.THROTTLED


def test_throttle_of_one_name_does_not_block_another(accounts: Accounts) -> None:
    accounts.add_user("mara", GOOD)
    accounts.add_user("jonas", GOOD + "!")
    for _ in range(FREE_ATTEMPTS + 2):
        accounts.verify("mara", "falsch-falsch-falsch")
    assert accounts.verify("jonas", GOOD + "!").ok


def test_back_off_is_capped() -> None:
    assert back_off_seconds(0) == 0.0
    assert back_off_seconds(FREE_ATTEMPTS) == 1.0
    assert back_off_seconds(1000) == MAX_DELAY_SECONDS


def test_old_throttle_rows_are_removed(accounts: Accounts, clock: Clock) -> None:
    accounts.verify("ghost", "whatever-whatever")
    clock.advance(2 * 86_400)
    accounts.verify("other", "whatever-whatever")
    with accounts.engine.connect() as connection:
        names = connection.execute(select(sign_in_throttle_table.c.name_hash)).scalars().all()
    assert len(names) == 1  # only "other"'s row is left


def test_set_password(accounts: Accounts) -> None:
    accounts.add_user("mara", GOOD)
    accounts.set_password("MARA", "ein-ganz-neues-Passwort")
    assert not accounts.verify("mara", GOOD).ok
    assert accounts.verify("mara", "ein-ganz-neues-Passwort").ok


def test_set_password_of_unknown_user(accounts: Accounts) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.set_password("nobody", GOOD)
    assert keys(error) == ["accounts.unknown_user"]


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("kurz", ["accounts.password_too_short"]),
        ("xyz12" * 2, ["accounts.password_too_short"]),
        ("ab" * 10, ["accounts.password_monotonous"]),
        ("mara-und-mehr-text", ["accounts.password_contains_name"]),
        ("p" * 300 + "q!", ["accounts.password_too_long"]),
        ("", ["accounts.password_too_short"]),
    ],
)
def test_password_policy(password: str, expected: list[str]) -> None:
    assert [p.key for p in password_problems(password, "mara")] == expected
    for problem in password_problems(password, "mara"):
        assert problem.location.field == "password"
        assert problem.message("de")
        assert problem.message("en")


def test_password_policy_message_is_clear() -> None:
    (problem,) = password_problems("kurz")
    assert problem.message("de") == "Das Passwort muss mindestens 12 Zeichen lang sein (es hat 4)."


def test_bad_user_input_is_reported_all_at_once_and_nothing_is_written(
    accounts: Accounts,
) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.add_user("Mara Schulz!", "kurz", role="chef")
    assert keys(error) == [
        "accounts.name_characters",
        "accounts.password_too_short",
        "accounts.unknown_role",
    ]
    assert accounts.users() == []


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("", "accounts.name_empty"),
        ("x" * 65, "accounts.name_too_long"),
        ("-x", "accounts.name_characters"),
    ],
)
def test_bad_user_names(accounts: Accounts, name: str, key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.add_user(name, GOOD)
    assert keys(error) == [key]


def test_names_are_unique_case_insensitively(accounts: Accounts) -> None:
    accounts.add_user("mara", GOOD)
    with pytest.raises(InvalidInput) as error:
        accounts.add_user("MARA", GOOD + "?")
    assert keys(error) == ["accounts.name_taken"]
    assert len(accounts.users()) == 1


def test_ensure_admin_creates_the_admin_once(accounts: Accounts) -> None:
    password = accounts.ensure_admin()
    assert password is not None
    assert len(password) >= MIN_PASSWORD_LENGTH
    assert password_problems(password, "admin") == []
    assert accounts.verify("admin", password).role is UserRole.ADMIN
    assert accounts.ensure_admin() is None
    assert [u.name for u in accounts.users()] == ["admin"]


def test_ensure_admin_generates_a_different_password_per_installation(
    sqlite_url: str, tmp_path: Path
) -> None:
    with Accounts(sqlite_url, hasher=FAST_HASHER) as one:
        first = one.ensure_admin()
    with Accounts(f"sqlite:///{tmp_path / 'other.db'}", hasher=FAST_HASHER) as two:
        other = two.ensure_admin()
    assert first is not None
    assert first != other


def test_ensure_admin_respects_an_existing_admin(accounts: Accounts) -> None:
    accounts.add_user("chefin", GOOD, role="admin")
    assert accounts.ensure_admin() is None
    assert [u.name for u in accounts.users()] == ["chefin"]


def test_no_default_password(accounts: Accounts) -> None:
    for guess in ("admin", "password", "sicherheitsanalyse", "admin123456789"):
        assert not accounts.verify("admin", guess).ok


def test_concurrent_failures_are_all_counted(accounts: Accounts) -> None:
    """Simultaneous wrong attempts on one name neither fail nor lose a count."""
    attempts = 8
    barrier = threading.Barrier(attempts)

    def attempt() -> SignInStatus:
        barrier.wait()
        return accounts.verify("ghost", "whatever-whatever").status

    with ThreadPoolExecutor(attempts) as pool:
        statuses = list(pool.map(lambda _: attempt(), range(attempts)))
    assert set(statuses) <= {SignInStatus.WRONG, SignInStatus.THROTTLED}
    with accounts.engine.connect() as connection:
        failures = connection.execute(select(sign_in_throttle_table.c.failures)).scalar_one()
    assert failures == statuses.count(SignInStatus.WRONG)
    assert failures >= FREE_ATTEMPTS


class CountingHasher(PasswordHasher):
    """The real hasher, counting verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def test_unknown_names_cost_one_verification_like_known_ones(
    database_url: str, clock: Clock
) -> None:
    hasher = CountingHasher()
    with Accounts(database_url, hasher=hasher, clock=clock) as accounts:
        accounts.add_user("mara", GOOD)
        accounts.verify("mara", "falsch-falsch-falsch")
        assert hasher.verifications == 1
        accounts.verify("nobody", "falsch-falsch-falsch")
        assert hasher.verifications == 2
        accounts.verify("x" * 500, "p" * 10_000)  # over-long input is cut, still one check
        assert hasher.verifications == 3


def test_remove_user(accounts: Accounts) -> None:
    accounts.add_user("mara", GOOD)
    accounts.verify("mara", "falsch-falsch-falsch")
    accounts.remove_user("MARA")
    assert accounts.users() == []
    assert not accounts.verify("mara", GOOD).ok
    with pytest.raises(InvalidInput) as error:
        accounts.remove_user("mara")
    assert keys(error) == ["accounts.unknown_user"]


def test_the_last_admin_cannot_be_removed(accounts: Accounts) -> None:
    password = accounts.ensure_admin()
    assert password is not None
    with pytest.raises(InvalidInput) as error:
        accounts.remove_user("admin")
    assert keys(error) == ["accounts.last_admin"]
    accounts.add_user("chefin", GOOD, role=UserRole.ADMIN)
    accounts.remove_user("admin")
    assert [u.name for u in accounts.users()] == ["chefin"]


def test_accounts_share_the_store_engine(store_factory: StoreFactory, clock: Clock) -> None:
    """The app signs in against the store's engine (explicit transactions on SQLite)."""
    with store_factory() as store:
        accounts = Accounts(store.engine, hasher=FAST_HASHER, clock=clock)
        accounts.add_user("mara", GOOD)
        for _ in range(FREE_ATTEMPTS):
            accounts.verify("mara", "falsch-falsch-falsch")
        assert accounts.verify("mara", GOOD).status is SignInStatus.THROTTLED
        clock.advance(MAX_DELAY_SECONDS)
        assert accounts.verify("mara", GOOD).ok


@pytest.mark.parametrize(
    ("email", "allowed", "expected"),
    [
        ("anna@stadt.de", ["anna@stadt.de"], True),
        ("Anna@Stadt.DE", ["anna@stadt.de"], True),
        ("bernd@stadt.de", ["@stadt.de"], True),
        ("bernd@stadt.de", ["anna@stadt.de"], False),
        ("eve@stadt.de.evil.example", ["@stadt.de"], False),
        ("anna@stadt.de", [], False),  # fail closed: an empty list admits nobody
        (None, ["@stadt.de"], False),
        ("no-address", ["no-address"], False),
    ],
)
def test_oidc_managers_must_be_listed_by_address_or_domain(
    email: str | None, allowed: list[str], expected: bool
) -> None:
    assert oidc_manager_allowed(email, allowed) is expected
