"""Responses: one submission at a time (through the group commit), many at once (a bulk
import of paper questionnaires or the demo), and read back as a cached codebook-layout frame.

Guarantees of :meth:`Responses.submit`:

* a response is validated completely before anything is written (:class:`InvalidInput`
  otherwise) and stored in one transaction together with its side effects: the submission
  token, the used flag of its code and the deletion of the code's draft;
* a submission token makes a double click or a reload a no-op that reports the same result;
* a code is used at most once: a conditional ``UPDATE … WHERE used = false`` inside the
  transaction that inserts the response, so concurrent submissions with one code give one
  response;
* nothing finer than the submission date is stored, and no row links a code to a response.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, cast

import pandas as pd
from sqlalchemy import Connection, bindparam, func, select

from core import InvalidInput, Location, Problem, t
from storage._answers import (
    answers_from_codebook,
    cell_value,
    codebook_columns,
    meta_problems,
    submitted_on_date,
    validate_answers,
)
from storage._codes import Codes
from storage._drafts import Drafts
from storage._engine import Database, PendingWrites, UnitRejected, scoped_municipality
from storage._questionnaires import Questionnaires, QuestionnaireState
from storage._response_frames import (
    CachedFrame,
    read_frame,
    response_ids,
    sorted_frame,
)
from storage._schema import (
    access_codes_table,
    code_batches_table,
    drafts_table,
    keyed_forms_table,
    pending_keyings_table,
    questionnaires_table,
    responses_table,
    submission_tokens_table,
)
from survey import RESPONSE_META_COLUMNS, Access, Questionnaire, keyed_hash, normalise_code

#: Up to this many new responses are read incrementally; more trigger a full read.
INCREMENTAL_READ_MAX = 20_000
#: Rows per INSERT statement of a bulk import.
_IMPORT_CHUNK = 5_000


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


class SubmissionRejected(UnitRejected):
    """Rolls back a submission's transaction (or savepoint) and reports ``status``."""

    def __init__(self, status: SubmitStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(frozen=True)
class Submission:
    """One checked response on its way into a unit of work (:meth:`Responses.prepare`)."""

    questionnaire_id: str
    revision: str
    token_hash: str
    code_hash: str | None
    draft_key: str | None
    code_malformed: bool
    row: dict[str, Any]
    require_open: bool = True


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


def _stored_answers(codebook: Mapping[str, Any]) -> str:
    # Compact, as the fast reader (storage._response_frames) splices the text as it is.
    return json.dumps(codebook, ensure_ascii=False, separators=(",", ":"))


class Responses:
    """The ``responses`` and ``submission_tokens`` tables, and the read cache."""

    def __init__(
        self, database: Database, questionnaires: Questionnaires, codes: Codes, drafts: Drafts
    ) -> None:
        self._database = database
        self._questionnaires = questionnaires
        self._codes = codes
        self._drafts = drafts
        self._frames: dict[tuple[str, str], CachedFrame] = {}

    # -- one submission ---------------------------------------------------------------------

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
        """See :meth:`storage.Store.submit`."""
        submission = self.prepare(
            questionnaire,
            answers,
            language=language,
            submission_token=submission_token,
            mode=mode,
            code=code,
        )

        def unit(connection: Connection, pending: PendingWrites) -> SubmitResult:
            return self.apply(connection, submission, pending)

        try:
            return self._database.run(unit)
        except SubmissionRejected as rejected:
            return SubmitResult(rejected.status)

    def prepare(
        self,
        questionnaire: Questionnaire,
        answers: Mapping[str, Any],
        *,
        language: str,
        submission_token: str,
        mode: str,
        code: str | None,
        require_open: bool = True,
    ) -> Submission:
        """One submission checked completely (:class:`InvalidInput` otherwise), ready for
        :meth:`apply` inside a unit of work. ``require_open``: refuse it unless the
        questionnaire is open (paper forms keyed in after the survey closed are accepted)."""
        problems = meta_problems(questionnaire, language, mode)
        if not isinstance(submission_token, str) or len(submission_token) < 16:
            problems.append(Problem(Location(field="submission_token"), "storage.bad_token"))
        try:
            _form, codebook = validate_answers(self._questionnaires.layout(questionnaire), answers)
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
        if problems:
            raise InvalidInput(problems)
        normalised = normalise_code(code) if code is not None else None
        qid = questionnaire.id
        return Submission(
            questionnaire_id=qid,
            revision=questionnaire.revision,
            token_hash=keyed_hash(self._database.keys.token, qid, submission_token),
            code_hash=self._codes.hash(qid, normalised) if normalised else None,
            draft_key=self._drafts.key(qid, normalised) if normalised else None,
            code_malformed=code is not None and normalised is None,
            row={
                "id": uuid.uuid4().hex,
                "questionnaire_id": qid,
                "questionnaire_revision": questionnaire.revision,
                "submitted_on": date.today(),
                "language": language,
                "mode": mode,
                "answers": _stored_answers(codebook),
                "municipality": scoped_municipality(),
            },
            require_open=require_open,
        )

    def apply(self, connection: Connection, s: Submission, pending: PendingWrites) -> SubmitResult:
        """Check one submission and mark its code used; queue its inserts in ``pending``.

        A rejection (:class:`SubmissionRejected` / ``InvalidInput``) happens before this
        submission wrote anything, so other submissions sharing the transaction are
        unaffected.
        """
        if (
            s.token_hash in pending.token_hashes
            or connection.execute(_TOKEN_SEEN, {"token_hash": s.token_hash}).first()
        ):
            return SubmitResult(SubmitStatus.STORED, duplicate=True)
        self._questionnaires.require_revision(connection, s.questionnaire_id, s.revision, None)
        settings = pending.questionnaire_settings.get(s.questionnaire_id)
        if settings is None:
            settings = pending.questionnaire_settings[s.questionnaire_id] = tuple(
                connection.execute(_QUESTIONNAIRE_SETTINGS, {"qid": s.questionnaire_id}).one()
            )
        state, access = settings
        if s.require_open and state != QuestionnaireState.OPEN.value:
            raise SubmissionRejected(SubmitStatus.CLOSED)
        stratum: str | None = None
        if s.code_malformed:
            raise SubmissionRejected(SubmitStatus.CODE_UNKNOWN)
        if s.code_hash is None:
            if access == Access.CODE.value:
                raise SubmissionRejected(SubmitStatus.CODE_REQUIRED)
        else:
            found = connection.execute(
                _CODE_LOOKUP, {"h": s.code_hash, "qid": s.questionnaire_id}
            ).first()
            if found is None:
                raise SubmissionRejected(SubmitStatus.CODE_UNKNOWN)
            # The conditional update is what makes a code single-use under concurrency.
            if found.used or connection.execute(_CODE_MARK_USED, {"h": s.code_hash}).rowcount != 1:
                # A double click racing itself: the other click may have committed this very
                # token meanwhile (PostgreSQL reads committed rows per statement) — then it
                # is the same submission, not a second use of the code.
                if connection.execute(_TOKEN_SEEN, {"token_hash": s.token_hash}).first():
                    return SubmitResult(SubmitStatus.STORED, duplicate=True)
                raise SubmissionRejected(SubmitStatus.CODE_USED)
            stratum = found.stratum
        pending.token_hashes.add(s.token_hash)
        pending.responses.append({**s.row, "stratum": stratum})
        if s.draft_key is not None:
            pending.draft_keys.append({"k": s.draft_key})
        return SubmitResult(SubmitStatus.STORED)

    # -- many at once -----------------------------------------------------------------------

    def import_frame(
        self,
        questionnaire: Questionnaire,
        frame: pd.DataFrame,
        *,
        mode: str = "paper",
        source: str | None = None,
        row_numbers: Sequence[int] | None = None,
        header_row: int = 1,
    ) -> int:
        """See :meth:`storage.Store.import_responses`."""
        layout = self._questionnaires.layout(questionnaire)
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
                    "answers": _stored_answers(codebook),
                    "municipality": scoped_municipality(),
                }
            )
        if problems:
            raise InvalidInput(problems)
        if not rows:
            return 0
        with self._database.write() as connection:
            self._questionnaires.require_revision(
                connection, questionnaire.id, questionnaire.revision, source
            )
            for start in range(0, len(rows), _IMPORT_CHUNK):
                connection.execute(responses_table.insert(), rows[start : start + _IMPORT_CHUNK])
        return len(rows)

    def remove(self, questionnaire_id: str) -> int:
        """See :meth:`storage.Store.remove_responses`."""
        r, d, b, c = responses_table, drafts_table, code_batches_table, access_codes_table
        with self._database.write() as connection:
            removed = connection.execute(r.delete().where(r.c.questionnaire_id == questionnaire_id))
            connection.execute(d.delete().where(d.c.questionnaire_id == questionnaire_id))
            for keying in (pending_keyings_table, keyed_forms_table):
                connection.execute(
                    keying.delete().where(keying.c.questionnaire_id == questionnaire_id)
                )
            batches = select(b.c.id).where(b.c.questionnaire_id == questionnaire_id)
            connection.execute(c.delete().where(c.c.batch_id.in_(batches)))
            connection.execute(b.delete().where(b.c.questionnaire_id == questionnaire_id))
        return int(removed.rowcount)

    # -- reading ----------------------------------------------------------------------------

    def frame(self, questionnaire: Questionnaire) -> pd.DataFrame:
        """See :meth:`storage.Store.responses`."""
        layout = self._questionnaires.layout(questionnaire)
        key = (questionnaire.id, questionnaire.revision)
        cached = self._frames.get(key)
        with self._database.read() as connection:
            wanted: list[str] | None = None  # None: read everything
            if cached is not None:
                ids = response_ids(connection, questionnaire.id)
                new_ids = [i for i in ids if i not in cached.ids]
                none_deleted = len(cached.ids) + len(new_ids) == len(ids)
                if none_deleted and not new_ids:
                    return cached.frame.copy(deep=False)
                if none_deleted and len(new_ids) <= INCREMENTAL_READ_MAX:
                    wanted = new_ids
            frame = read_frame(connection, questionnaire.id, layout, wanted)
        if cached is not None and wanted is not None:
            frame = sorted_frame(pd.concat([cached.frame, frame], ignore_index=True))
        self._frames[key] = CachedFrame(frame, frozenset(frame["response_id"].tolist()))
        return frame.copy(deep=False)

    def counts_by_day(self, questionnaire_id: str) -> pd.DataFrame:
        """See :meth:`storage.Store.response_counts_by_day`."""
        r = responses_table
        query = (
            select(r.c.submitted_on, func.count().label("responses"))
            .where(r.c.questionnaire_id == questionnaire_id)
            .group_by(r.c.submitted_on)
            .order_by(r.c.submitted_on)
        )
        with self._database.read() as connection:
            rows = connection.execute(query).all()
        return pd.DataFrame(
            {
                "submitted_on": pd.to_datetime(
                    pd.Series([row.submitted_on for row in rows], dtype="object"), format="ISO8601"
                ).astype("datetime64[s]"),
                "responses": pd.array([row.responses for row in rows], dtype="Int64"),
            }
        )
