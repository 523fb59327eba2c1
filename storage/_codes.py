"""Single-use access codes, kept only as keyed hashes, grouped in batches (one per mailing).

A code knows whether it was used, never by which response.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import Connection, case, func, select
from sqlalchemy.exc import IntegrityError

from core import InvalidInput, Location, Problem, StorageError, t
from storage._engine import WRITE_ATTEMPTS, Database, scoped_municipality
from storage._questionnaires import require_questionnaire
from storage._schema import access_codes_table, code_batches_table
from survey import generate_code, keyed_hash, normalise_code

MAX_CODES_PER_BATCH = 1_000_000
#: Wrong codes per questionnaire and minute, summed over every session of the process, after
#: which code checks pause until the minute is over. A respondent's own session has its own,
#: earlier back-off; this one cannot be reset by reloading the page (a new session).
WRONG_CODES_PER_MINUTE = 30
_WINDOW_SECONDS = 60.0


class WrongCodeLimiter:
    """Counts wrong codes per questionnaire in fixed one-minute windows, in memory.

    Nothing about an attempt reaches the database (no time, no count, no address): the
    limiter exists to make guessing slow for everyone, not to record anyone. Per process:
    with several app replicas each limits on its own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def record_failure(self, questionnaire_id: str) -> None:
        now = self._clock()
        with self._lock:
            start, failures = self._windows.get(questionnaire_id, (now, 0))
            if now - start >= _WINDOW_SECONDS:
                start, failures = now, 0
            self._windows[questionnaire_id] = (start, failures + 1)

    def wait(self, questionnaire_id: str) -> float:
        """Seconds until codes of the questionnaire are checked again (0: now)."""
        now = self._clock()
        with self._lock:
            start, failures = self._windows.get(questionnaire_id, (now, 0))
        if failures < WRONG_CODES_PER_MINUTE or now - start >= _WINDOW_SECONDS:
            return 0.0
        return _WINDOW_SECONDS - (now - start)


class CodeStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    UNKNOWN = "unknown"

    def message(self, lang: str | None = None) -> str:
        return t(f"storage.code_status.{self.value}", lang)


@dataclass(frozen=True)
class CodeBatch:
    """Freshly created codes: the only moment their plaintext exists on the server."""

    id: str
    questionnaire_id: str
    stratum: str | None
    codes: list[str]


@dataclass(frozen=True)
class CodeBatchSummary:
    id: str
    stratum: str | None
    created_on: date
    issued: int
    used: int


class Codes:
    """The ``code_batches`` and ``access_codes`` tables."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.limiter = WrongCodeLimiter()

    def hash(self, questionnaire_id: str, normalised: str) -> str:
        """The stored form of a normalised code (see :func:`survey.normalise_code`)."""
        return keyed_hash(self._database.keys.code, questionnaire_id, normalised)

    def create(self, questionnaire_id: str, count: int, *, stratum: str | None = None) -> CodeBatch:
        """See :meth:`storage.Store.create_codes`."""
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not (1 <= count <= MAX_CODES_PER_BATCH)
        ):
            raise InvalidInput(
                [
                    Problem(
                        Location(field="count"),
                        "storage.bad_count",
                        {"value": count, "max": MAX_CODES_PER_BATCH},
                    )
                ]
            )
        if stratum is not None and not stratum.strip():
            stratum = None
        for _attempt in range(WRITE_ATTEMPTS):
            codes: set[str] = set()
            while len(codes) < count:
                codes.add(generate_code())
            batch_id = secrets.token_hex(6)
            try:
                with self._database.write() as connection:
                    require_questionnaire(connection, questionnaire_id)
                    connection.execute(
                        code_batches_table.insert().values(
                            id=batch_id,
                            questionnaire_id=questionnaire_id,
                            stratum=stratum,
                            created_on=date.today(),
                            issued=count,
                            municipality=scoped_municipality(),
                        )
                    )
                    connection.execute(
                        access_codes_table.insert(),
                        [
                            {
                                "code_hash": self.hash(questionnaire_id, _normalised(code)),
                                "batch_id": batch_id,
                                "used": False,
                                "municipality": scoped_municipality(),
                            }
                            for code in codes
                        ],
                    )
            except IntegrityError:  # a 1-in-2^59 collision with an existing code: draw again
                continue
            return CodeBatch(
                id=batch_id, questionnaire_id=questionnaire_id, stratum=stratum, codes=sorted(codes)
            )
        raise StorageError("could not create unique codes")

    def batches(self, questionnaire_id: str) -> list[CodeBatchSummary]:
        """Every code batch with issued and used counts (for response rates per stratum)."""
        b, c = code_batches_table, access_codes_table
        used = func.sum(case((c.c.used, 1), else_=0))
        query = (
            select(b.c.id, b.c.stratum, b.c.created_on, b.c.issued, used.label("used"))
            .select_from(b.outerjoin(c, c.c.batch_id == b.c.id))
            .where(b.c.questionnaire_id == questionnaire_id)
            .group_by(b.c.id, b.c.stratum, b.c.created_on, b.c.issued)
            .order_by(b.c.created_on, b.c.id)
        )
        with self._database.read() as connection:
            rows = connection.execute(query).all()
        return [
            CodeBatchSummary(
                id=row.id,
                stratum=row.stratum,
                created_on=row.created_on,
                issued=row.issued,
                used=int(row.used or 0),
            )
            for row in rows
        ]

    def check(self, questionnaire_id: str, code: str) -> CodeStatus:
        """Whether typed ``code`` can still submit a response to the questionnaire."""
        normalised = normalise_code(code)
        if normalised is None:
            self.limiter.record_failure(questionnaire_id)
            return CodeStatus.UNKNOWN
        with self._database.read() as connection:
            used = self.used(connection, questionnaire_id, normalised)
        status = status_of(used)
        if status is CodeStatus.UNKNOWN:
            self.limiter.record_failure(questionnaire_id)
        return status

    def used(
        self, connection: Connection, questionnaire_id: str, normalised: str, *, lock: bool = False
    ) -> bool | None:
        """Whether the code is used (``None``: unknown). ``lock`` holds the code's row until
        the transaction ends (PostgreSQL; SQLite's writers are serialised anyway), so a draft
        cannot be saved while a submission with the same code is committing."""
        b, c = code_batches_table, access_codes_table
        query = (
            select(c.c.used)
            .select_from(c.join(b, b.c.id == c.c.batch_id))
            .where(
                c.c.code_hash == self.hash(questionnaire_id, normalised),
                b.c.questionnaire_id == questionnaire_id,
            )
        )
        if lock:
            query = query.with_for_update(of=c)
        return connection.execute(query).scalar_one_or_none()


def _normalised(code: str) -> str:
    normalised = normalise_code(code)
    assert normalised is not None  # a generated code is always well-formed
    return normalised


def status_of(used: bool | None) -> CodeStatus:
    """The status of a code from :meth:`Codes.used`."""
    if used is None:
        return CodeStatus.UNKNOWN
    return CodeStatus.USED if used else CodeStatus.VALID
