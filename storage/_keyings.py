"""Paper forms keyed in: the first keying of a double entry until it is resolved, and the
keyed response itself.

Double entry means two people key the same returned form without seeing each other's entry;
the differences are resolved before one response is stored. The first keying must survive a
reload or a second person on another device, so it is kept in ``pending_keyings`` until then.
Privacy of that table:

* a form is found by a keyed hash of its questionnaire and access code (or, for a form
  without a code, its batch and serial number) under a key of its own (``storage._keys``):
  the plaintext code is never stored, and the hash matches neither ``access_codes`` nor
  ``drafts``, so the pending answers cannot be joined to a code or a batch's codes without
  the plaintext;
* it holds the day of the first keying, nothing finer;
* the row is deleted in the same transaction that stores the response (and that marks the
  code used), so after storing nothing links the code to the answers — SQLite's
  ``secure_delete`` zeroes the freed row and the WAL is truncated as after every commit.

``keyed_forms`` counts the forms stored per batch (the progress of the data entry): a count,
never which ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from core import InvalidInput, Location, Problem
from storage._answers import validate_answers
from storage._codes import Codes, CodeStatus, status_of
from storage._engine import Database, PendingWrites, scoped_municipality
from storage._questionnaires import Questionnaires
from storage._responses import Responses, SubmissionRejected, SubmitResult
from storage._schema import (
    access_codes_table,
    keyed_forms_table,
    pending_keyings_table,
)
from survey import PAPER_MODES, Questionnaire, keyed_hash, normalise_code

#: A form's serial number (when it has no access code): letters, digits and ``-``.
SERIAL_PATTERN = re.compile(r"[0-9A-Z][0-9A-Z-]{0,19}")
#: The batch of forms without an access code.
NO_BATCH = ""


@dataclass(frozen=True)
class PaperForm:
    """Which returned paper form is keyed: by its access code, or by the serial number the
    municipality stamped on it when the batch has no codes (``batch_id`` ``""``: forms of an
    open survey)."""

    batch_id: str
    code: str | None = None
    serial: str | None = None

    @property
    def has_code(self) -> bool:
        return self.code is not None and bool(self.code.strip())

    @property
    def has_serial(self) -> bool:
        return self.serial is not None and bool(self.serial.strip())


@dataclass(frozen=True)
class PendingKeying:
    """The first keying of a form, waiting for the second."""

    answers: dict[str, Any]
    batch_id: str
    revision: str
    keyed_on: date


@dataclass(frozen=True)
class BatchProgress:
    """The data entry of one batch: codes issued and used (online or on paper), paper forms
    stored as keyed responses and first keyings waiting for their second."""

    batch_id: str
    stratum: str | None
    issued: int
    used: int
    keyed: int
    pending: int


def _problem(key: str, field: str = "code", **params: Any) -> InvalidInput:
    return InvalidInput([Problem(Location(field=field), key, params)])


class Keyings:
    """The ``pending_keyings`` and ``keyed_forms`` tables, and storing a keyed response."""

    def __init__(
        self,
        database: Database,
        questionnaires: Questionnaires,
        codes: Codes,
        responses: Responses,
    ) -> None:
        self._database = database
        self._questionnaires = questionnaires
        self._codes = codes
        self._responses = responses

    # -- which form -------------------------------------------------------------------------

    def _form_key(self, questionnaire_id: str, form: PaperForm) -> str:
        """The stored key of ``form``'s pending keying, or :class:`InvalidInput` when the form
        is not identified (no code and no serial number, or a malformed one)."""
        key = self._database.keys.keying
        if form.has_code:
            normalised = normalise_code(str(form.code))
            if normalised is None:
                raise _problem("storage.code_status.unknown")
            return keyed_hash(key, questionnaire_id, "code", normalised)
        serial = (form.serial or "").strip().upper()
        if not serial:
            raise _problem("paper_entry.form_unidentified", "serial")
        if not SERIAL_PATTERN.fullmatch(serial):
            raise _problem("paper_entry.bad_serial", "serial", value=form.serial)
        return keyed_hash(key, questionnaire_id, "serial", form.batch_id, serial)

    def _code_status(
        self, connection: Connection, questionnaire_id: str, form: PaperForm, *, lock: bool
    ) -> CodeStatus:
        """The status of the form's code (``VALID`` without one); a known code of another
        batch than the chosen one is refused, so each batch's progress counts its own forms.
        """
        if not form.has_code:
            return CodeStatus.VALID
        normalised = normalise_code(str(form.code))
        if normalised is None:
            return CodeStatus.UNKNOWN
        status = status_of(self._codes.used(connection, questionnaire_id, normalised, lock=lock))
        if status is not CodeStatus.UNKNOWN:
            batch = connection.execute(
                select(access_codes_table.c.batch_id).where(
                    access_codes_table.c.code_hash == self._codes.hash(questionnaire_id, normalised)
                )
            ).scalar_one()
            if batch != form.batch_id:
                raise _problem("paper_entry.code_other_batch", found=batch, expected=form.batch_id)
        return status

    def _require_valid_code(
        self, connection: Connection, questionnaire_id: str, form: PaperForm, *, lock: bool
    ) -> None:
        status = self._code_status(connection, questionnaire_id, form, lock=lock)
        if status is not CodeStatus.VALID:
            # The message the survey page shows for the same code: a used code is refused.
            raise _problem(f"storage.code_status.{status.value}")

    def check_form(self, questionnaire_id: str, form: PaperForm) -> PendingKeying | None:
        """Whether ``form`` can be keyed: :class:`InvalidInput` for a used, unknown or other
        batch's code (as online: a used code is refused) or a form that is not identified;
        else its pending first keying, if there is one."""
        if not form.has_code and form.batch_id != NO_BATCH:
            raise _problem("paper_entry.code_required", batch=form.batch_id)
        with self._database.read() as connection:
            self._require_valid_code(connection, questionnaire_id, form, lock=False)
        if not form.has_code and not form.has_serial:
            return None
        return self.pending(questionnaire_id, form)

    def code_batch(self, questionnaire_id: str, code: str) -> str | None:
        """The batch of one of the questionnaire's access codes (``None``: not one of them);
        a scanned form names its code, not its batch."""
        normalised = normalise_code(code)
        if normalised is None:
            return None
        a = access_codes_table
        with self._database.read() as connection:
            batch = connection.execute(
                select(a.c.batch_id).where(
                    a.c.code_hash == self._codes.hash(questionnaire_id, normalised)
                )
            ).scalar_one_or_none()
        return None if batch is None else str(batch)

    # -- the first keying -------------------------------------------------------------------

    def pending(self, questionnaire_id: str, form: PaperForm) -> PendingKeying | None:
        """The first keying of ``form`` waiting for its second, or ``None``."""
        p = pending_keyings_table
        with self._database.read() as connection:
            row = connection.execute(
                select(p.c.answers, p.c.batch_id, p.c.questionnaire_revision, p.c.keyed_on).where(
                    p.c.form_key == self._form_key(questionnaire_id, form)
                )
            ).first()
        if row is None:
            return None
        return PendingKeying(
            answers=json.loads(row.answers),
            batch_id=row.batch_id,
            revision=row.questionnaire_revision,
            keyed_on=row.keyed_on,
        )

    def save_first(
        self, questionnaire: Questionnaire, form: PaperForm, answers: Mapping[str, Any]
    ) -> None:
        """Keep the first keying of ``form`` until the second one is resolved.

        The answers are checked by the kinds' answer check like a response; the code must be
        valid and unused. :class:`InvalidInput` (nothing written) otherwise, or when the form
        already has a first keying.
        """
        qid = questionnaire.id
        form_key = self._form_key(qid, form)
        checked, _codebook = validate_answers(self._questionnaires.layout(questionnaire), answers)
        p = pending_keyings_table
        with self._database.write() as connection:
            self._questionnaires.require_revision(connection, qid, questionnaire.revision, None)
            self._require_valid_code(connection, qid, form, lock=True)
            if connection.execute(select(p.c.form_key).where(p.c.form_key == form_key)).first():
                raise _problem("paper_entry.already_pending")
            connection.execute(
                p.insert().values(
                    form_key=form_key,
                    questionnaire_id=qid,
                    questionnaire_revision=questionnaire.revision,
                    batch_id=form.batch_id,
                    keyed_on=date.today(),
                    answers=json.dumps(checked, ensure_ascii=False),
                    municipality=scoped_municipality(),
                )
            )

    def discard(self, questionnaire_id: str, form: PaperForm) -> bool:
        """Delete the first keying of ``form`` (keyed for the wrong form); whether one was
        there."""
        p = pending_keyings_table
        form_key = self._form_key(questionnaire_id, form)
        with self._database.write() as connection:
            deleted = connection.execute(p.delete().where(p.c.form_key == form_key))
        return bool(deleted.rowcount)

    # -- the response -----------------------------------------------------------------------

    def store(
        self,
        questionnaire: Questionnaire,
        form: PaperForm,
        answers: Mapping[str, Any],
        *,
        language: str,
        submission_token: str,
        mode: str = "keyed",
    ) -> SubmitResult:
        """Store the form's answers as one response of ``mode`` (``keyed``, ``scanned``).

        In one transaction: the response, its code marked used (refused exactly as online
        when it is used or unknown), the form's pending first keying deleted and the batch's
        count of keyed forms raised. The questionnaire need not be open: paper forms come
        back after the survey closed. :class:`InvalidInput` (nothing written) for bad answers
        or a form that is not identified.
        """
        qid = questionnaire.id
        if mode not in PAPER_MODES:
            raise _problem(
                "storage.bad_choice", "mode", value=mode, expected=", ".join(PAPER_MODES)
            )
        if not form.has_code and form.batch_id != NO_BATCH:
            raise _problem("paper_entry.code_required", batch=form.batch_id)
        form_key = self._form_key(qid, form) if form.has_code or form.has_serial else None
        if form.has_code:
            # Only the batch here: a used or unknown code is refused by the submission itself,
            # which also tells a double click (the same token) from a second use of the code.
            with self._database.read() as connection:
                self._code_status(connection, qid, form, lock=False)
        submission = self._responses.prepare(
            questionnaire,
            answers,
            language=language,
            submission_token=submission_token,
            mode=mode,
            code=form.code if form.has_code else None,
            require_open=False,
        )
        p, k = pending_keyings_table, keyed_forms_table
        # Read here: the group committer's thread runs outside the caller's scope.
        owner = scoped_municipality()

        def unit(connection: Connection, pending: PendingWrites) -> SubmitResult:
            result = self._responses.apply(connection, submission, pending)
            if result.duplicate:
                return result
            if form_key is not None:
                connection.execute(p.delete().where(p.c.form_key == form_key))
            counted = connection.execute(
                k.update()
                .where(k.c.questionnaire_id == qid, k.c.batch_id == form.batch_id)
                .values(stored=k.c.stored + 1)
            )
            if counted.rowcount == 0:
                connection.execute(
                    k.insert().values(
                        questionnaire_id=qid, batch_id=form.batch_id, stored=1, municipality=owner
                    )
                )
            return result

        try:
            return self._database.run(unit)
        except SubmissionRejected as rejected:
            return SubmitResult(rejected.status)

    # -- progress ---------------------------------------------------------------------------

    def progress(self, questionnaire_id: str) -> list[BatchProgress]:
        """Per code batch (and for forms without a code, when there are any): codes issued
        and used, forms stored as keyed responses, first keyings pending."""
        p, k = pending_keyings_table, keyed_forms_table
        with self._database.read() as connection:
            pending: dict[str, int] = dict(
                connection.execute(
                    select(p.c.batch_id, func.count())
                    .where(p.c.questionnaire_id == questionnaire_id)
                    .group_by(p.c.batch_id)
                ).all()
            )
            keyed: dict[str, int] = dict(
                connection.execute(
                    select(k.c.batch_id, k.c.stored).where(k.c.questionnaire_id == questionnaire_id)
                ).all()
            )
        out = [
            BatchProgress(
                batch_id=b.id,
                stratum=b.stratum,
                issued=b.issued,
                used=b.used,
                keyed=int(keyed.get(b.id, 0)),
                pending=int(pending.get(b.id, 0)),
            )
            for b in self._codes.batches(questionnaire_id)
        ]
        if keyed.get(NO_BATCH) or pending.get(NO_BATCH):
            out.append(
                BatchProgress(
                    batch_id=NO_BATCH,
                    stratum=None,
                    issued=0,
                    used=0,
                    keyed=int(keyed.get(NO_BATCH, 0)),
                    pending=int(pending.get(NO_BATCH, 0)),
                )
            )
        return out
