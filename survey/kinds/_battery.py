"""``kind: battery`` – several statements on one shared scale; each statement is its own
variable and answer key, stored as the option code."""

from __future__ import annotations

from typing import Any

from survey._model import BatteryItem, Questionnaire, Scale, Variable
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


class BatteryKind(QuestionKind[BatteryItem]):
    name = "battery"
    variable_kinds = ("statement",)

    def variables(self, item: BatteryItem, questionnaire: Questionnaire) -> list[Variable]:
        scale = questionnaire.scale_of(item)
        return [
            Variable(
                id=statement.id,
                item_id=item.id,
                kind="statement",
                label=statement.label,
                options=scale.options,
                scale=scale,
                tags=[*item.tags, *statement.tags],
                integer=all(isinstance(o.code, int) for o in scale.options),
            )
            for statement in item.statements
        ]

    def reference_info(self, item: BatteryItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("code", tuple(o.code for o in scale.options)) if scale else None

    def answer_ids(self, item: BatteryItem) -> list[str]:
        return [statement.id for statement in item.statements]

    def specs(self, item: BatteryItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        codes = choice_codes(questionnaire, item)
        return [
            AnswerSpec(statement.id, self.name, codes=codes, variables=(statement.id,))
            for statement in item.statements
        ]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        return check_code(spec, value)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_code(value, spec.codes)

    def dtype(self, variable: Variable) -> str:
        return "Int64" if variable.integer else "string"

    def measure(self, variable: Variable) -> str:
        return scale_measure(variable)
