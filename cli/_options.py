"""Options and the bad-input exit shared by the command modules.

One definition per option, so ``--database-url``, ``--lang`` and ``--questionnaire`` read the
same in every command's ``--help``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer

from survey._problems import Problem

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL; default: SICHERHEITSANALYSE_DATABASE_URL or data/sicherheitsanalyse.db.",
    ),
]
LangOption = Annotated[str | None, typer.Option("--lang", help="Language of messages: de or en.")]
QuestionnaireIdOption = Annotated[
    str, typer.Option("--questionnaire", help="Questionnaire id (meta.id).")
]


def fail(problems: Iterable[Problem], lang: str) -> typer.Exit:
    """Print one line per problem on stderr; the ``typer.Exit(1)`` for the caller to raise."""
    for problem in problems:
        typer.echo(problem.render(lang), err=True)
    return typer.Exit(1)
