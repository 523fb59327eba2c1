"""Questionnaire commands: ``validate`` and ``codebook``.

Bad input never ends in a traceback: every problem is one line
``file:line:column: Fehler: <path>: <message>`` and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path

import typer

from core import current_language, t
from survey import (
    check_action_fields,
    check_questionnaire,
    codebook,
    is_action_field_catalogue,
    iter_problem_lines,
)

CODEBOOK_FORMATS = ("csv", "json")

_LANG_OPTION = typer.Option(None, "--lang", help=t("cli.option.lang"))


def validate(
    files: list[Path] = typer.Argument(..., help=t("questionnaire.cli.files_help")),
    lang: str | None = _LANG_OPTION,
) -> None:
    """Check questionnaire files; exit 0 when all are valid, else 1."""
    lang = lang or current_language()
    failed = False
    for path in files:
        if is_action_field_catalogue(path):
            catalogue, problems = check_action_fields(path)
            for line in iter_problem_lines(problems, lang):
                typer.echo(line)
            if catalogue is None:
                failed = True
            else:
                typer.echo(
                    t(
                        "questionnaire.valid_catalogue",
                        lang,
                        file=path,
                        fields=len(catalogue.fields),
                    )
                )
            continue
        result = check_questionnaire(path)
        for line in iter_problem_lines(result.problems, lang):
            typer.echo(line)
        if result.ok and result.questionnaire is not None:
            questionnaire = result.questionnaire
            typer.echo(
                t(
                    "questionnaire.valid",
                    lang,
                    file=path,
                    variables=len(questionnaire.variables()),
                    revision=questionnaire.revision,
                )
            )
        else:
            failed = True
    raise typer.Exit(1 if failed else 0)


def codebook_command(
    file: Path = typer.Argument(..., help=t("questionnaire.cli.file_help")),
    output_format: str = typer.Option("csv", "--format", help=t("questionnaire.cli.format_help")),
    lang: str | None = _LANG_OPTION,
) -> None:
    """Print the codebook of a questionnaire as CSV or JSON."""
    lang = lang or current_language()
    if output_format not in CODEBOOK_FORMATS:
        typer.echo(
            f"{t('problem.error', lang)}: "
            + t("questionnaire.cli.bad_format", lang, found=output_format)
        )
        raise typer.Exit(1)
    result = check_questionnaire(file)
    if not result.ok or result.questionnaire is None:
        for line in iter_problem_lines(result.problems, lang):
            typer.echo(line)
        raise typer.Exit(1)
    table = codebook(result.questionnaire, lang)
    if output_format == "csv":
        typer.echo(table.to_csv(index=False), nl=False)
    else:
        typer.echo(table.to_json(orient="records", force_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``codebook`` to ``app``."""
    app.command("validate", help=t("questionnaire.cli.validate_help"))(validate)
    app.command("codebook", help=t("questionnaire.cli.codebook_help"))(codebook_command)
