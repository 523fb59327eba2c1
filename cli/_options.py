"""Options and the bad-input exit shared by the command modules.

One definition per option, so ``--database-url``, ``--lang`` and ``--questionnaire`` read the
same in every command's ``--help``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer

from core import Problem, catalogue, t

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
        typer.echo(problem_line(problem, lang), err=True)
    return typer.Exit(1)


def problem_line(problem: Problem, lang: str) -> str:
    """The problem's one line, followed by the command line's own hint where it has one.

    The pure code names what is wrong ("no population for the areas ..."); how to fix it on
    the command line ("--population FILE") is ``cli.hint.<problem key>`` in the catalogue.
    """
    hint = f"cli.hint.{problem.key}"
    line = problem.render(lang)
    return f"{line} {t(hint, lang)}" if hint in catalogue() else line
