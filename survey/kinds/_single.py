"""``kind: single`` – one option of a scale or inline list; stored as its code."""

from __future__ import annotations

from survey._model import Questionnaire, SingleChoiceItem, Variable
from survey.kinds._base import ChoiceKind, coded_variable


class SingleKind(ChoiceKind[SingleChoiceItem]):
    name = "single"
    variable_kinds = ("single",)

    def variables(self, item: SingleChoiceItem, questionnaire: Questionnaire) -> list[Variable]:
        scale = questionnaire.scale_of(item)
        return [coded_variable(item.id, item, "single", item.label, scale, item.tags)]
