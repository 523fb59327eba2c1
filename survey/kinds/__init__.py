"""The question kinds: one module per ``kind:`` of the questionnaire format.

Everything that differs between kinds lives in its module (a :class:`QuestionKind`): the
variables, the expression type, the one answer check used by the form, the store and the
paper import, reading a codebook cell back, codebook rows, storage dtype and SPSS measure.
Adding a kind: a pydantic item class in :mod:`survey._model` (and its variable kind), a
module here and an entry in :data:`KINDS`; a widget in ``views/_widgets.py`` only when it is
not asked with an existing input (:attr:`QuestionKind.widget`).
"""

from __future__ import annotations

from typing import Any

from survey._model import Item, Variable
from survey.kinds._base import (
    LABEL_SEPARATOR,
    Accepted,
    AnswerSpec,
    Checked,
    QuestionKind,
    as_code,
    as_date_text,
    as_number,
    cell_value,
    is_code,
    iso_date,
)
from survey.kinds._battery import BatteryKind
from survey.kinds._date import DateKind
from survey.kinds._info import InfoKind
from survey.kinds._multi import MultiKind
from survey.kinds._number import NumberKind
from survey.kinds._single import SingleKind
from survey.kinds._text import TextKind
from survey.kinds._year import YearKind
from survey.kinds._yesno import YesNoKind

#: Every question kind by its ``kind:`` name, in the order the format documents them.
KINDS: dict[str, QuestionKind[Any]] = {
    kind.name: kind
    for kind in (
        SingleKind(),
        MultiKind(),
        BatteryKind(),
        NumberKind(),
        TextKind(),
        YesNoKind(),
        DateKind(),
        YearKind(),
        InfoKind(),
    )
}
_BY_VARIABLE_KIND: dict[str, QuestionKind[Any]] = {
    variable_kind: kind for kind in KINDS.values() for variable_kind in kind.variable_kinds
}


def kind_of(item: Item) -> QuestionKind[Any]:
    """The kind of ``item``."""
    return KINDS[item.kind]


def kind_named(name: str) -> QuestionKind[Any]:
    """The kind called ``name`` (an :attr:`AnswerSpec.kind`); ``KeyError`` if there is none."""
    return KINDS[name]


def kind_of_variable(variable: Variable) -> QuestionKind[Any]:
    """The kind whose item made ``variable``."""
    return _BY_VARIABLE_KIND[variable.kind]


__all__ = [
    "KINDS",
    "LABEL_SEPARATOR",
    "Accepted",
    "AnswerSpec",
    "Checked",
    "QuestionKind",
    "as_code",
    "as_date_text",
    "as_number",
    "cell_value",
    "is_code",
    "iso_date",
    "kind_named",
    "kind_of",
    "kind_of_variable",
]
