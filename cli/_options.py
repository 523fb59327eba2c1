"""Options and the bad-input exit shared by the command modules.

One definition per option, so ``--database-url``, ``--lang`` and ``--questionnaire`` read the
same in every command's ``--help``.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import typer

from app import publishing_store
from core import InvalidInput, Location, Problem, catalogue, t
from storage import Store

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


MunicipalityOption = Annotated[
    str | None, typer.Option("--municipality", help=t("cli.option.municipality"))
]


@contextmanager
def tenant_store(database_url: str | None, municipality: str | None, lang: str) -> Iterator[Store]:
    """The store of ``--municipality`` (default: the only municipality that is not the demo);
    exits 1 with a line naming the choices when there are none or several."""
    with Store(database_url) as store:
        try:
            scoped = publishing_store(store, municipality)
        except InvalidInput as invalid:
            raise fail(invalid.problems, lang) from None
        yield scoped


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


@contextmanager
def output_file(
    out: Path,
    mode: Literal["w", "wb"],
    *,
    overwrite: bool = False,
    private: bool = True,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """A stream to write ``out`` through: a temporary file beside it, renamed onto ``out``
    only when the ``with`` block succeeded, so a failure never leaves a half-written file.

    Without ``overwrite`` an existing ``out`` is refused (a code list exists only once). A
    ``private`` file stays readable by its owner only (the temporary file's mode: access
    codes are secrets); otherwise it gets the usual permissions of the user's umask.
    Raises :class:`core.InvalidInput` located at ``--out`` when it cannot be written.
    """
    where = Location(file=str(out), field="--out")
    if out.exists() and not overwrite:
        raise InvalidInput([Problem(where, "storage.cli.exists", {"path": out})])
    reason = os.strerror(errno.EISDIR) if out.is_dir() else None
    if reason is None:
        try:
            handle, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        except OSError as error:
            reason = error.strerror or str(error)
    if reason is not None:
        raise InvalidInput(
            [Problem(where, "storage.cli.unwritable", {"path": out, "reason": reason})]
        )
    temporary = Path(name)
    if not private:
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
    try:
        with os.fdopen(handle, mode, encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(out)
    finally:
        temporary.unlink(missing_ok=True)
