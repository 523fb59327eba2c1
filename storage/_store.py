"""Durable, anonymous storage of questionnaires, access codes, drafts and responses.

:class:`Store` is the only way the rest of the product touches these tables. Guarantees:

* a response is validated completely before anything is written (:class:`InvalidInput`
  otherwise) and stored in one transaction together with its side effects: the submission
  token, the used flag of its code and the deletion of the code's draft;
* a submission token makes a double click or a reload a no-op that reports the same result;
* a code is used at most once: a conditional ``UPDATE … WHERE used = false`` inside the
  transaction that inserts the response, so concurrent submissions with one code give one
  response;
* nothing finer than the submission date is stored, and no row links a code to a response.

On SQLite, submissions go through a *group committer*: each caller hands its unit of work to
one committer thread, which runs the waiting units in one transaction (a rejected unit has
written nothing, so it does not affect the others; the inserts of the accepted ones are
written together at the end), commits durably (``synchronous=FULL``) and only then returns
every caller its result. Durability per response is unchanged (a caller is answered only
after the commit that contains its response reached the disk); fsync and lock hand-over are
shared by the batch. If a shared transaction fails, each of its units is retried alone.
PostgreSQL runs each submission in its own transaction (it groups the WAL flushes of
concurrent commits itself).
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar, cast

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.json as pa_json  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, bindparam, case, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from core import InvalidInput, LocalizedText, Location, Problem, StorageError, t
from storage._answers import (
    AnswerLayout,
    answer_layout,
    answers_from_codebook,
    cell_value,
    codebook_columns,
    is_code,
    meta_problems,
    submitted_on_date,
    validate_answers,
)
from storage._engine import make_engine
from storage._schema import (
    access_codes_table,
    code_batches_table,
    drafts_table,
    installation_secrets_table,
    migrate,
    questionnaire_revisions_table,
    questionnaires_table,
    responses_table,
    submission_tokens_table,
)
from survey import (
    RESPONSE_META_COLUMNS,
    Access,
    Questionnaire,
    generate_code,
    keyed_hash,
    normalise_code,
)

T = TypeVar("T")

MAX_CODES_PER_BATCH = 1_000_000
#: Most submissions one group commit takes; bounds the latency of the last caller.
GROUP_COMMIT_MAX_BATCH = 256
_WRITE_ATTEMPTS = 5
#: Up to this many new responses are read incrementally; more trigger a full read.
INCREMENTAL_READ_MAX = 20_000
#: Rows per INSERT statement of a bulk import.
_IMPORT_CHUNK = 5_000


class QuestionnaireState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class CodeStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    UNKNOWN = "unknown"

    def message(self, lang: str | None = None) -> str:
        return t(f"storage.code_status.{self.value}", lang)


class SubmitStatus(StrEnum):
    STORED = "stored"
    CODE_REQUIRED = "code_required"
    CODE_UNKNOWN = "code_unknown"
    CODE_USED = "code_used"
    CLOSED = "closed"


@dataclass(frozen=True)
class SubmitResult:
    """What happened to a submission. ``duplicate``: the token was seen before and nothing
    new was written (a double click or reload after a stored response)."""

    status: SubmitStatus
    duplicate: bool = False

    @property
    def stored(self) -> bool:
        return self.status is SubmitStatus.STORED

    def message(self, lang: str | None = None) -> str:
        return t(f"storage.submit.{self.status.value}", lang)


@dataclass(frozen=True)
class QuestionnaireRecord:
    id: str
    revision: str
    title: LocalizedText
    access: Access
    state: QuestionnaireState


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


@dataclass(frozen=True)
class Draft:
    answers: dict[str, Any]
    page: int


class _Rejected(Exception):
    """Rolls back a submission's transaction (or savepoint) and reports ``status``."""

    def __init__(self, status: SubmitStatus) -> None:
        super().__init__(status.value)
        self.status = status


MAX_DRAFT_CHARS = 200_000


def _plain_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Draft answers without a questionnaire: only plain JSON values, bounded in size."""
    problems: list[Problem] = []
    plain: dict[str, Any] = {}
    for key, value in answers.items():
        if value is None:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        ok = isinstance(key, str) and (
            isinstance(value, bool | int | float | str)
            or (
                isinstance(value, list | tuple | set | frozenset) and all(is_code(v) for v in value)
            )
        )
        if not ok:
            problems.append(
                Problem(
                    Location(field=str(key)), "storage.answer.not_storable", {"value": repr(value)}
                )
            )
            continue
        plain[key] = (
            list(dict.fromkeys(value))
            if isinstance(value, list | tuple | set | frozenset)
            else value
        )
    if problems:
        raise InvalidInput(problems)
    if len(json.dumps(plain, ensure_ascii=False)) > MAX_DRAFT_CHARS:
        raise InvalidInput(
            [
                Problem(
                    Location(field="answers"), "storage.draft_too_large", {"max": MAX_DRAFT_CHARS}
                )
            ]
        )
    return plain


# --- the store ----------------------------------------------------------------------------


_TOKEN_SEEN = select(submission_tokens_table.c.token_hash).where(
    submission_tokens_table.c.token_hash == bindparam("token_hash")
)
_QUESTIONNAIRE_SETTINGS = select(questionnaires_table.c.state, questionnaires_table.c.access).where(
    questionnaires_table.c.id == bindparam("qid")
)
_CODE_LOOKUP = (
    select(access_codes_table.c.used, code_batches_table.c.stratum)
    .select_from(
        access_codes_table.join(
            code_batches_table, code_batches_table.c.id == access_codes_table.c.batch_id
        )
    )
    .where(
        access_codes_table.c.code_hash == bindparam("h"),
        code_batches_table.c.questionnaire_id == bindparam("qid"),
    )
)
_CODE_MARK_USED = (
    access_codes_table.update()
    .where(access_codes_table.c.code_hash == bindparam("h"), access_codes_table.c.used.is_(False))
    .values(used=True)
)
_DRAFT_DELETE = drafts_table.delete().where(drafts_table.c.draft_key == bindparam("k"))


@dataclass
class _PendingWrites:
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
            connection.execute(responses_table.insert(), self.responses)
        if self.draft_keys:
            connection.execute(_DRAFT_DELETE, self.draft_keys)


_Unit = Callable[[Connection, _PendingWrites], T]


@dataclass(frozen=True)
class _Submission:
    questionnaire_id: str
    revision: str
    token_hash: str
    code_hash: str | None
    draft_key: str | None
    code_malformed: bool
    row: dict[str, Any]


class Store:
    """All storage of the survey side, on SQLite or PostgreSQL by one URL.

    Parameters
    ----------
    url
        SQLAlchemy URL; default :func:`storage._engine.database_url` (the environment variable
        ``SICHERHEITSANALYSE_DATABASE_URL`` or ``./data/sicherheitsanalyse.db``).
    group_commit
        Share commits between concurrent submissions (default: on for SQLite, off for
        PostgreSQL). Each submission still returns only after its commit is durable.
    """

    def __init__(self, url: str | None = None, *, group_commit: bool | None = None) -> None:
        self.engine: Engine = make_engine(url)
        self._sqlite = self.engine.dialect.name == "sqlite"
        if self._sqlite:
            _explicit_sqlite_transactions(self.engine)
        with self._write() as connection:
            migrate(connection)
            # Still under the migration's lock, so concurrent starts agree on the keys.
            self._code_key = _installation_secret(connection, "code_hash_key")
            self._draft_key = _installation_secret(connection, "draft_hash_key")
            self._token_key = _installation_secret(connection, "token_hash_key")
        self._layouts: dict[tuple[str, str], AnswerLayout] = {}
        self._published: set[tuple[str, str]] = set()
        self._frames: dict[tuple[str, str], _CachedFrame] = {}
        use_group = self._sqlite if group_commit is None else group_commit
        self._committer = _GroupCommitter(self._run_alone, self._write) if use_group else None

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the committer thread and release the connections."""
        if self._committer is not None:
            self._committer.stop()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE),
        so a transaction never fails half-way because another writer got there first."""
        with self.engine.connect() as connection:
            if self._sqlite:
                connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def _layout(self, questionnaire: Questionnaire) -> AnswerLayout:
        key = (questionnaire.id, questionnaire.revision)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = answer_layout(questionnaire)
        return layout

    # -- questionnaires ---------------------------------------------------------------------

    def publish_questionnaire(
        self,
        questionnaire: Questionnaire,
        source_text: str,
        *,
        initial_state: QuestionnaireState = QuestionnaireState.OPEN,
    ) -> None:
        """Store ``questionnaire``'s revision and make it the current one.

        Idempotent per revision. On first publication the state is ``initial_state``; later
        publications keep the state (change it with :meth:`set_state`). Access comes from
        ``meta.access`` whenever a new revision is published; republishing a known revision
        (every app start does) keeps an access changed with :meth:`set_access`.
        """
        if not questionnaire.revision:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="revision"), "storage.no_revision", {"id": questionnaire.id}
                    )
                ]
            )
        q, r = questionnaires_table, questionnaire_revisions_table
        title = json.dumps(questionnaire.meta.title, ensure_ascii=False, sort_keys=True)
        with self._write() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas starting together publish the same file: one after the other.
                # (SQLite already serialises writers with BEGIN IMMEDIATE.)
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(7318005, hashtext(:id))"),
                    {"id": questionnaire.id},
                )
            exists = connection.execute(select(q.c.id).where(q.c.id == questionnaire.id)).first()
            new_revision = not _revision_published(
                connection, questionnaire.id, questionnaire.revision
            )
            if exists is None:
                connection.execute(
                    q.insert().values(
                        id=questionnaire.id,
                        revision=questionnaire.revision,
                        title=title,
                        access=questionnaire.meta.access.value,
                        state=QuestionnaireState(initial_state).value,
                    )
                )
            else:
                values = {"revision": questionnaire.revision, "title": title}
                if new_revision:  # an edited file says again whether codes are needed
                    values["access"] = questionnaire.meta.access.value
                connection.execute(q.update().where(q.c.id == questionnaire.id).values(**values))
            if new_revision:
                connection.execute(
                    r.insert().values(
                        questionnaire_id=questionnaire.id,
                        revision=questionnaire.revision,
                        published_on=date.today(),
                        source_text=source_text,
                    )
                )

    def questionnaires(self) -> list[QuestionnaireRecord]:
        q = questionnaires_table
        with self._read() as connection:
            rows = connection.execute(select(q).order_by(q.c.id)).all()
        return [
            QuestionnaireRecord(
                id=row.id,
                revision=row.revision,
                title=json.loads(row.title),
                access=Access(row.access),
                state=QuestionnaireState(row.state),
            )
            for row in rows
        ]

    def questionnaire(self, questionnaire_id: str) -> QuestionnaireRecord | None:
        """The record of one questionnaire, or ``None`` if it was never published."""
        return next((r for r in self.questionnaires() if r.id == questionnaire_id), None)

    def questionnaire_source(self, questionnaire_id: str, revision: str | None = None) -> str:
        """The YAML text of ``revision`` (default: the current one)."""
        q, r = questionnaires_table, questionnaire_revisions_table
        with self._read() as connection:
            if revision is None:
                revision = connection.execute(
                    select(q.c.revision).where(q.c.id == questionnaire_id)
                ).scalar_one_or_none()
                if revision is None:
                    raise _unknown_questionnaire(questionnaire_id)
            source = connection.execute(
                select(r.c.source_text).where(
                    r.c.questionnaire_id == questionnaire_id, r.c.revision == revision
                )
            ).scalar_one_or_none()
        if source is None:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="revision"),
                        "storage.unknown_revision",
                        {"id": questionnaire_id, "revision": revision},
                    )
                ]
            )
        return str(source)

    def set_state(self, questionnaire_id: str, state: str) -> None:
        """Open or close a questionnaire (``draft`` / ``open`` / ``closed``).

        Closing it deletes its unfinished drafts in the same transaction: answers that were
        never submitted cannot be submitted any more and must not be kept (data minimisation).
        """
        try:
            value = QuestionnaireState(state)
        except ValueError:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="state"),
                        "storage.bad_choice",
                        {
                            "value": state,
                            "expected": ", ".join(s.value for s in QuestionnaireState),
                        },
                    )
                ]
            ) from None
        with self._write() as connection:
            self._update_questionnaire_in(connection, questionnaire_id, state=value.value)
            if value is QuestionnaireState.CLOSED:
                connection.execute(
                    drafts_table.delete().where(drafts_table.c.questionnaire_id == questionnaire_id)
                )

    def set_access(self, questionnaire_id: str, access: Access | str) -> None:
        """Make a questionnaire open to anyone with the link, or code-only."""
        try:
            value = Access(access)
        except ValueError:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="access"),
                        "storage.bad_choice",
                        {"value": access, "expected": ", ".join(a.value for a in Access)},
                    )
                ]
            ) from None
        self._update_questionnaire(questionnaire_id, access=value.value)

    def _update_questionnaire(self, questionnaire_id: str, **values: str) -> None:
        with self._write() as connection:
            self._update_questionnaire_in(connection, questionnaire_id, **values)

    @staticmethod
    def _update_questionnaire_in(
        connection: Connection, questionnaire_id: str, **values: str
    ) -> None:
        q = questionnaires_table
        result = connection.execute(q.update().where(q.c.id == questionnaire_id).values(**values))
        if result.rowcount != 1:
            raise _unknown_questionnaire(questionnaire_id)

    # -- access codes -----------------------------------------------------------------------

    def create_codes(
        self, questionnaire_id: str, count: int, *, stratum: str | None = None
    ) -> CodeBatch:
        """Create ``count`` single-use codes for a published questionnaire.

        The plaintext codes are returned once (for the mail merge) and stored only as keyed
        hashes.
        """
        problems = []
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not (1 <= count <= MAX_CODES_PER_BATCH)
        ):
            problems.append(
                Problem(
                    Location(field="count"),
                    "storage.bad_count",
                    {"value": count, "max": MAX_CODES_PER_BATCH},
                )
            )
        if stratum is not None and not stratum.strip():
            stratum = None
        if problems:
            raise InvalidInput(problems)
        for _attempt in range(_WRITE_ATTEMPTS):
            codes: set[str] = set()
            while len(codes) < count:
                codes.add(generate_code())
            batch_id = secrets.token_hex(6)
            try:
                with self._write() as connection:
                    self._require_questionnaire(connection, questionnaire_id)
                    connection.execute(
                        code_batches_table.insert().values(
                            id=batch_id,
                            questionnaire_id=questionnaire_id,
                            stratum=stratum,
                            created_on=date.today(),
                            issued=count,
                        )
                    )
                    connection.execute(
                        access_codes_table.insert(),
                        [
                            {
                                "code_hash": self._code_hash(questionnaire_id, code),
                                "batch_id": batch_id,
                                "used": False,
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

    def code_batches(self, questionnaire_id: str) -> list[CodeBatchSummary]:
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
        with self._read() as connection:
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

    def check_code(self, questionnaire_id: str, code: str) -> CodeStatus:
        """Whether typed ``code`` can still submit a response to the questionnaire."""
        normalised = normalise_code(code)
        if normalised is None:
            return CodeStatus.UNKNOWN
        with self._read() as connection:
            used = self._code_used(
                connection, questionnaire_id, self._code_hash_raw(questionnaire_id, normalised)
            )
        if used is None:
            return CodeStatus.UNKNOWN
        return CodeStatus.USED if used else CodeStatus.VALID

    def _code_used(
        self, connection: Connection, questionnaire_id: str, code_hash: str, *, lock: bool = False
    ) -> bool | None:
        """Whether the code is used (``None``: unknown). ``lock`` holds the code's row until
        the transaction ends (PostgreSQL; SQLite's writers are serialised anyway), so a draft
        cannot be saved while a submission with the same code is committing."""
        b, c = code_batches_table, access_codes_table
        query = (
            select(c.c.used)
            .select_from(c.join(b, b.c.id == c.c.batch_id))
            .where(c.c.code_hash == code_hash, b.c.questionnaire_id == questionnaire_id)
        )
        if lock:
            query = query.with_for_update(of=c)
        return connection.execute(query).scalar_one_or_none()

    def _code_hash(self, questionnaire_id: str, code: str) -> str:
        normalised = normalise_code(code)
        assert normalised is not None
        return self._code_hash_raw(questionnaire_id, normalised)

    def _code_hash_raw(self, questionnaire_id: str, normalised: str) -> str:
        return keyed_hash(self._code_key, questionnaire_id, normalised)

    def _draft_hash(self, questionnaire_id: str, normalised: str) -> str:
        return keyed_hash(self._draft_key, questionnaire_id, normalised)

    # -- drafts -----------------------------------------------------------------------------

    def save_draft(
        self,
        questionnaire_id: str,
        code: str,
        answers: Mapping[str, Any],
        page: int,
        *,
        questionnaire: Questionnaire | None = None,
    ) -> None:
        """Keep a respondent's answers so far under (a hash of) their code, replacing any
        earlier draft. Needs a valid, unused code.

        With ``questionnaire`` the answers are checked exactly like a response; without it
        only their shape (plain JSON values, bounded size) — they are checked fully on
        submit anyway.
        """
        normalised = normalise_code(code)
        problems: list[Problem] = []
        if normalised is None:
            problems.append(Problem(Location(field="code"), "storage.code_status.unknown"))
        if isinstance(page, bool) or not isinstance(page, int) or page < 0:
            problems.append(Problem(Location(field="page"), "storage.bad_page", {"value": page}))
        if problems:
            raise InvalidInput(problems)
        assert normalised is not None
        if questionnaire is not None:
            form, _codebook = validate_answers(self._layout(questionnaire), answers)
        else:
            form = _plain_answers(answers)
        payload = json.dumps(form, ensure_ascii=False)
        draft_key = self._draft_hash(questionnaire_id, normalised)
        d = drafts_table
        with self._write() as connection:
            used = self._code_used(
                connection,
                questionnaire_id,
                self._code_hash_raw(questionnaire_id, normalised),
                lock=True,
            )
            if used is None or used:
                status = CodeStatus.UNKNOWN if used is None else CodeStatus.USED
                raise InvalidInput(
                    [Problem(Location(field="code"), f"storage.code_status.{status.value}")]
                )
            connection.execute(d.delete().where(d.c.draft_key == draft_key))
            connection.execute(
                d.insert().values(
                    draft_key=draft_key,
                    questionnaire_id=questionnaire_id,
                    page=page,
                    answers=payload,
                )
            )

    def load_draft(self, questionnaire_id: str, code: str) -> Draft | None:
        """The draft saved under ``code``, or ``None``."""
        normalised = normalise_code(code)
        if normalised is None:
            return None
        d = drafts_table
        with self._read() as connection:
            row = connection.execute(
                select(d.c.answers, d.c.page).where(
                    d.c.draft_key == self._draft_hash(questionnaire_id, normalised)
                )
            ).first()
        if row is None:
            return None
        return Draft(answers=json.loads(row.answers), page=row.page)

    # -- responses --------------------------------------------------------------------------

    def submit(
        self,
        questionnaire: Questionnaire,
        answers: Mapping[str, Any],
        *,
        language: str,
        submission_token: str,
        mode: str = "web",
        code: str | None = None,
    ) -> SubmitResult:
        """Store one complete response atomically.

        Raises
        ------
        InvalidInput
            The answers, language, mode or token are not acceptable; nothing was written.
        StorageError
            The database failed; nothing was written.
        """
        problems = meta_problems(questionnaire, language, mode)
        if not isinstance(submission_token, str) or len(submission_token) < 16:
            problems.append(Problem(Location(field="submission_token"), "storage.bad_token"))
        try:
            _form, codebook = validate_answers(self._layout(questionnaire), answers)
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
        if problems:
            raise InvalidInput(problems)
        normalised = normalise_code(code) if code is not None else None
        submission = _Submission(
            questionnaire_id=questionnaire.id,
            revision=questionnaire.revision,
            token_hash=keyed_hash(self._token_key, questionnaire.id, submission_token),
            code_hash=self._code_hash_raw(questionnaire.id, normalised) if normalised else None,
            draft_key=self._draft_hash(questionnaire.id, normalised) if normalised else None,
            code_malformed=code is not None and normalised is None,
            row={
                "id": uuid.uuid4().hex,
                "questionnaire_id": questionnaire.id,
                "questionnaire_revision": questionnaire.revision,
                "submitted_on": date.today(),
                "language": language,
                "mode": mode,
                "answers": json.dumps(codebook, ensure_ascii=False, separators=(",", ":")),
            },
        )

        def unit(connection: Connection, pending: _PendingWrites) -> SubmitResult:
            return self._apply_submission(connection, submission, pending)

        try:
            if self._committer is not None:
                return self._committer.run(unit)
            return self._run_alone(unit)
        except _Rejected as rejected:
            return SubmitResult(rejected.status)

    def _run_alone(self, unit: _Unit[T]) -> T:
        """``unit`` in a transaction of its own, retried after a lock timeout or a lost race."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._write() as connection:
                    pending = _PendingWrites()
                    value = unit(connection, pending)
                    pending.flush(connection)
                    return value
            except (IntegrityError, OperationalError):
                # A concurrent submission with the same token won (the retry sees its token),
                # or a deadlock / lock timeout: try again after a short pause.
                time.sleep(0.01 * (attempt + 1))
        raise StorageError("the response could not be stored")

    def _apply_submission(
        self, connection: Connection, s: _Submission, pending: _PendingWrites
    ) -> SubmitResult:
        """Check one submission and mark its code used; queue its inserts in ``pending``.

        A rejection (``_Rejected`` / ``InvalidInput``) happens before this submission wrote
        anything, so other submissions sharing the transaction are unaffected.
        """
        if (
            s.token_hash in pending.token_hashes
            or connection.execute(_TOKEN_SEEN, {"token_hash": s.token_hash}).first()
        ):
            return SubmitResult(SubmitStatus.STORED, duplicate=True)
        if (s.questionnaire_id, s.revision) not in self._published:
            if not _revision_published(connection, s.questionnaire_id, s.revision):
                raise InvalidInput(
                    [
                        Problem(
                            Location(field="revision"),
                            "storage.unknown_revision",
                            {"id": s.questionnaire_id, "revision": s.revision},
                        )
                    ]
                )
            self._published.add((s.questionnaire_id, s.revision))
        settings = pending.questionnaire_settings.get(s.questionnaire_id)
        if settings is None:
            settings = pending.questionnaire_settings[s.questionnaire_id] = tuple(
                connection.execute(_QUESTIONNAIRE_SETTINGS, {"qid": s.questionnaire_id}).one()
            )
        state, access = settings
        if state != QuestionnaireState.OPEN.value:
            raise _Rejected(SubmitStatus.CLOSED)
        stratum: str | None = None
        if s.code_malformed:
            raise _Rejected(SubmitStatus.CODE_UNKNOWN)
        if s.code_hash is None:
            if access == Access.CODE.value:
                raise _Rejected(SubmitStatus.CODE_REQUIRED)
        else:
            found = connection.execute(
                _CODE_LOOKUP, {"h": s.code_hash, "qid": s.questionnaire_id}
            ).first()
            if found is None:
                raise _Rejected(SubmitStatus.CODE_UNKNOWN)
            # The conditional update is what makes a code single-use under concurrency.
            if found.used or connection.execute(_CODE_MARK_USED, {"h": s.code_hash}).rowcount != 1:
                # A double click racing itself: the other click may have committed this very
                # token meanwhile (PostgreSQL reads committed rows per statement) — then it
                # is the same submission, not a second use of the code.
                if connection.execute(_TOKEN_SEEN, {"token_hash": s.token_hash}).first():
                    return SubmitResult(SubmitStatus.STORED, duplicate=True)
                raise _Rejected(SubmitStatus.CODE_USED)
            stratum = found.stratum
        pending.token_hashes.add(s.token_hash)
        pending.responses.append({**s.row, "stratum": stratum})
        if s.draft_key is not None:
            pending.draft_keys.append({"k": s.draft_key})
        return SubmitResult(SubmitStatus.STORED)

    def responses(self, questionnaire: Questionnaire) -> pd.DataFrame:
        """Every response to the questionnaire (all revisions) in codebook layout.

        Columns: :data:`RESPONSE_META_COLUMNS`, then one column per variable in
        ``questionnaire.variables()`` order. Integer codes, yes/no (1/0) and multi-choice
        options (1/0) are ``Int64``; decimals ``Float64``; text, dates and string codes
        ``string``; ``submitted_on`` is ``datetime64[s]`` (a date: there is no time). A
        variable a response does not have (unanswered, hidden, other revision) is ``NA``.

        Responses are immutable, so the frame is cached per questionnaire revision and a
        later call reads only the responses it has not seen (a list of ids first); the
        returned frame is a copy-on-write copy, safe to modify.
        """
        layout = self._layout(questionnaire)
        key = (questionnaire.id, questionnaire.revision)
        cached = self._frames.get(key)
        with self._read() as connection:
            wanted: list[str] | None = None  # None: read everything
            if cached is not None:
                # One joined string instead of 100,000 result rows: ten times faster to fetch.
                joined = connection.execute(
                    text(_IDS_QUERIES[connection.dialect.name]), {"q": questionnaire.id}
                ).scalar_one()
                ids = joined.split(",") if joined else []
                new_ids = [i for i in ids if i not in cached.ids]
                none_deleted = len(cached.ids) + len(new_ids) == len(ids)
                if none_deleted and not new_ids:
                    return cached.frame.copy(deep=False)
                if none_deleted and len(new_ids) <= INCREMENTAL_READ_MAX:
                    wanted = new_ids
            frame = self._read_frame(connection, questionnaire.id, layout, wanted)
        if cached is not None and wanted is not None:
            frame = _sorted_frame(pd.concat([cached.frame, frame], ignore_index=True))
        self._frames[key] = _CachedFrame(frame, frozenset(frame["response_id"].tolist()))
        return frame.copy(deep=False)

    def _read_frame(
        self,
        connection: Connection,
        questionnaire_id: str,
        layout: AnswerLayout,
        ids: list[str] | None,
    ) -> pd.DataFrame:
        """The responses (all, or those in ``ids``) in codebook layout."""
        sql = _NDJSON_QUERIES[connection.dialect.name]
        chunks: list[list[str] | None] = [None]
        if ids is not None:
            sql += " AND id IN :ids"
            chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)]
        statement = text(sql)
        if ids is not None:
            statement = statement.bindparams(bindparam("ids", expanding=True))
        blobs = []
        for chunk in chunks:
            params: dict[str, Any] = {"q": questionnaire_id}
            if chunk is not None:
                params["ids"] = chunk
            blob = connection.execute(statement, params).scalar_one()
            if blob:
                blobs.append(blob.encode("utf-8") if isinstance(blob, str) else bytes(blob))
        if not blobs:
            return _frame_from_rows([], layout)
        try:
            return _frame_from_ndjson(b"\n".join(blobs), layout)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # a variable changed its type between revisions: take the general path
        r = responses_table
        query = select(
            r.c.id,
            r.c.questionnaire_id,
            r.c.questionnaire_revision,
            r.c.submitted_on,
            r.c.language,
            r.c.mode,
            r.c.stratum,
            r.c.answers,
        ).where(r.c.questionnaire_id == questionnaire_id)
        if ids is not None:
            query = query.where(r.c.id.in_(ids))
        rows = connection.execute(query).all()
        return _frame_from_rows([tuple(row) for row in rows], layout)

    def import_responses(
        self,
        questionnaire: Questionnaire,
        frame: pd.DataFrame,
        *,
        mode: str = "paper",
        source: str | None = None,
        row_numbers: Sequence[int] | None = None,
        header_row: int = 1,
    ) -> int:
        """Store many responses given in the codebook layout at once (paper questionnaires
        keyed into a table, the demo municipality).

        Every row is checked as :meth:`submit` checks a response; any problem anywhere raises
        :class:`InvalidInput` with *all* of them (row, column, what is expected) and nothing is
        written. Otherwise all rows are inserted in one transaction. Per row the columns
        ``submitted_on`` (a date; empty: today), ``language`` (empty: the questionnaire's
        default) and ``stratum`` are kept; ``response_id`` and ``questionnaire_revision`` are
        not (each response gets a new random id and the revision of ``questionnaire``). The
        questionnaire need not be open: paper questionnaires arrive after the survey closed.

        Parameters
        ----------
        questionnaire
            A published revision; the columns are its :meth:`~Questionnaire.variables`.
        frame
            One row per response; missing variable columns are unanswered.
        mode
            Stored with every response: ``paper`` (default) or ``web``.
        source
            The file name shown in problems.
        row_numbers
            The row of each frame row in the file, for problems; default: position + 2 (the
            header is row 1, as a spreadsheet shows it).
        header_row
            The header's row in the file, where unknown and repeated columns are reported
            (:func:`survey.read_response_table` gives it; blank lines above it count).

        Returns
        -------
        int
            The number of responses stored.
        """
        layout = self._layout(questionnaire)
        numbers = list(row_numbers) if row_numbers is not None else range(2, len(frame) + 2)
        problems = [
            Problem(Location(file=source, field=p.location.field), p.key, p.params)
            for p in meta_problems(questionnaire, questionnaire.meta.default_language, mode)
        ]
        known = codebook_columns(layout) | set(RESPONSE_META_COLUMNS)
        columns = [str(c) for c in frame.columns]
        for column in dict.fromkeys(columns):
            where = Location(file=source, row=header_row, field=column)
            if column not in known:
                problems.append(
                    Problem(where, "installation.import.unknown_column", {"column": column})
                )
            elif columns.count(column) > 1:
                problems.append(
                    Problem(where, "installation.import.duplicate_column", {"column": column})
                )
        if problems:
            raise InvalidInput(problems)
        cells = frame.astype(object).where(frame.notna(), None)
        today = date.today()
        rows: list[dict[str, Any]] = []
        cells.columns = pd.Index(columns)
        records = cast(list[dict[str, Any]], cells.to_dict("records"))
        for number, record in zip(numbers, records, strict=True):
            row_problems: list[Problem] = []
            answers, found = answers_from_codebook(layout, record)
            row_problems += found
            codebook: dict[str, Any] = {}
            try:
                _form, codebook = validate_answers(layout, answers)
            except InvalidInput as invalid:
                row_problems += invalid.problems
            language = cell_value(record.get("language")) or questionnaire.meta.default_language
            row_problems += meta_problems(questionnaire, str(language), mode)
            submitted = cell_value(record.get("submitted_on"))
            submitted_on = today if submitted is None else submitted_on_date(submitted)
            if submitted_on is None:
                row_problems.append(
                    Problem(
                        Location(field="submitted_on"),
                        "storage.answer.not_a_date",
                        {"value": repr(submitted)},
                    )
                )
            other = cell_value(record.get("questionnaire_id"))
            if other is not None and str(other) != questionnaire.id:
                row_problems.append(
                    Problem(
                        Location(field="questionnaire_id"),
                        "installation.import.other_questionnaire",
                        {"found": other, "expected": questionnaire.id},
                    )
                )
            if row_problems:
                problems += [
                    Problem(
                        Location(file=source, row=number, field=p.location.field), p.key, p.params
                    )
                    for p in row_problems
                ]
                continue
            stratum = cell_value(record.get("stratum"))
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "questionnaire_id": questionnaire.id,
                    "questionnaire_revision": questionnaire.revision,
                    "submitted_on": submitted_on,
                    "language": str(language),
                    "mode": mode,
                    "stratum": None if stratum is None else str(stratum),
                    "answers": json.dumps(codebook, ensure_ascii=False, separators=(",", ":")),
                }
            )
        if problems:
            raise InvalidInput(problems)
        if not rows:
            return 0
        with self._write() as connection:
            if not _revision_published(connection, questionnaire.id, questionnaire.revision):
                raise InvalidInput(
                    [
                        Problem(
                            Location(file=source, field="revision"),
                            "storage.unknown_revision",
                            {"id": questionnaire.id, "revision": questionnaire.revision},
                        )
                    ]
                )
            for start in range(0, len(rows), _IMPORT_CHUNK):
                connection.execute(responses_table.insert(), rows[start : start + _IMPORT_CHUNK])
        return len(rows)

    def remove_responses(self, questionnaire_id: str) -> int:
        """Delete a questionnaire's responses, drafts, access codes and code batches in one
        transaction (the questionnaire and its revisions stay). Returns the responses removed.
        """
        r, d, b, c = responses_table, drafts_table, code_batches_table, access_codes_table
        with self._write() as connection:
            removed = connection.execute(r.delete().where(r.c.questionnaire_id == questionnaire_id))
            connection.execute(d.delete().where(d.c.questionnaire_id == questionnaire_id))
            batches = select(b.c.id).where(b.c.questionnaire_id == questionnaire_id)
            connection.execute(c.delete().where(c.c.batch_id.in_(batches)))
            connection.execute(b.delete().where(b.c.questionnaire_id == questionnaire_id))
        return int(removed.rowcount)

    def response_counts_by_day(self, questionnaire_id: str) -> pd.DataFrame:
        """Responses per submission date: columns ``submitted_on``, ``responses``."""
        r = responses_table
        query = (
            select(r.c.submitted_on, func.count().label("responses"))
            .where(r.c.questionnaire_id == questionnaire_id)
            .group_by(r.c.submitted_on)
            .order_by(r.c.submitted_on)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return pd.DataFrame(
            {
                "submitted_on": pd.to_datetime(
                    pd.Series([row.submitted_on for row in rows], dtype="object"), format="ISO8601"
                ).astype("datetime64[s]"),
                "responses": pd.array([row.responses for row in rows], dtype="Int64"),
            }
        )

    def _require_questionnaire(self, connection: Connection, questionnaire_id: str) -> None:
        q = questionnaires_table
        if connection.execute(select(q.c.id).where(q.c.id == questionnaire_id)).first() is None:
            raise _unknown_questionnaire(questionnaire_id)


# Reading 100,000 responses must stay well under a second (the dashboard reads them): the
# database merges each response's meta columns into its JSON and hands back one
# newline-delimited JSON blob, which pyarrow parses in C++ straight into typed columns.
# Meta keys are the RESPONSE_META_COLUMNS, which no item may use as its id.
# The meta object's closing brace is cut and the stored answers object (always written
# compact by ``submit``) spliced in after its opening brace: plain text operations, much
# cheaper than parsing every row's JSON in the database.
_NDJSON_QUERIES = {
    "sqlite": """
        SELECT CAST(group_concat(rtrim(json_object(
            'response_id', id, 'questionnaire_id', questionnaire_id,
            'questionnaire_revision', questionnaire_revision,
            'submitted_on', submitted_on, 'language', language, 'mode', mode,
            'stratum', stratum), '}')
            || CASE WHEN answers = '{}' THEN '}' ELSE ',' || substr(answers, 2) END,
            char(10)) AS BLOB)
        FROM responses WHERE questionnaire_id = :q""",
    "postgresql": """
        SELECT string_agg(left(json_build_object(
            'response_id', id, 'questionnaire_id', questionnaire_id,
            'questionnaire_revision', questionnaire_revision,
            'submitted_on', to_char(submitted_on, 'YYYY-MM-DD'), 'language', language,
            'mode', mode, 'stratum', stratum)::text, -1)
            || CASE WHEN answers = '{}' THEN '}' ELSE ',' || substr(answers, 2) END,
            chr(10))
        FROM responses WHERE questionnaire_id = :q""",
}
_IDS_QUERIES = {
    "sqlite": "SELECT group_concat(id, ',') FROM responses WHERE questionnaire_id = :q",
    "postgresql": "SELECT string_agg(id, ',') FROM responses WHERE questionnaire_id = :q",
}
_ARROW_TYPES = {"Int64": pa.int64(), "Float64": pa.float64(), "string": pa.string()}
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.string(): pd.StringDtype(),
}


def _frame_from_ndjson(blob: bytes, layout: AnswerLayout) -> pd.DataFrame:
    schema = pa.schema(
        [pa.field(name, pa.string()) for name in RESPONSE_META_COLUMNS]
        + [pa.field(v.id, _ARROW_TYPES[layout.dtypes[v.id]]) for v in layout.variables]
    )
    table = pa_json.read_json(
        pa.BufferReader(blob),
        read_options=pa_json.ReadOptions(block_size=8 << 20),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        ),
    )
    frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
    return _finish_frame(frame)


def _frame_from_rows(rows: list[tuple[Any, ...]], layout: AnswerLayout) -> pd.DataFrame:
    """The general path: one JSON object per row, parsed in Python."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    # One parse of one JSON array is several times faster than a json.loads per row.
    answers: list[dict[str, Any]] = json.loads("[" + ",".join(columns[7]) + "]")
    data: dict[str, Any] = {}
    for name, meta in zip(RESPONSE_META_COLUMNS, columns[:7], strict=True):
        if name == "submitted_on":
            meta = tuple(str(v) for v in meta)
        data[name] = pd.array(meta, dtype="string")
    for variable in layout.variables:
        values = [a.get(variable.id) for a in answers]
        try:
            data[variable.id] = pd.array(values, dtype=cast(Any, layout.dtypes[variable.id]))
        except (TypeError, ValueError):
            # Earlier revisions stored another type under this id: keep every value, as text.
            data[variable.id] = pd.array(
                [None if v is None else str(v) for v in values], dtype="string"
            )
    return _finish_frame(pd.DataFrame(data))


def _finish_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as dates, rows in a stable order."""
    frame["submitted_on"] = pd.to_datetime(frame["submitted_on"], format="%Y-%m-%d").astype(
        "datetime64[s]"
    )
    return _sorted_frame(frame)


def _sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by day, then by the random id (so the order says nothing about submission time)."""
    return frame.sort_values(["submitted_on", "response_id"], kind="stable", ignore_index=True)


@dataclass(frozen=True)
class _CachedFrame:
    frame: pd.DataFrame
    ids: frozenset[str]


def _installation_secret(connection: Connection, name: str) -> bytes:
    """A random 32-byte key of this installation, created on first use."""
    table = installation_secrets_table
    value = connection.execute(
        select(table.c.value).where(table.c.name == name)
    ).scalar_one_or_none()
    if value is None:
        value = secrets.token_bytes(32)
        connection.execute(table.insert().values(name=name, value=value))
    return bytes(value)


def _revision_published(connection: Connection, questionnaire_id: str, revision: str) -> bool:
    r = questionnaire_revisions_table
    return (
        connection.execute(
            select(r.c.revision).where(
                r.c.questionnaire_id == questionnaire_id, r.c.revision == revision
            )
        ).first()
        is not None
    )


def _unknown_questionnaire(questionnaire_id: str) -> InvalidInput:
    return InvalidInput(
        [
            Problem(
                Location(field="questionnaire"),
                "storage.unknown_questionnaire",
                {"id": questionnaire_id},
            )
        ]
    )


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


class _GroupCommitter:
    """Runs units of work from many threads in shared, durable transactions (one thread).

    A batch is every unit waiting when the previous commit finished (at most
    :data:`GROUP_COMMIT_MAX_BATCH`). Units that are rejected wrote nothing, so the others
    commit together; if the batch itself fails, each unit is retried in a transaction of
    its own, so one bad unit cannot take the others down.
    """

    def __init__(self, run_alone: Callable[[_Unit[Any]], Any], write: Callable[[], Any]) -> None:
        self._run_alone = run_alone
        self._write = write
        self._queue: queue.SimpleQueue[tuple[_Unit[Any], Future[Any]] | None]
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: Shared transactions committed and units they carried (the mean batch size).
        self.commits = 0
        self.units = 0

    def run(self, unit: _Unit[T]) -> T:
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

    def _commit(self, batch: list[tuple[_Unit[Any], Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._write() as connection:
                pending = _PendingWrites()
                for unit, future in batch:
                    try:
                        outcomes.append((future, unit(connection, pending), None))
                    except (_Rejected, InvalidInput) as rejected:
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
