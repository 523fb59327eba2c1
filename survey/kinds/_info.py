"""``kind: info`` – text only (consent, explanations); it stores nothing."""

from __future__ import annotations

from typing import Any

from survey._model import InfoItem, Questionnaire, Variable
from survey.kinds._base import AnswerSpec, Checked, QuestionKind, problem


class InfoKind(QuestionKind[InfoItem]):
    name = "info"
    variable_kinds = ()

    def variables(self, item: InfoItem, questionnaire: Questionnaire) -> list[Variable]:
        return []

    def answer_ids(self, item: InfoItem) -> list[str]:
        return []

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        return problem(spec, "answer.unknown_item", value)  # an info item has no answer
