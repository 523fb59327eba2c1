"""``sicherheitsanalyse codes``: single-use access codes for the invitation letters.

``codes create`` writes the plaintext codes to a CSV for the mail merge with the register
sample (columns ``code;batch;stratum``, ``;``-separated like every export); the database keeps
only keyed hashes of them, so this file is the only place the codes exist. ``codes letters``
makes the batch's letters (PDF, and a DOCX mail-merge template) from that file. Every file is
written next to its final name and renamed into place, and an existing file is never
overwritten.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from app import batch_letters, read_codes_file
from cli._options import (
    DatabaseOption,
    LangOption,
    MunicipalityOption,
    QuestionnaireIdOption,
    fail,
    output_file,
    tenant_store,
)
from core import (
    InvalidInput,
    Location,
    Problem,
    current_language,
    format_integer,
    format_percent,
    t,
)
from reporting import codes_csv, letters_docx, letters_pdf
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
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Create COUNT single-use codes and write them to a CSV for the mail merge."""
    lang = lang or current_language()
    try:
        with tenant_store(database_url, municipality, lang) as store:
            _ensure_published(store, questionnaire, questionnaires_dir)
            # A bad count or a failed write leaves neither codes file nor temporary file.
            with output_file(out, "wb") as stream:
                batch = store.create_codes(questionnaire, count, stratum=stratum)
                stream.write(codes_csv(batch.codes, batch.id, batch.stratum))
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


@codes_app.command("letters", help=t("cli.codes.letters.help"))
def letters(
    batch: Annotated[str, typer.Option("--batch", help=t("cli.codes.letters.batch"))],
    codes: Annotated[Path, typer.Option("--codes", help=t("cli.codes.letters.codes"))],
    out: Annotated[Path, typer.Option("--out", help=t("cli.codes.letters.out"))],
    docx: Annotated[Path | None, typer.Option("--docx", help=t("cli.codes.letters.docx"))] = None,
    url: Annotated[str | None, typer.Option("--url", help=t("cli.codes.letters.url"))] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help=t("cli.codes.letters.deadline"))
    ] = None,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Make the batch's letters: one A4 page per code of the codes file."""
    ui_lang = lang or current_language()
    try:
        until = _deadline(deadline)
        data = _read_input(codes)
        codes_file = read_codes_file(data, str(codes))
        with tenant_store(database_url, municipality, ui_lang) as store:
            made = batch_letters(
                store,
                batch,
                codes_file.codes,
                rows=codes_file.rows,
                source=str(codes),
                url=url,
                deadline=until,
                lang=lang,
            )
        for path in (out, docx):
            if path is not None and path.exists():
                raise InvalidInput(
                    [Problem(Location(file=str(path)), "storage.cli.exists", {"path": path})]
                )
        # The letters hold the codes: as private as the codes file.
        with output_file(out, "wb") as stream:
            stream.write(letters_pdf(made.kit, made.codes))
        if docx is not None:
            with output_file(docx, "wb", private=False) as stream:
                stream.write(letters_docx(made.kit))
    except InvalidInput as error:
        raise fail(error.problems, ui_lang) from None
    typer.echo(
        t(
            "letters.written",
            ui_lang,
            count=len(made.codes),
            batch=batch,
            path=out,
        )
    )
    if docx is not None:
        typer.echo(t("letters.docx_written", ui_lang, path=docx))


def _deadline(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            [Problem(Location(field="--deadline"), "letters.bad_deadline", {"value": text})]
        ) from None


def _read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(path), field="--codes"),
                    "letters.unreadable",
                    {"reason": error.strerror or error},
                )
            ]
        ) from None


@codes_app.command("list", help=t("cli.codes.list.help"))
def list_batches(
    questionnaire: QuestionnaireIdOption,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Show each code batch with issued and used codes (response rate per stratum)."""
    lang = lang or current_language()
    with tenant_store(database_url, municipality, lang) as store:
        batches = store.code_batches(questionnaire)
    typer.echo(t("storage.cli.batches_header", lang))
    for batch in batches:
        rate = batch.used / batch.issued if batch.issued else 0.0
        typer.echo(
            f"{batch.id} | {batch.stratum or '-'} | {batch.created_on.isoformat()} | "
            f"{format_integer(batch.issued, lang)} | {format_integer(batch.used, lang)} | "
            f"{format_percent(rate, 1, lang)}"
        )
