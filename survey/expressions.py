"""The expression language of ``show_if`` and ``validate`` (see docs/questionnaire-format.md).

INTERFACE STUB — filled in by the expression-language work. The loader and the survey form
rely on exactly these names and signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ValueType = Literal["number", "string", "bool", "date", "codes", "code"]


@dataclass(frozen=True)
class ReferenceInfo:
    """What the checker knows about a name an expression may reference."""

    type: ValueType
    #: Allowed codes for choice items (``code`` for single choice, ``codes`` for multi).
    codes: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class ExpressionProblem:
    """A problem inside one expression; ``offset`` is the 0-based character offset in it."""

    offset: int
    key: str
    params: Mapping[str, Any]


class Expression:
    """A parsed, checked expression. Evaluate with :meth:`evaluate`."""

    source: str

    def references(self) -> frozenset[str]:
        raise NotImplementedError

    def evaluate(self, answers: Mapping[str, Any], self_value: Any = None) -> Any:
        raise NotImplementedError


def compile_expression(
    source: str,
    known: Mapping[str, ReferenceInfo],
    *,
    self_type: ReferenceInfo | None = None,
) -> tuple[Expression | None, list[ExpressionProblem]]:
    """Parse and type-check ``source`` against the references in ``known``."""
    raise NotImplementedError
