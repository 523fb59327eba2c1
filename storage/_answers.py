"""Answers as the store checks and keeps them: the column layout of a questionnaire's
responses, the check of each answer, and the codebook layout read back into answers.

Every per-kind rule is the question kind's own (:mod:`survey.kinds`), so the store, the web
form and the paper import report the same bad answer with the same message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core import InvalidInput, Location, Problem
from survey import MODES, Questionnaire, Variable
from survey.kinds import (
    AnswerSpec,
    as_date_text,
    cell_value,
    is_code,
    iso_date,
    kind_named,
    kind_of,
    kind_of_variable,
)

__all__ = [
    "MODES",
    "AnswerLayout",
    "AnswerSpec",
    "answer_layout",
    "answers_from_codebook",
    "cell_value",
    "codebook_columns",
    "is_code",
    "meta_problems",
    "submitted_on_date",
    "validate_answers",
]


@dataclass(frozen=True)
class AnswerLayout:
    """Per questionnaire revision: answer specs by form key and the codebook columns."""

    specs: dict[str, AnswerSpec]
    variables: list[Variable]
    dtypes: dict[str, str] = field(default_factory=dict)


def answer_layout(questionnaire: Questionnaire) -> AnswerLayout:
    specs = {
        spec.key: spec
        for item in questionnaire.items()
        for spec in kind_of(item).specs(item, questionnaire)
    }
    variables = questionnaire.variables()
    return AnswerLayout(
        specs=specs,
        variables=variables,
        dtypes={v.id: kind_of_variable(v).dtype(v) for v in variables},
    )


def validate_answers(
    layout: AnswerLayout, answers: Mapping[str, Any], lang: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers as the form may reload them and in codebook layout, or InvalidInput.

    ``lang`` formats the numbers and dates in the messages (default: the current language).
    """
    problems: list[Problem] = []
    form: dict[str, Any] = {}
    codebook: dict[str, Any] = {}
    for key, value in answers.items():
        spec = layout.specs.get(key)
        if spec is None:
            problems.append(Problem(Location(field=str(key)), "answer.unknown_item"))
            continue
        if value is None:
            continue
        kind = kind_named(spec.kind)
        checked = kind.check(spec, value, lang)
        if isinstance(checked, Problem):
            problems.append(checked)
        elif checked.value is not None:
            form[key] = checked.value
            codebook.update(kind.stored(spec, checked.value))
    if problems:
        raise InvalidInput(problems)
    return form, codebook


def meta_problems(questionnaire: Questionnaire, language: str, mode: str) -> list[Problem]:
    """The language and mode of a response, as :meth:`Store.submit` and the import check them."""
    problems = questionnaire.language_problems(language, "language")
    if mode not in MODES:
        problems.append(
            Problem(
                Location(field="mode"),
                "storage.bad_choice",
                {"value": mode, "expected": ", ".join(MODES)},
            )
        )
    return problems


def answers_from_codebook(
    layout: AnswerLayout, cells: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """One response in the codebook layout as the answers :func:`validate_answers` takes.

    Each kind reads its own cells (:meth:`survey.kinds.QuestionKind.read_cells`): multi choice
    0/1 columns become the list of ticked codes, yes/no 1/0 becomes ``True``/``False``, text
    cells of codes and numbers become numbers. A cell that cannot be converted is passed on
    as it is, so the kind's check reports it.
    """
    answers: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, spec in layout.specs.items():
        value, found = kind_named(spec.kind).read_cells(spec, cells)
        problems += found
        if value is not None:
            answers[key] = value
    return answers, problems


def codebook_columns(layout: AnswerLayout) -> set[str]:
    return {v.id for v in layout.variables}


def submitted_on_date(value: Any) -> date | None:
    """The submission date of an imported row (``None``: not a date)."""
    return iso_date(as_date_text(value))
