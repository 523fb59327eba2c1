"""``kind: multi`` – any number of options; stored as one 0/1 variable per option,
``<item>__<code>``, and kept in the form as the list of ticked codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import Location, Problem, t
from survey._model import MultiChoiceItem, Questionnaire, Scale, Variable, multi_variable_id
from survey.expressions import ReferenceInfo
from survey.kinds._base import (
    LABEL_SEPARATOR,
    Accepted,
    AnswerSpec,
    Checked,
    ZeroOneKind,
    as_zero_one,
    cell_value,
    choice_codes,
    is_code,
    problem,
)


class MultiKind(ZeroOneKind[MultiChoiceItem]):
    name = "multi"
    variable_kinds = ("multi_option",)

    def variables(self, item: MultiChoiceItem, questionnaire: Questionnaire) -> list[Variable]:
        return [
            Variable(
                id=multi_variable_id(item.id, option.code),
                item_id=item.id,
                kind="multi_option",
                label={
                    lang: f"{text} – {option.label.get(lang, '')}"
                    for lang, text in item.label.items()
                },
                options=[option],
                tags=[*item.tags, *option.tags],
            )
            for option in questionnaire.scale_of(item).options
        ]

    def reference_info(self, item: MultiChoiceItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("codes", tuple(o.code for o in scale.options)) if scale else None

    def specs(self, item: MultiChoiceItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        codes = choice_codes(questionnaire, item)
        variables = tuple(multi_variable_id(item.id, code) for code in codes)
        return [AnswerSpec(item.id, self.name, codes=codes, variables=variables)]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        if not isinstance(value, list | tuple | set | frozenset):
            return problem(spec, "answer.unknown_option", value)
        bad = [code for code in value if not is_code(code) or code not in spec.codes]
        if bad:  # checked before hashing: an unhashable element is simply not an option
            return problem(spec, "answer.unknown_option", bad[0])
        return Accepted(list(dict.fromkeys(value)))

    def stored(self, spec: AnswerSpec, value: Any) -> dict[str, Any]:
        return {
            variable: 1 if code in value else 0
            for code, variable in zip(spec.codes, spec.variables, strict=True)
        }

    def read_cells(self, spec: AnswerSpec, cells: Mapping[str, Any]) -> tuple[Any, list[Problem]]:
        """The ticked codes of the 0/1 columns; all blank is unanswered. A column that is
        not 0/1 is reported here, because the list's check has no column to name."""
        ticked: list[Any] = []
        problems: list[Problem] = []
        seen = False
        for code, variable in zip(spec.codes, spec.variables, strict=True):
            value = cell_value(cells.get(variable))
            if value is None:
                continue
            seen = True
            flag = as_zero_one(value)
            if flag is None:
                problems.append(
                    Problem(
                        Location(field=variable),
                        "installation.import.not_zero_one",
                        {"value": repr(value)},
                    )
                )
            elif flag:
                ticked.append(code)
        return (ticked if seen else None), problems

    def codebook_codes(
        self, questionnaire: Questionnaire, variable: Variable, lang: str
    ) -> tuple[str, str]:
        selected = t("questionnaire.codebook.selected", lang)
        not_selected = t("questionnaire.codebook.not_selected", lang)
        return f"0={not_selected}{LABEL_SEPARATOR}1={selected}", ""
