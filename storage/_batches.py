"""Which typed-in codes belong to a code batch: the letter kit checks the codes file it is
given against the batch before printing a single letter.

Only the keyed hashes are stored, so the plaintext codes must come from the file written when
the batch was created; this answers, code by code, whether that file belongs to the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from core import InvalidInput, Location, Problem
from storage._codes import Codes
from storage._engine import Database
from storage._schema import access_codes_table, code_batches_table
from survey import normalise_code


@dataclass(frozen=True)
class BatchMembership:
    """A batch and, per given code (in order), whether it is one of the batch's codes."""

    batch_id: str
    questionnaire_id: str
    stratum: str | None
    member: tuple[bool, ...]


def batch_membership(
    database: Database, codes: Codes, batch_id: str, plaintext: Sequence[str]
) -> BatchMembership:
    """See :meth:`storage.Store.batch_membership`."""
    b, c = code_batches_table, access_codes_table
    with database.read() as connection:
        batch = connection.execute(
            select(b.c.questionnaire_id, b.c.stratum).where(b.c.id == batch_id)
        ).first()
        if batch is None:
            raise InvalidInput(
                [Problem(Location(field="--batch"), "storage.unknown_batch", {"batch": batch_id})]
            )
        hashes = [
            codes.hash(batch.questionnaire_id, normalised)
            if (normalised := normalise_code(code)) is not None
            else None
            for code in plaintext
        ]
        wanted = [h for h in hashes if h is not None]
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            found.update(
                connection.execute(
                    select(c.c.code_hash).where(
                        c.c.batch_id == batch_id, c.c.code_hash.in_(wanted[start : start + 500])
                    )
                ).scalars()
            )
    return BatchMembership(
        batch_id=batch_id,
        questionnaire_id=batch.questionnaire_id,
        stratum=batch.stratum,
        member=tuple(h is not None and h in found for h in hashes),
    )
