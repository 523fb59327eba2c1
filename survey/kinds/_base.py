"""The shape every question kind has, and the helpers several kinds share.

A kind is a stateless object; :mod:`survey.kinds` keeps one per ``kind:`` value of the
questionnaire format. Everything that differs between kinds (variables, expression type,
the answer check, reading a codebook cell back, codebook rows, storage dtype, SPSS measure)
is a method here, so adding a kind means adding one module instead of editing every ladder.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core import Location, Problem, current_language, format_number, t
from survey._model import Code, Option, Questionnaire, Scale, Variable, VariableKind
from survey.expressions import ReferenceInfo

ItemT = TypeVar("ItemT")

#: The separator of value labels in a codebook row: ``"1=sehr sicher | 2=eher sicher"``.
LABEL_SEPARATOR = " | "

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AnswerSpec:
    """How one answer key of the form dict (an item id or a battery statement id) is
    checked and stored. Built once per questionnaire revision by :meth:`QuestionKind.specs`."""

    key: str
    #: The name of the :class:`QuestionKind` that checks this answer.
    kind: str
    codes: tuple[Code, ...] = ()
    #: The codebook variables this answer fills (multi choice: one per option).
    variables: tuple[str, ...] = ()
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 0

    @property
    def multi_variables(self) -> tuple[str, ...]:
        """The 0/1 variables of a multi-choice answer (the old name, kept for callers)."""
        return self.variables


@dataclass(frozen=True)
class Accepted:
    """A checked answer: ``value`` as the form keeps it; ``None`` means nothing to store."""

    value: Any


Checked = Accepted | Problem


class QuestionKind(ABC, Generic[ItemT]):
    """One ``kind:`` of question. Subclasses set the class variables and the abstract methods."""

    #: The ``kind:`` value in the questionnaire file.
    name: ClassVar[str]
    #: The :attr:`Variable.kind` values this kind's variables carry.
    variable_kinds: ClassVar[tuple[str, ...]]
    #: The input the survey page draws (``views/_widgets.WIDGETS``); a kind that is asked
    #: like another names that kind's input and needs no page code of its own.
    widget: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.widget and "name" in cls.__dict__:
            cls.widget = cls.name

    @abstractmethod
    def variables(self, item: ItemT, questionnaire: Questionnaire) -> list[Variable]:
        """The codebook variables of ``item`` (what :meth:`Questionnaire.variables` lists)."""

    def reference_info(self, item: ItemT, scale: Scale | None) -> ReferenceInfo | None:
        """What an expression may do with the answer; ``None``: it cannot be referenced."""
        return None

    def answer_ids(self, item: ItemT) -> list[str]:
        """The form keys of ``item``'s answers (a battery has one per statement)."""
        return [item.id]  # type: ignore[attr-defined]

    def specs(self, item: ItemT, questionnaire: Questionnaire) -> list[AnswerSpec]:
        """The answer specs of ``item``, one per form key."""
        return [AnswerSpec(key, self.name, variables=(key,)) for key in self.answer_ids(item)]

    @abstractmethod
    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        """The one answer check: the normalised answer or a problem located at ``spec.key``,
        with one message key per failure.

        ``value`` is never ``None`` (an unanswered item is not checked). Messages that show a
        number or date format it for ``lang`` (default: the current language).
        """

    def stored(self, spec: AnswerSpec, value: Any) -> dict[str, Any]:
        """The codebook variables of an accepted answer ``value``."""
        return {spec.key: value}

    def read_cells(self, spec: AnswerSpec, cells: Mapping[str, Any]) -> tuple[Any, list[Problem]]:
        """The answer in a codebook-layout row (a paper import), unchecked: ``None`` when
        blank; a cell that cannot be converted is returned as it is so :meth:`check` names
        it."""
        value = cell_value(cells.get(spec.key))
        return (None, []) if value is None else (self.read_cell(spec, value), [])

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        """One non-blank cell as an answer; the default keeps it as it is."""
        return value

    def codebook_codes(
        self, questionnaire: Questionnaire, variable: Variable, lang: str
    ) -> tuple[str, str]:
        """The codebook's value labels: of the substantive and of the non-substantive codes."""
        return option_labels(questionnaire, variable.options, lang)

    def value_labels(
        self, questionnaire: Questionnaire, variable: Variable, lang: str
    ) -> dict[Any, str]:
        """The SPSS value labels of the variable: stored value -> label."""
        return {option.code: questionnaire.text(option.label, lang) for option in variable.options}

    def synthetic(
        self, item: ItemT, variable: Variable, n: int, rng: np.random.Generator
    ) -> NDArray[Any] | None:
        """``n`` plausible answers to ``variable`` for synthetic data: floats with NaN as
        missing, or objects with ``None``. ``None``: the synthetic respondent model of
        ``app._synthetic`` draws this kind itself (the choice, number, text, yes/no and date
        answers follow latent attitudes there)."""
        return None

    def dtype(self, variable: Variable) -> str:
        """The pandas dtype of the variable in storage and exports."""
        return "string"

    def measure(self, variable: Variable) -> str:
        """The SPSS measurement level: ``nominal``, ``ordinal`` or ``scale``."""
        return "nominal"


class ChoiceKind(QuestionKind[ItemT]):
    """What single choice and battery statements share: an answer is one option code."""

    def reference_info(self, item: ItemT, scale: Scale | None) -> ReferenceInfo | None:
        return ReferenceInfo("code", tuple(o.code for o in scale.options)) if scale else None

    def specs(self, item: ItemT, questionnaire: Questionnaire) -> list[AnswerSpec]:
        codes = choice_codes(questionnaire, item)
        return [
            AnswerSpec(key, self.name, codes=codes, variables=(key,))
            for key in self.answer_ids(item)
        ]

    def check(self, spec: AnswerSpec, value: Any, lang: str | None = None) -> Checked:
        if not is_code(value) or value not in spec.codes:
            return problem(spec, "answer.unknown_option", value)
        return Accepted(value)

    def read_cell(self, spec: AnswerSpec, value: Any) -> Any:
        return as_code(value, spec.codes)

    def dtype(self, variable: Variable) -> str:
        return "Int64" if variable.integer else "string"

    def measure(self, variable: Variable) -> str:
        """Ordinal for a scored rating scale, nominal otherwise."""
        if variable.kind == "statement" or (variable.tags and variable.integer):
            return "ordinal"
        return "nominal"


class ZeroOneKind(QuestionKind[ItemT]):
    """What yes/no and multi choice share: variables stored as 1 (yes, ticked) or 0."""

    def value_labels(
        self, questionnaire: Questionnaire, variable: Variable, lang: str
    ) -> dict[Any, str]:
        return yes_no_labels(lang)

    def dtype(self, variable: Variable) -> str:
        return "Int64"


# --- helpers shared by several kinds -------------------------------------------------------


def coded_variable(
    variable_id: str, item: Any, kind: VariableKind, label: Any, scale: Scale, tags: Any
) -> Variable:
    """A variable holding one option code of ``scale`` (single choice, battery statement)."""
    return Variable(
        id=variable_id,
        item_id=item.id,
        kind=kind,
        label=label,
        options=scale.options,
        scale=scale,
        tags=tags,
        design=getattr(item, "design", None) if variable_id == item.id else None,
        integer=all(isinstance(o.code, int) for o in scale.options),
    )


def own_variable(item: Any, kind: VariableKind, *, integer: bool) -> Variable:
    """The one variable of an item with a single answer, named like the item."""
    return Variable(
        id=item.id,
        item_id=item.id,
        kind=kind,
        label=item.label,
        tags=item.tags,
        design=item.design,
        integer=integer,
    )


def problem(spec: AnswerSpec, key: str, value: Any = None, **params: Any) -> Problem:
    """A problem with the answer at ``spec.key``; ``value`` is kept for diagnostics."""
    return Problem(Location(field=spec.key), key, {"value": repr(value), **params})


def language(lang: str | None) -> str:
    return lang or current_language()


def is_code(value: Any) -> bool:
    """Whether ``value`` may be an option code at all (a bool or float never is)."""
    return type(value) is int or type(value) is str


def choice_codes(questionnaire: Questionnaire, item: Any) -> tuple[Code, ...]:
    return tuple(o.code for o in questionnaire.scale_of(item).options)


def option_labels(
    questionnaire: Questionnaire, options: list[Option], lang: str
) -> tuple[str, str]:
    def labels(chosen: list[Option]) -> str:
        return LABEL_SEPARATOR.join(f"{o.code}={questionnaire.text(o.label, lang)}" for o in chosen)

    return (
        labels([o for o in options if not o.non_substantive]),
        labels([o for o in options if o.non_substantive]),
    )


def cell_value(value: Any) -> Any:
    """A table cell as a plain Python value; empty (NA, NaN, blank text) is ``None``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def as_number(value: Any) -> Any:
    """A number from a cell; text with a decimal comma or point is parsed, else kept."""
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if _DECIMAL_TEXT.fullmatch(value):
            return float(value.replace(",", "."))
    return value


def as_code(value: Any, codes: tuple[Code, ...]) -> Any:
    """An option code from a cell (``"3"`` or ``3.0`` for code 3), else the cell as it is."""
    if value in codes and type(value) in (int, str):
        return value
    number = as_number(value)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if type(number) is int and number in codes:
        return number
    if isinstance(value, int | float) and not isinstance(value, bool) and str(number) in codes:
        return str(number)
    return value


def as_zero_one(value: Any) -> int | None:
    """1 or 0 from a cell (``1``, ``"1"``, ``1.0``, ``True``), else ``None``."""
    number = as_number(value)
    if isinstance(number, bool | int | float) and number in (0, 1):
        return int(number)
    return None


def as_date_text(value: Any) -> Any:
    """A date cell (a spreadsheet date or a ``date``) as ISO text, else the cell as it is."""
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def iso_date(value: Any) -> date | None:
    """The date in ISO ``YYYY-MM-DD`` text, or ``None`` for anything else."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def number_text(number: float, lang: str) -> str:
    """A number range limit as the respondent reads it in ``lang``, with all its decimals
    (``0,5`` in German, ``0.5`` in English)."""
    value = float(number)
    if value.is_integer():
        return format_number(value, 0, lang)
    text = repr(value)
    digits = len(text.partition(".")[2]) if "e" not in text else 10
    return format_number(value, digits, lang)


def yes_no_labels(lang: str) -> dict[Any, str]:
    """SPSS value labels of a stored 0/1 variable (yes/no, a multi-choice option)."""
    return {0: t("questionnaire.codebook.no", lang), 1: t("questionnaire.codebook.yes", lang)}
