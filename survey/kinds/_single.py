"""``kind: single`` – one option of a scale or inline list; stored as its code."""

from __future__ import annotations

from typing import Any

from survey._model import Questionnaire, Scale, SingleChoiceItem, Variable
from survey.expressions import ReferenceInfo
from survey.kinds._base import (
    AnswerSpec,
    Checked,
    QuestionKind,
    as_code,
    check_code,
    choice_codes,
    scale_measure,
)


class SingleKind(QuestionKind[SingleChoiceItem]):
    name = "single"
    variable_kinds = ("single",)

    def variables(self, item: SingleChoiceItem, questionnaire: Questionnaire) -> list[Variable]:
        scale = questionnaire.scale_of(item)
        return [
            Variable(
                id=item.id,
                item_id=item.id,
                kind="single",
                label=item.label,
                options=scale.options,
                scale=scale,
                tags=item.tags,
                design=item.design,
                integer=all(isinstance(o.code, int) for o in scale.options),
            )
        ]

    def reference_info(self, item: SingleChoiceItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("code", tuple(o.code for o in scale.options)) if scale else None

    def specs(self, item: SingleChoiceItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        codes = choice_codes(questionnaire, item)
        return [AnswerSpec(item.id, self.name, codes=codes, variables=(item.id,))]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        return check_code(spec, value)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_code(value, spec.codes)

    def dtype(self, variable: Variable) -> str:
        return "Int64" if variable.integer else "string"

    def measure(self, variable: Variable) -> str:
        return scale_measure(variable)
