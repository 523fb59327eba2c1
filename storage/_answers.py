"""Answers as the store checks and keeps them: the column layout of a questionnaire's
responses, the check of each answer, and the codebook layout read back into answers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from core import InvalidInput, Location, Problem
from survey import (
    BatteryItem,
    Code,
    DateItem,
    InfoItem,
    MultiChoiceItem,
    NumberItem,
    Questionnaire,
    SingleChoiceItem,
    TextItem,
    Variable,
    YesNoItem,
    date_in_range,
    date_range,
    multi_variable_id,
)

MODES: tuple[str, ...] = ("web", "paper")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSpec:
    """How one answer key of the form dict is checked and stored."""

    kind: str
    codes: tuple[Code, ...] = ()
    multi_variables: tuple[str, ...] = ()
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 0


@dataclass(frozen=True)
class AnswerLayout:
    """Per questionnaire revision: answer specs by form key and the codebook columns."""

    specs: dict[str, AnswerSpec]
    variables: list[Variable]
    dtypes: dict[str, str] = field(default_factory=dict)


def answer_layout(questionnaire: Questionnaire) -> AnswerLayout:
    specs: dict[str, AnswerSpec] = {}
    for item in questionnaire.items():
        if isinstance(item, InfoItem):
            continue
        if isinstance(item, SingleChoiceItem):
            codes = tuple(o.code for o in questionnaire.scale_of(item).options)
            specs[item.id] = AnswerSpec("single", codes=codes)
        elif isinstance(item, MultiChoiceItem):
            codes = tuple(o.code for o in questionnaire.scale_of(item).options)
            specs[item.id] = AnswerSpec(
                "multi",
                codes=codes,
                multi_variables=tuple(multi_variable_id(item.id, c) for c in codes),
            )
        elif isinstance(item, BatteryItem):
            codes = tuple(o.code for o in questionnaire.scale_of(item).options)
            for statement in item.statements:
                specs[statement.id] = AnswerSpec("single", codes=codes)
        elif isinstance(item, NumberItem):
            specs[item.id] = AnswerSpec(
                "number", integer=item.integer, minimum=item.min, maximum=item.max
            )
        elif isinstance(item, TextItem):
            specs[item.id] = AnswerSpec("text", max_length=item.max_length)
        elif isinstance(item, YesNoItem):
            specs[item.id] = AnswerSpec("yesno")
        elif isinstance(item, DateItem):
            specs[item.id] = AnswerSpec("date")
    variables = questionnaire.variables()
    return AnswerLayout(
        specs=specs, variables=variables, dtypes={v.id: _dtype(v) for v in variables}
    )


def _dtype(variable: Variable) -> str:
    if variable.kind in ("multi_option", "yesno"):
        return "Int64"
    if variable.kind in ("single", "statement"):
        return "Int64" if variable.integer else "string"
    if variable.kind == "number":
        return "Int64" if variable.integer else "Float64"
    return "string"


def _check_answer(
    key: str, spec: AnswerSpec, value: Any, out_form: dict[str, Any], out_codebook: dict[str, Any]
) -> Problem | None:
    """Check one answer; on success fill its form value and its codebook variables."""
    if spec.kind == "single":
        if not is_code(value) or value not in spec.codes:
            return Problem(
                Location(field=key), "storage.answer.not_an_option", {"value": repr(value)}
            )
        out_form[key] = out_codebook[key] = value
    elif spec.kind == "multi":
        if not isinstance(value, list | tuple | set | frozenset):
            return Problem(Location(field=key), "storage.answer.not_a_list", {"value": repr(value)})
        bad = [c for c in value if not is_code(c) or c not in spec.codes]  # before hashing
        if bad:
            return Problem(
                Location(field=key), "storage.answer.not_an_option", {"value": repr(bad[0])}
            )
        chosen = list(dict.fromkeys(value))
        out_form[key] = chosen
        for code, variable in zip(spec.codes, spec.multi_variables, strict=True):
            out_codebook[variable] = 1 if code in chosen else 0
    elif spec.kind == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not math.isfinite(value))  # an int may be huge
        ):
            return Problem(
                Location(field=key), "storage.answer.not_a_number", {"value": repr(value)}
            )
        if spec.integer:
            if value != int(value):
                return Problem(
                    Location(field=key), "storage.answer.not_an_integer", {"value": repr(value)}
                )
            value = int(value)
        if (spec.minimum is not None and value < spec.minimum) or (
            spec.maximum is not None and value > spec.maximum
        ):
            return Problem(
                Location(field=key),
                "storage.answer.out_of_range",
                {"value": value, "min": spec.minimum, "max": spec.maximum},
            )
        out_form[key] = out_codebook[key] = value
    elif spec.kind == "text":
        if not isinstance(value, str):
            return Problem(Location(field=key), "storage.answer.not_text", {"value": repr(value)})
        if len(value) > spec.max_length:
            return Problem(
                Location(field=key),
                "storage.answer.too_long",
                {"length": len(value), "max": spec.max_length},
            )
        if value.strip():
            out_form[key] = out_codebook[key] = value
    elif spec.kind == "yesno":
        if not isinstance(value, bool) and value not in (0, 1):
            return Problem(Location(field=key), "storage.answer.not_yes_no", {"value": repr(value)})
        out_form[key] = bool(value)
        out_codebook[key] = int(bool(value))
    else:  # date
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or not _is_iso_date(value):
            return Problem(Location(field=key), "storage.answer.not_a_date", {"value": repr(value)})
        if not date_in_range(date.fromisoformat(value)):
            earliest, latest = date_range()
            return Problem(
                Location(field=key),
                "storage.answer.date_out_of_range",
                {"value": value, "min": earliest.isoformat(), "max": latest.isoformat()},
            )
        out_form[key] = out_codebook[key] = value
    return None


def is_code(value: Any) -> bool:
    return type(value) is int or type(value) is str


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate_answers(
    layout: AnswerLayout, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers as the form may reload them and in codebook layout, or InvalidInput."""
    problems: list[Problem] = []
    form: dict[str, Any] = {}
    codebook: dict[str, Any] = {}
    for key, value in answers.items():
        spec = layout.specs.get(key)
        if spec is None:
            problems.append(Problem(Location(field=str(key)), "storage.answer.unknown_item"))
            continue
        if value is None:
            continue
        if spec.kind == "single" and type(value) in (int, str) and value in spec.codes:
            form[key] = codebook[key] = value  # the common case, kept cheap
            continue
        problem = _check_answer(key, spec, value, form, codebook)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise InvalidInput(problems)
    return form, codebook


def meta_problems(questionnaire: Questionnaire, language: str, mode: str) -> list[Problem]:
    """The language and mode of a response, as :meth:`Store.submit` and the import check them."""
    problems: list[Problem] = []
    if language not in questionnaire.meta.languages:
        problems.append(
            Problem(
                Location(field="language"),
                "storage.bad_choice",
                {"value": language, "expected": ", ".join(questionnaire.meta.languages)},
            )
        )
    if mode not in MODES:
        problems.append(
            Problem(
                Location(field="mode"),
                "storage.bad_choice",
                {"value": mode, "expected": ", ".join(MODES)},
            )
        )
    return problems


# --- the codebook layout back to answers (the inverse of _check_answer's codebook output) --

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


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


def _as_number(value: Any) -> Any:
    """A number from a cell; text with a decimal comma or point is parsed, else kept."""
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if _DECIMAL_TEXT.fullmatch(value):
            return float(value.replace(",", "."))
    return value


def _as_code(value: Any, codes: tuple[Code, ...]) -> Any:
    """An option code from a cell (``"3"`` or ``3.0`` for code 3), else the cell as it is."""
    if value in codes and type(value) in (int, str):
        return value
    number = _as_number(value)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if type(number) is int and number in codes:
        return number
    if isinstance(value, int | float) and not isinstance(value, bool) and str(number) in codes:
        return str(number)
    return value


def _as_zero_one(value: Any) -> int | None:
    """1 or 0 from a cell (``1``, ``"1"``, ``1.0``, ``True``), else ``None``."""
    number = _as_number(value)
    if isinstance(number, bool | int | float) and number in (0, 1):
        return int(number)
    return None


def _as_date_text(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def answers_from_codebook(
    layout: AnswerLayout, cells: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """One response in the codebook layout as the answers :func:`validate_answers` takes.

    The inverse of the storage layout: multi choice ``<item>__<code>`` 0/1 columns become the
    list of ticked codes (all empty: unanswered), yes/no 1/0 becomes ``True``/``False``, and
    text cells of codes and numbers become numbers. A cell that cannot be converted is passed
    on as it is, so :func:`_check_answer` reports it; only a multi-choice column that is not
    0/1 is reported here (its check has no column to name).
    """
    answers: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, spec in layout.specs.items():
        if spec.kind == "multi":
            ticked: list[Code] = []
            seen = False
            for code, variable in zip(spec.codes, spec.multi_variables, strict=True):
                value = cell_value(cells.get(variable))
                if value is None:
                    continue
                seen = True
                flag = _as_zero_one(value)
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
            if seen:
                answers[key] = ticked
            continue
        value = cell_value(cells.get(key))
        if value is None:
            continue
        if spec.kind == "single":
            answers[key] = _as_code(value, spec.codes)
        elif spec.kind == "number":
            answers[key] = _as_number(value)
        elif spec.kind == "yesno":
            flag = _as_zero_one(value)
            answers[key] = value if flag is None else bool(flag)
        elif spec.kind == "date":
            answers[key] = _as_date_text(value)
        else:
            answers[key] = value
    return answers, problems


def codebook_columns(layout: AnswerLayout) -> set[str]:
    return {v.id for v in layout.variables}


def submitted_on_date(value: Any) -> date | None:
    """The submission date of an imported row (``None``: not a date)."""
    value = _as_date_text(value)
    if isinstance(value, str) and _is_iso_date(value):
        return date.fromisoformat(value)
    return None
