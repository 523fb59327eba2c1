"""``kind: battery`` – several statements on one shared scale; each statement is its own
variable and answer key, stored as the option code."""

from __future__ import annotations

from survey._model import BatteryItem, Questionnaire, Variable
from survey.kinds._base import ChoiceKind, coded_variable


class BatteryKind(ChoiceKind[BatteryItem]):
    name = "battery"
    variable_kinds = ("statement",)

    def variables(self, item: BatteryItem, questionnaire: Questionnaire) -> list[Variable]:
        scale = questionnaire.scale_of(item)
        return [
            coded_variable(s.id, item, "statement", s.label, scale, [*item.tags, *s.tags])
            for s in item.statements
        ]

    def answer_ids(self, item: BatteryItem) -> list[str]:
        return [statement.id for statement in item.statements]
