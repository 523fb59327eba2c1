"""Options and the bad-input exit shared by the command modules.

One definition per option, so ``--database-url``, ``--lang`` and ``--questionnaire`` read the
same in every command's ``--help``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer

from core import Problem, t

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help=t("cli.option.database_url"),
    ),
]
LangOption = Annotated[str | None, typer.Option("--lang", help=t("cli.option.lang"))]
QuestionnaireIdOption = Annotated[
    str, typer.Option("--questionnaire", help=t("cli.option.questionnaire_id"))
]


def fail(problems: Iterable[Problem], lang: str) -> typer.Exit:
    """Print one line per problem on stderr; the ``typer.Exit(1)`` for the caller to raise."""
    for problem in problems:
        typer.echo(problem.render(lang), err=True)
    return typer.Exit(1)
