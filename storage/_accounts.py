"""Local manager accounts: argon2 password hashes and throttled sign-in.

Used when OIDC (``st.login``) is not configured. Two tables (declared in
:mod:`storage._schema`):

* ``users``: name (unique, lower case), argon2id hash, role, the day the account was created;
* ``sign_in_throttle``: failed attempts per attempted user name and the moment before which
  the next attempt is refused. The name is stored only as a keyed hash (the key lives in the
  key file, :mod:`storage._keys`): whatever was typed into the name field, even a password,
  never reaches the database. It is about managers, never about respondents, and a row is
  deleted on the next successful sign-in.

Sign-in cannot be turned against the server or the rightful user:

* **Bounded work.** One argon2 check takes 64 MiB and tens of milliseconds. At most
  :data:`MAX_CONCURRENT_VERIFICATIONS` run at once in the process (a semaphore shared by every
  :class:`Accounts`); an attempt that finds no free slot within
  :data:`VERIFY_WAIT_SECONDS` is refused as *busy*, without counting as a failure and without
  checking anything.
* **Reserved, then checked.** Before the password is checked, the attempt is counted as a
  failure in one atomic statement (an upsert whose update only happens when the name is not
  throttled, ``RETURNING`` the count), which also sets the back-off the failure would earn. So
  parallel attempts cannot all slip through between reading and writing the counter: once the
  free attempts are used, exactly one attempt at a time per name is checked. A successful
  check deletes the row again.
* **Short back-off.** The first :data:`FREE_ATTEMPTS` failures cost nothing; after that the
  wait doubles with every failure, ``wait = BASE_DELAY_SECONDS · 2^(failures − FREE_ATTEMPTS)``,
  capped at :data:`MAX_DELAY_SECONDS` (30 s). Anyone can make a name wait, so the cap is short:
  an attacker who fails on purpose delays the rightful user by at most half a minute, while
  guessing stays limited to about two attempts per minute per name (and the argon2 bound). The
  browser session has its own, longer back-off (``views/signin.py``).

Unknown names are throttled the same way and verified against a dummy hash, so neither the
answer nor its timing tells whether a name exists.
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Engine,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from core import InvalidInput, Location, Problem, t
from storage._engine import make_engine
from storage._keys import key_file_path, load_keys
from storage._schema import (
    ACCOUNT_TABLES,
    MAX_NAME_LENGTH,
    memberships_table,
    metadata,
    sign_in_throttle_table,
    users_table,
)
from survey import keyed_hash

MIN_PASSWORD_LENGTH = 12
#: Long enough for any pass phrase, short enough that hashing cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 256
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]*$")
ADMIN_NAME = "admin"

FREE_ATTEMPTS = 3
BASE_DELAY_SECONDS = 1.0
#: Longest wait one name can be put under, by anyone (see the module docstring).
MAX_DELAY_SECONDS = 30.0
#: Longest wait of one browser session after its own failures: it only slows the session that
#: failed, so it may be long (an attacker with fresh sessions still meets the per-name wait).
SESSION_MAX_DELAY_SECONDS = 15 * 60.0
#: argon2 checks running at once in this process; each takes 64 MiB with the defaults.
MAX_CONCURRENT_VERIFICATIONS = 2
#: How long an attempt waits for a free check before it is refused as busy.
VERIFY_WAIT_SECONDS = 2.0
#: Process-wide: several Accounts objects (one per database URL) share the bound.
_VERIFICATION_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_VERIFICATIONS)
#: Throttle rows of names that have been quiet this long are removed.
THROTTLE_RETENTION = timedelta(days=1)


class UserRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"


class SignInStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"
    #: Every password check of the process was in use: nothing was checked or counted.
    BUSY = "busy"


@dataclass(frozen=True)
class SignInResult:
    """The outcome of :meth:`Accounts.verify`.

    ``wait_seconds`` is how long to wait before the next attempt (0 when none is needed);
    ``role`` is set only when ``status`` is OK.
    """

    status: SignInStatus
    name: str
    wait_seconds: float = 0.0
    role: UserRole | None = None

    @property
    def ok(self) -> bool:
        return self.status is SignInStatus.OK

    def message(self, lang: str | None = None) -> str:
        """What to tell the person signing in (empty when signed in)."""
        if self.status is SignInStatus.OK:
            return ""
        if self.status is SignInStatus.THROTTLED:
            return t("accounts.sign_in_throttled", lang, count=max(1, math.ceil(self.wait_seconds)))
        if self.status is SignInStatus.BUSY:
            return t("accounts.sign_in_busy", lang)
        return t("accounts.sign_in_wrong", lang)


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: UserRole
    created_on: date


def normalise_name(name: str) -> str:
    """User names compare case-insensitively and without surrounding blanks."""
    return name.strip().lower()


def name_problems(name: str) -> list[Problem]:
    """What is wrong with ``name`` as a user name (empty list: nothing)."""
    where = Location(field="name")
    normalised = normalise_name(name)
    if not normalised:
        return [Problem(where, "accounts.name_empty")]
    if len(normalised) > MAX_NAME_LENGTH:
        return [Problem(where, "accounts.name_too_long", {"max": MAX_NAME_LENGTH})]
    if not NAME_PATTERN.match(normalised):
        return [Problem(where, "accounts.name_characters", {"name": name})]
    return []


def password_problems(password: str, name: str = "") -> list[Problem]:
    """Every way ``password`` breaks the policy, as problems on the field ``password``.

    Policy: at least :data:`MIN_PASSWORD_LENGTH` characters, at most
    :data:`MAX_PASSWORD_LENGTH`, more than two distinct characters, not containing the user
    name.
    """
    where = Location(field="password")
    problems: list[Problem] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem(
                where,
                "accounts.password_too_short",
                {"min": MIN_PASSWORD_LENGTH, "length": len(password)},
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(Problem(where, "accounts.password_too_long", {"max": MAX_PASSWORD_LENGTH}))
    if password and len(set(password)) <= 2:
        problems.append(Problem(where, "accounts.password_monotonous"))
    normalised = normalise_name(name)
    if normalised and normalised in password.lower():
        problems.append(Problem(where, "accounts.password_contains_name"))
    return problems


def oidc_manager_allowed(email: str | None, allowed: Sequence[str]) -> bool:
    """Whether an identity-provider user may use the manager pages.

    ``allowed`` lists e-mail addresses (``anna@stadt.de``) and whole domains (``@stadt.de``),
    compared without regard to case. An empty list lets nobody in: an identity provider
    usually serves a whole administration, and being known to it must not be enough.
    """
    if not email or "@" not in email:
        return False
    address = email.strip().lower()
    domain = address[address.rindex("@") :]
    entries = {entry.strip().lower() for entry in allowed if entry.strip()}
    return address in entries or domain in entries


def generate_password() -> str:
    """A strong random password (144 bits from :mod:`secrets`, 24 URL-safe characters)."""
    return secrets.token_urlsafe(18)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def back_off_seconds(failures: int, cap: float = MAX_DELAY_SECONDS) -> float:
    """Seconds to wait after ``failures`` consecutive failures (see the module docstring);
    ``cap`` is the longest wait (per name: :data:`MAX_DELAY_SECONDS`; a browser session gets
    :data:`SESSION_MAX_DELAY_SECONDS`)."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(cap, BASE_DELAY_SECONDS * 2.0 ** min(failures - FREE_ATTEMPTS, 32))


_DUMMY_HASHES: dict[tuple[object, ...], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random secret with ``hasher``'s parameters, made once per parameter set.

    Made up front, so even the first attempt with an unknown name costs one verification,
    like every attempt with a known name.
    """
    key = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        hasher.type,
    )
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(18))
    return _DUMMY_HASHES[key]


def _dialect_insert(dialect: str) -> Any:
    """The dialect's INSERT, which has ``ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Accounts:
    """Manager accounts stored in the product database.

    Parameters
    ----------
    engine
        An engine from :func:`storage._engine.make_engine`, or a database URL (``None``: the
        configured default).
    hasher
        The argon2 hasher; the default uses argon2-cffi's recommended argon2id parameters.
    clock
        Returns the current UTC time (naive); injectable so back-off can be tested without
        sleeping.
    throttle_key
        The key that hashes attempted names; default: the installation's key file.
    verify_wait
        Seconds an attempt waits for a free password check before it is refused as busy.
    """

    def __init__(
        self,
        engine: Engine | str | None = None,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = _utc_now,
        throttle_key: bytes | None = None,
        verify_wait: float = VERIFY_WAIT_SECONDS,
    ) -> None:
        self._owns_engine = not isinstance(engine, Engine)
        self.engine = engine if isinstance(engine, Engine) else make_engine(engine)
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._verify_wait = verify_wait
        self._dummy_hash = _dummy_hash(self._hasher)
        with self.engine.begin() as connection:
            metadata.create_all(connection, tables=list(ACCOUNT_TABLES))
            if throttle_key is None:
                throttle_key = load_keys(connection, key_file_path(self.engine.url)).throttle
        self._throttle_key = throttle_key

    def _name_hash(self, normalised: str) -> str:
        """The throttle row's key for an attempted name (typed text never reaches the file)."""
        return keyed_hash(self._throttle_key, "sign-in", normalised)

    def close(self) -> None:
        """Release the engine if this object created it from a URL."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- managing users -------------------------------------------------------------------

    def add_user(self, name: str, password: str, role: UserRole | str = UserRole.MANAGER) -> None:
        """Create a user; :class:`InvalidInput` for a bad name or password or a taken name."""
        problems = [*name_problems(name), *password_problems(password, name)]
        role_value = self._role(role, problems)
        if problems:
            raise InvalidInput(problems)
        normalised = normalise_name(name)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(users_table).values(
                        name=normalised,
                        password_hash=self._hasher.hash(password),
                        role=role_value,
                        created_on=self._clock().date(),
                    )
                )
        except IntegrityError:
            raise InvalidInput(
                [Problem(Location(field="name"), "accounts.name_taken", {"name": normalised})]
            ) from None

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password; :class:`InvalidInput` for an unknown user or bad password."""
        normalised = normalise_name(name)
        problems = password_problems(password, name)
        if problems:
            raise InvalidInput(problems)
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(users_table)
                .where(users_table.c.name == normalised)
                .values(password_hash=self._hasher.hash(password))
            ).rowcount
            if changed:
                connection.execute(
                    delete(sign_in_throttle_table).where(
                        sign_in_throttle_table.c.name_hash == self._name_hash(normalised)
                    )
                )
        if not changed:
            raise InvalidInput(
                [Problem(Location(field="name"), "accounts.unknown_user", {"name": normalised})]
            )

    def remove_user(self, name: str) -> None:
        """Delete a user; :class:`InvalidInput` for an unknown user or the last administrator."""
        normalised = normalise_name(name)
        where = Location(field="name")
        with self.engine.begin() as connection:
            role = connection.execute(
                select(users_table.c.role).where(users_table.c.name == normalised)
            ).scalar_one_or_none()
            if role is None:
                raise InvalidInput([Problem(where, "accounts.unknown_user", {"name": normalised})])
            if role == UserRole.ADMIN.value:
                admins = connection.execute(
                    select(users_table.c.id).where(users_table.c.role == UserRole.ADMIN.value)
                ).all()
                if len(admins) == 1:
                    raise InvalidInput(
                        [Problem(where, "accounts.last_admin", {"name": normalised})]
                    )
            connection.execute(delete(users_table).where(users_table.c.name == normalised))
            # A later account of the same name must not inherit the municipalities (an
            # accounts-only database, opened without the store, has no memberships).
            if inspect(connection).has_table(memberships_table.name):
                connection.execute(
                    delete(memberships_table).where(memberships_table.c.account == normalised)
                )
            connection.execute(
                delete(sign_in_throttle_table).where(
                    sign_in_throttle_table.c.name_hash == self._name_hash(normalised)
                )
            )

    def users(self) -> list[UserRecord]:
        """Every account, by name."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(users_table.c.name, users_table.c.role, users_table.c.created_on).order_by(
                    users_table.c.name
                )
            ).all()
        return [
            UserRecord(name=r.name, role=UserRole(r.role), created_on=r.created_on) for r in rows
        ]

    def ensure_admin(self) -> str | None:
        """On the very first run, create ``admin`` with a generated password and return it.

        Returns ``None`` when an administrator (or a user called ``admin``) already exists.
        The password is returned exactly once and stored only as a hash: the caller prints it.
        """
        with self.engine.connect() as connection:
            existing = connection.execute(
                select(users_table.c.id)
                .where(
                    (users_table.c.role == UserRole.ADMIN.value)
                    | (users_table.c.name == ADMIN_NAME)
                )
                .limit(1)
            ).first()
        if existing is not None:
            return None
        password = generate_password()
        try:
            self.add_user(ADMIN_NAME, password, UserRole.ADMIN)
        except InvalidInput:
            return None  # another replica created it a moment ago
        return password

    # --- signing in -----------------------------------------------------------------------

    def verify(self, name: str, password: str) -> SignInResult:
        """Check a sign-in attempt: bounded, reserved atomically, with back-off per name.

        A throttled attempt is refused without looking at the password and does not count as
        a further failure; so is a *busy* one (no free password check within the wait).
        """
        normalised = normalise_name(name)[:MAX_NAME_LENGTH]
        if not _VERIFICATION_SLOTS.acquire(timeout=self._verify_wait):
            return SignInResult(SignInStatus.BUSY, normalised)
        try:
            return self._verify(normalised, password)
        finally:
            _VERIFICATION_SLOTS.release()

    def _verify(self, normalised: str, password: str) -> SignInResult:
        now = self._clock()
        name_hash = self._name_hash(normalised)
        reserved = self._reserve(name_hash, now)
        if isinstance(reserved, SignInResult):
            return SignInResult(reserved.status, normalised, reserved.wait_seconds)
        user = None
        if NAME_PATTERN.match(normalised):
            # A name no user can have is not even looked up (PostgreSQL cannot compare a NUL).
            with self.engine.connect() as connection:
                user = connection.execute(
                    select(users_table.c.password_hash, users_table.c.role).where(
                        users_table.c.name == normalised
                    )
                ).first()
        if user is None or len(password) > MAX_PASSWORD_LENGTH:
            self._check_against_dummy(password)
            return SignInResult(SignInStatus.WRONG, normalised, reserved)
        try:
            self._hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return SignInResult(SignInStatus.WRONG, normalised, reserved)
        with self.engine.begin() as connection:
            connection.execute(
                delete(sign_in_throttle_table).where(
                    sign_in_throttle_table.c.name_hash == name_hash
                )
            )
            if self._hasher.check_needs_rehash(user.password_hash):
                connection.execute(
                    update(users_table)
                    .where(users_table.c.name == normalised)
                    .values(password_hash=self._hasher.hash(password))
                )
        return SignInResult(SignInStatus.OK, normalised, role=UserRole(user.role))

    def _check_against_dummy(self, password: str) -> None:
        """Spend the same work as a real verification, so unknown names are not faster."""
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, password[:MAX_PASSWORD_LENGTH])

    def _reserve(self, name_hash: str, now: datetime) -> float | SignInResult:
        """Count this attempt as a failure before checking it, atomically.

        One upsert increments the counter only when the name is not throttled (its update's
        ``WHERE``), and returns the new count; no row comes back for a throttled name. Both
        engines serialise it per row (SQLite's write lock, PostgreSQL's row lock, with the
        ``WHERE`` re-evaluated on the latest row version), so parallel attempts cannot all
        pass. The back-off the failure earns is set in the same transaction. Returns that
        back-off in seconds, or the THROTTLED result with the remaining wait.
        """
        table = sign_in_throttle_table
        with self.engine.begin() as connection:
            upsert = _dialect_insert(connection.dialect.name)(table).values(
                name_hash=name_hash, failures=1, not_before=now
            )
            failures = connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=[table.c.name_hash],
                    set_={"failures": table.c.failures + 1},
                    where=table.c.not_before <= now,
                ).returning(table.c.failures)
            ).scalar_one_or_none()
            if failures is None:
                not_before = connection.execute(
                    select(table.c.not_before).where(table.c.name_hash == name_hash)
                ).scalar_one()
                wait = max(0.0, (not_before - now).total_seconds())
                return SignInResult(SignInStatus.THROTTLED, "", wait)
            wait = back_off_seconds(failures)
            connection.execute(
                update(table)
                .where(table.c.name_hash == name_hash)
                .values(not_before=now + timedelta(seconds=wait))
            )
            connection.execute(delete(table).where(table.c.not_before < now - THROTTLE_RETENTION))
        return wait

    @staticmethod
    def _role(role: UserRole | str, problems: list[Problem]) -> str:
        try:
            return UserRole(role).value
        except ValueError:
            problems.append(
                Problem(
                    Location(field="role"),
                    "accounts.unknown_role",
                    {"role": role, "roles": ", ".join(r.value for r in UserRole)},
                )
            )
            return ""
