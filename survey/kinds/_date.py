"""``kind: date`` – an ISO ``YYYY-MM-DD`` date within the one plausible date range
(:mod:`survey._date_range`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from core import format_date
from survey._date_range import date_in_range, date_range
from survey._model import DateItem, Questionnaire, Scale, Variable
from survey.expressions import ReferenceInfo
from survey.kinds._base import (
    Accepted,
    AnswerSpec,
    Checked,
    QuestionKind,
    as_date_text,
    iso_date,
    language,
    own_variable,
    problem,
)


class DateKind(QuestionKind[DateItem]):
    name = "date"
    variable_kinds = ("date",)

    def variables(self, item: DateItem, questionnaire: Questionnaire) -> list[Variable]:
        return [own_variable(item, "date", integer=False)]

    def reference_info(self, item: DateItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("date")

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        text = value.isoformat() if isinstance(value, date) else value
        day = iso_date(text)
        if day is None:
            return problem(spec, "answer.bad_date", value)
        if not date_in_range(day):
            earliest, latest = date_range()
            lang = language(lang)
            return problem(
                spec,
                "answer.date_out_of_range",
                value,
                min=format_date(earliest, lang),
                max=format_date(latest, lang),
            )
        return Accepted(text)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_date_text(value)
