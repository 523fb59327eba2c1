"""``kind: number`` – an int (``integer: true``, the default) or a float between ``min`` and
``max``; NaN and infinity are no number."""

from __future__ import annotations

import math
from typing import Any

from survey._model import NumberItem, Questionnaire, Scale, Variable
from survey.expressions import ReferenceInfo
from survey.kinds._base import (
    Accepted,
    AnswerSpec,
    Checked,
    QuestionKind,
    as_number,
    language,
    number_text,
    own_variable,
    problem,
)


class NumberKind(QuestionKind[NumberItem]):
    name = "number"
    variable_kinds = ("number",)

    def variables(self, item: NumberItem, questionnaire: Questionnaire) -> list[Variable]:
        return [own_variable(item, "number", integer=item.integer)]

    def reference_info(self, item: NumberItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("number")

    def specs(self, item: NumberItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        return [
            AnswerSpec(
                item.id,
                self.name,
                variables=(item.id,),
                integer=item.integer,
                minimum=item.min,
                maximum=item.max,
            )
        ]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        return check_number(spec, value, lang)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_number(value)

    def dtype(self, variable: Variable) -> str:
        return "Int64" if variable.integer else "Float64"

    def measure(self, variable: Variable) -> str:
        return "scale"


def check_number(spec: AnswerSpec, value: Any, lang: str | None) -> Checked:
    """A number within ``spec``'s limits; an integer item's whole float becomes an int."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))  # an int may be huge
    ):
        return problem(spec, "answer.not_a_number", value)
    if spec.integer:
        # An int is whole as it is (float() of a 400-digit int would overflow).
        if isinstance(value, float) and not value.is_integer():
            return problem(spec, "answer.not_an_integer", value)
        value = int(value)
    if spec.minimum is not None and value < spec.minimum:
        return problem(
            spec, "answer.too_small", value, min=number_text(spec.minimum, language(lang))
        )
    if spec.maximum is not None and value > spec.maximum:
        return problem(
            spec, "answer.too_large", value, max=number_text(spec.maximum, language(lang))
        )
    return Accepted(value)
