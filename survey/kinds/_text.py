"""``kind: text`` – free text up to ``max_length`` characters; blank text is no answer.

Characters no respondent means to type and no XML document may hold (controls but tab and
line breaks, lone surrogates, noncharacters such as U+FFFF; :data:`core.ILLEGAL_TEXT`) are
removed when the answer is checked, so they never reach a draft, the database or an export.
Removed, not refused: they carry no meaning, and a respondent cannot see them to fix them.
"""

from __future__ import annotations

from typing import Any

from core import remove_illegal_text
from survey._model import Questionnaire, Scale, TextItem, Variable
from survey.expressions import ReferenceInfo
from survey.kinds._base import Accepted, AnswerSpec, Checked, QuestionKind, own_variable, problem


class TextKind(QuestionKind[TextItem]):
    name = "text"
    variable_kinds = ("text",)

    def variables(self, item: TextItem, questionnaire: Questionnaire) -> list[Variable]:
        return [own_variable(item, "text", integer=False)]

    def reference_info(self, item: TextItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("string")

    def specs(self, item: TextItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        return [AnswerSpec(item.id, self.name, variables=(item.id,), max_length=item.max_length)]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        if not isinstance(value, str):
            return problem(spec, "answer.not_text", value)
        value = remove_illegal_text(value)
        if len(value) > spec.max_length:
            return problem(
                spec, "answer.too_long", value[:20], length=len(value), max=spec.max_length
            )
        return Accepted(value if value.strip() else None)
