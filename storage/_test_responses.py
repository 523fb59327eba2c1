"""Test answers: what a manager enters while trying a survey in preview mode.

They are checked like a resident's response (so the preview shows the real rules) but stored
in their own table (:data:`storage._schema.test_responses_table`): every count, frame,
analysis and export reads ``responses`` only, so a test answer can never be taken for a real
one. No code is asked for and none is used up; the questionnaire need not be open (a draft
is previewed before it is opened).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select

from core import InvalidInput
from storage._answers import meta_problems, validate_answers
from storage._engine import Database, scoped_municipality
from storage._questionnaires import Questionnaires
from storage._schema import test_responses_table
from survey import Questionnaire


class TestResponses:
    """The ``test_responses`` table."""

    __test__ = False  # a storage class, not a pytest test class

    def __init__(self, database: Database, questionnaires: Questionnaires) -> None:
        self._database = database
        self._questionnaires = questionnaires

    def submit(
        self, questionnaire: Questionnaire, answers: Mapping[str, Any], language: str
    ) -> str:
        """Check and store one test response; its id. :class:`InvalidInput` if the answers,
        the language or the revision are not acceptable (nothing is written then)."""
        problems = meta_problems(questionnaire, language, "web")
        codebook: dict[str, Any] = {}
        try:
            _form, codebook = validate_answers(self._questionnaires.layout(questionnaire), answers)
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
        if problems:
            raise InvalidInput(problems)
        response_id = uuid.uuid4().hex
        with self._database.write() as connection:
            self._questionnaires.require_revision(
                connection, questionnaire.id, questionnaire.revision, None
            )
            connection.execute(
                test_responses_table.insert().values(
                    id=response_id,
                    questionnaire_id=questionnaire.id,
                    questionnaire_revision=questionnaire.revision,
                    submitted_on=date.today(),
                    language=language,
                    answers=json.dumps(codebook, ensure_ascii=False, separators=(",", ":")),
                    municipality=scoped_municipality(),
                )
            )
        return response_id

    def count(self, questionnaire_id: str) -> int:
        t = test_responses_table
        with self._database.read() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(t)
                    .where(t.c.questionnaire_id == questionnaire_id)
                ).scalar_one()
            )

    def remove(self, questionnaire_id: str) -> int:
        t = test_responses_table
        with self._database.write() as connection:
            removed = connection.execute(t.delete().where(t.c.questionnaire_id == questionnaire_id))
        return int(removed.rowcount)
