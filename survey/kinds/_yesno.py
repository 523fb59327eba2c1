"""``kind: yesno`` – ``True``/``False`` in the form and in expressions, 1/0 when stored."""

from __future__ import annotations

from typing import Any

from core import t
from survey._model import Questionnaire, Scale, Variable, YesNoItem
from survey.expressions import ReferenceInfo
from survey.kinds._base import (
    LABEL_SEPARATOR,
    Accepted,
    AnswerSpec,
    Checked,
    ZeroOneKind,
    as_zero_one,
    own_variable,
    problem,
)


class YesNoKind(ZeroOneKind[YesNoItem]):
    name = "yesno"
    variable_kinds = ("yesno",)

    def variables(self, item: YesNoItem, questionnaire: Questionnaire) -> list[Variable]:
        return [own_variable(item, "yesno", integer=True)]

    def reference_info(self, item: YesNoItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("bool")

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        # 1 and 0 are accepted too: that is how yes/no is stored and exported.
        if isinstance(value, bool) or (type(value) in (int, float) and value in (0, 1)):
            return Accepted(bool(value))
        return problem(spec, "answer.not_yes_no", value)

    def stored(self, spec: AnswerSpec, value: Any) -> dict[str, Any]:
        return {spec.key: int(bool(value))}

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        flag = as_zero_one(value)
        return value if flag is None else bool(flag)

    def codebook_codes(
        self, questionnaire: Questionnaire, variable: Variable, lang: str
    ) -> tuple[str, str]:
        yes, no = t("questionnaire.codebook.yes", lang), t("questionnaire.codebook.no", lang)
        return f"1={yes}{LABEL_SEPARATOR}0={no}", ""
