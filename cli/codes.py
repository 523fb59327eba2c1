"""``sicherheitsanalyse codes``: single-use access codes for the invitation letters.

``codes create`` writes the plaintext codes to a CSV for the mail merge with the register
sample (columns ``code, batch, stratum``); the database keeps only keyed hashes of them, so
this file is the only place the codes exist. The file is written next to its final name and
renamed into place, and an existing file is never overwritten.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from cli._options import DatabaseOption, LangOption, QuestionnaireIdOption, fail, output_file
from core import (
    InvalidInput,
    Location,
    Problem,
    current_language,
    format_integer,
    format_percent,
    t,
)
from storage import Store
from survey import load_questionnaire

codes_app = typer.Typer(help=t("cli.codes.help"), no_args_is_help=True)

QuestionnairesDirOption = Annotated[
    Path,
    typer.Option(
        "--questionnaires-dir",
        help=t("cli.codes.questionnaires_dir"),
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``codes`` command group to ``app``."""
    app.add_typer(codes_app, name="codes")


def _ensure_published(store: Store, questionnaire_id: str, directory: Path) -> None:
    """Publish ``<directory>/<id>.yaml`` if the questionnaire is not in the database yet."""
    if store.questionnaire(questionnaire_id) is not None:
        return
    path = directory / f"{questionnaire_id}.yaml"
    if not path.is_file():
        raise InvalidInput(
            [
                Problem(
                    Location(field="--questionnaire"),
                    "storage.cli.unknown_questionnaire",
                    {"id": questionnaire_id, "path": path},
                )
            ]
        )
    questionnaire = load_questionnaire(path)
    if questionnaire.id != questionnaire_id:
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(path), field="meta.id"),
                    "storage.cli.unknown_questionnaire",
                    {"id": questionnaire_id, "path": path},
                )
            ]
        )
    store.publish_questionnaire(questionnaire, path.read_text(encoding="utf-8"))


@codes_app.command("create", help=t("cli.codes.create.help"))
def create(
    questionnaire: QuestionnaireIdOption,
    count: Annotated[int, typer.Option("--count", help=t("cli.codes.count"))],
    out: Annotated[Path, typer.Option("--out", help=t("cli.codes.out"))],
    stratum: Annotated[str | None, typer.Option("--stratum", help=t("cli.codes.stratum"))] = None,
    questionnaires_dir: QuestionnairesDirOption = Path("questionnaires"),
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Create COUNT single-use codes and write them to a CSV for the mail merge."""
    lang = lang or current_language()
    try:
        with Store(database_url) as store:
            _ensure_published(store, questionnaire, questionnaires_dir)
            # A bad count or a failed write leaves neither codes file nor temporary file.
            with output_file(out, "w", encoding="utf-8-sig", newline="") as stream:
                batch = store.create_codes(questionnaire, count, stratum=stratum)
                writer = csv.writer(stream)
                writer.writerow(["code", "batch", "stratum"])
                writer.writerows([code, batch.id, batch.stratum or ""] for code in batch.codes)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    typer.echo(
        t(
            "storage.cli.codes_written",
            lang,
            count=format_integer(count, lang),
            batch=batch.id,
            path=out,
        )
    )


@codes_app.command("list", help=t("cli.codes.list.help"))
def list_batches(
    questionnaire: QuestionnaireIdOption,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Show each code batch with issued and used codes (response rate per stratum)."""
    lang = lang or current_language()
    with Store(database_url) as store:
        batches = store.code_batches(questionnaire)
    typer.echo(t("storage.cli.batches_header", lang))
    for batch in batches:
        rate = batch.used / batch.issued if batch.issued else 0.0
        typer.echo(
            f"{batch.id} | {batch.stratum or '-'} | {batch.created_on.isoformat()} | "
            f"{format_integer(batch.issued, lang)} | {format_integer(batch.used, lang)} | "
            f"{format_percent(rate, 1, lang)}"
        )
