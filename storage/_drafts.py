"""Unfinished answers, kept under a keyed hash of the respondent's code (a key different from
the codes', so drafts and codes cannot be joined without the plaintext)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from core import InvalidInput, Location, Problem, remove_illegal_text
from storage._answers import is_code, validate_answers
from storage._codes import Codes, CodeStatus, status_of
from storage._engine import Database, scoped_municipality
from storage._questionnaires import Questionnaires
from storage._schema import drafts_table
from survey import Questionnaire, keyed_hash, normalise_code

MAX_DRAFT_CHARS = 200_000


@dataclass(frozen=True)
class Draft:
    answers: dict[str, Any]
    page: int


class Drafts:
    """The ``drafts`` table."""

    def __init__(self, database: Database, questionnaires: Questionnaires, codes: Codes) -> None:
        self._database = database
        self._questionnaires = questionnaires
        self._codes = codes

    def key(self, questionnaire_id: str, normalised: str) -> str:
        """The stored key of the draft of a normalised code."""
        return keyed_hash(self._database.keys.draft, questionnaire_id, normalised)

    def save(
        self,
        questionnaire_id: str,
        code: str,
        answers: Mapping[str, Any],
        page: int,
        *,
        questionnaire: Questionnaire | None = None,
    ) -> None:
        """See :meth:`storage.Store.save_draft`."""
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
            form, _codebook = validate_answers(self._questionnaires.layout(questionnaire), answers)
        else:
            form = _plain_answers(answers)
        payload = json.dumps(form, ensure_ascii=False)
        draft_key = self.key(questionnaire_id, normalised)
        d = drafts_table
        with self._database.write() as connection:
            status = status_of(
                self._codes.used(connection, questionnaire_id, normalised, lock=True)
            )
            if status is not CodeStatus.VALID:
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
                    municipality=scoped_municipality(),
                )
            )

    def load(self, questionnaire_id: str, code: str) -> Draft | None:
        """The draft saved under ``code``, or ``None``."""
        normalised = normalise_code(code)
        if normalised is None:
            return None
        d = drafts_table
        with self._database.read() as connection:
            row = connection.execute(
                select(d.c.answers, d.c.page).where(
                    d.c.draft_key == self.key(questionnaire_id, normalised)
                )
            ).first()
        if row is None:
            return None
        return Draft(answers=json.loads(row.answers), page=row.page)


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
        if isinstance(value, list | tuple | set | frozenset):
            plain[key] = list(dict.fromkeys(value))
        else:
            # As the text kind's check does for a response: what XML cannot hold goes.
            plain[key] = remove_illegal_text(value) if isinstance(value, str) else value
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
