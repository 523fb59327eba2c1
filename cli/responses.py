"""``sicherheitsanalyse responses import``: responses keyed in from paper questionnaires.

The file (CSV or XLSX) is in the codebook layout, one row per questionnaire, as the responses
export writes it. It is read as a table of text cells (as the data uploads are), checked
whole by :meth:`storage.Store.import_responses`, and stored in one transaction, or not at all:
every bad cell is one line ``file, row N, column: Fehler: …`` and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli._options import (
    DatabaseOption,
    LangOption,
    MunicipalityOption,
    QuestionnaireIdOption,
    fail,
    tenant_store,
)
from core import InvalidInput, current_language, format_integer, t
from sources import read_response_table
from storage import MODES
from survey import load_questionnaire_text

responses_app = typer.Typer(help=t("cli.responses.help"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``responses`` command group to ``app``."""
    app.add_typer(responses_app, name="responses")


@responses_app.command("import", help=t("cli.responses.import.help"))
def import_command(
    file: Annotated[Path, typer.Argument(help=t("installation.import.file_help"))],
    questionnaire_id: QuestionnaireIdOption,
    mode: Annotated[
        str, typer.Option(help=t("cli.responses.mode", modes=", ".join(MODES)))
    ] = "paper",
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Import responses in the codebook layout (CSV/XLSX): all rows, or none."""
    lang = lang or current_language()
    try:
        table = read_response_table(file)
        with tenant_store(database_url, municipality, lang) as store:
            source = store.questionnaire_source(questionnaire_id)
            questionnaire = load_questionnaire_text(source, f"{questionnaire_id}.yaml")
            count = store.import_responses(
                questionnaire,
                table.frame,
                mode=mode,
                source=file.name,
                row_numbers=table.row_numbers,
                header_row=table.header_row,
            )
    except InvalidInput as invalid:
        raise fail(invalid.problems, lang) from None
    typer.echo(
        t(
            "installation.import.imported",
            lang,
            count=format_integer(count, lang),
            questionnaire=questionnaire_id,
            mode=mode,
        )
    )


@responses_app.command("remove", help=t("privacy.remove.help"))
def remove_command(
    questionnaire_id: QuestionnaireIdOption,
    yes: Annotated[bool, typer.Option("--yes", help=t("privacy.remove.yes_help"))] = False,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Delete a questionnaire's responses, drafts and codes (DSGVO: end of retention)."""
    lang = lang or current_language()
    try:
        with tenant_store(database_url, municipality, lang) as store:
            store.questionnaire_source(questionnaire_id)  # an unknown id is a problem
            if not yes:
                count = int(store.response_counts_by_day(questionnaire_id)["responses"].sum())
                key = "privacy.remove.would_remove"
            else:
                count = store.remove_responses(questionnaire_id)
                key = "privacy.remove.removed"
    except InvalidInput as invalid:
        raise fail(invalid.problems, lang) from None
    typer.echo(t(key, lang, count=format_integer(count, lang), questionnaire=questionnaire_id))
