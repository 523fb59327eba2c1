"""Options and the bad-input exit shared by the command modules.

One definition per option, so ``--database-url``, ``--lang`` and ``--questionnaire`` read the
same in every command's ``--help``.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from core import InvalidInput, Location, Problem, t

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


def open_output(out: Path, *, overwrite: bool = False) -> tuple[int, Path]:
    """A temporary file beside ``out`` (so the final rename is atomic), or InvalidInput.

    The caller writes the temporary file and renames it onto ``out`` only when everything
    succeeded, so a failure never leaves a half-written file. Without ``overwrite`` an
    existing ``out`` is refused (a code list exists only once).
    """
    where = Location(file=str(out), field="--out")
    if out.exists() and not overwrite:
        raise InvalidInput([Problem(where, "storage.cli.exists", {"path": out})])
    if out.is_dir():
        raise InvalidInput(
            [
                Problem(
                    where,
                    "storage.cli.unwritable",
                    {"path": out, "reason": os.strerror(errno.EISDIR)},
                )
            ]
        )
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as error:
        raise InvalidInput(
            [
                Problem(
                    where,
                    "storage.cli.unwritable",
                    {"path": out, "reason": error.strerror or error},
                )
            ]
        ) from None
    return handle, Path(name)
