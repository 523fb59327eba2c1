"""``kind: year`` – a calendar year such as "Seit welchem Jahr wohnen Sie in …?": a whole
number between ``min`` and ``max`` (default 1900 and the current year), asked with the number
input and stored as an integer."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from survey._date_range import EARLIEST_DATE
from survey._model import Questionnaire, Scale, Variable, YearItem
from survey.expressions import ReferenceInfo
from survey.kinds._base import AnswerSpec, Checked, QuestionKind, as_number, own_variable
from survey.kinds._number import check_number


class YearKind(QuestionKind[YearItem]):
    name = "year"
    variable_kinds = ("year",)
    widget = "number"

    def variables(self, item: YearItem, questionnaire: Questionnaire) -> list[Variable]:
        return [own_variable(item, "year", integer=True)]

    def reference_info(self, item: YearItem, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("number")  # ``moved_in_year >= 2020``, ``2026 - birth_year``

    def specs(self, item: YearItem, questionnaire: Questionnaire) -> list[AnswerSpec]:
        low, high = year_range(item)
        return [AnswerSpec(item.id, self.name, variables=(item.id,), minimum=low, maximum=high)]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        return check_number(spec, value, lang)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_number(value)

    def synthetic(
        self, item: YearItem, variable: Variable, n: int, rng: np.random.Generator
    ) -> NDArray[Any] | None:
        low, high = year_range(item)
        # Recent years are likelier (people move; a survey asks about the last decades).
        years: NDArray[np.float64] = high - np.floor((high - low + 1) * rng.beta(1.0, 3.0, size=n))
        return np.clip(years, low, high)

    def dtype(self, variable: Variable) -> str:
        return "Int64"

    def measure(self, variable: Variable) -> str:
        return "scale"


def year_range(item: YearItem, today: date | None = None) -> tuple[int, int]:
    """``(min, max)`` of ``item``: its own limits, else 1900 and the current year."""
    low = item.min if item.min is not None else EARLIEST_DATE.year
    high = item.max if item.max is not None else (today or date.today()).year
    return low, high
