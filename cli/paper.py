"""``sicherheitsanalyse paper``: the printed questionnaire and reading scanned forms.

``paper print`` makes the paper questionnaire once per code of a codes file (as ``codes
create`` wrote it: the database keeps only hashes of the codes). ``paper scan`` reads scanned
forms (PDF, PNG, JPEG, TIFF). Boxes it cannot read with certainty and written fields must be
decided by a person: the command then writes a review file (``review.csv``) and an image per
open answer into ``--review-dir`` and stores nothing; run it again with ``--resolved
DIR/review.csv`` once the ``answer`` column is filled in. Bad input exits 1 with one line per
problem and stores nothing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from app import (
    REVIEW_COLUMNS,
    ScannedForm,
    current_questionnaire,
    decisions_from_rows,
    print_forms_from_file,
    review_image_name,
    review_rows,
    scan_forms,
    store_scanned_forms,
)
from cli._options import (
    DatabaseOption,
    LangOption,
    MunicipalityOption,
    fail,
    output_file,
    tenant_store,
)
from core import InvalidInput, Location, Problem, current_language, format_integer, t
from survey import Questionnaire

paper_app = typer.Typer(help=t("cli.paper.help"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``paper`` command group to ``app``."""
    app.add_typer(paper_app, name="paper")


def _batch_column(data: bytes) -> str | None:
    """The ``batch`` of the first row of a codes file, if it has that column."""
    text = data.decode("utf-8-sig", errors="replace")
    header = text.splitlines()[0] if text else ""
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    value = (rows[0].get("batch") or "").strip() if rows else ""
    return value or None


@paper_app.command("print", help=t("cli.paper.print.help"))
def print_command(
    questionnaire_id: Annotated[str, typer.Argument(help=t("cli.option.questionnaire_id"))],
    codes: Annotated[Path, typer.Option("--codes", help=t("cli.paper.print.codes"))],
    out: Annotated[Path, typer.Option("--out", "-o", help=t("cli.paper.print.out"))],
    batch: Annotated[str | None, typer.Option("--batch", help=t("cli.paper.print.batch"))] = None,
    large_print: Annotated[
        bool, typer.Option("--large-print", help=t("cli.paper.print.large"))
    ] = False,
    language: Annotated[
        str | None, typer.Option("--language", help=t("cli.paper.print.language"))
    ] = None,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """The paper questionnaire for every code of a codes file, as one PDF."""
    lang = lang or current_language()
    try:
        data = codes.read_bytes() if codes.is_file() else None
        if data is None:
            raise InvalidInput([Problem(Location(file=str(codes)), "paper.cli.no_file")])
        batch_id = batch or _batch_column(data)
        if batch_id is None:
            raise InvalidInput([Problem(Location(file=codes.name), "paper.cli.no_batch")])
        with tenant_store(database_url, municipality, lang) as store:
            questionnaire = current_questionnaire(store, questionnaire_id)
            forms = print_forms_from_file(
                store,
                batch_id,
                data,
                codes.name,
                lang=language or questionnaire.meta.default_language,
                large_print=large_print,
            )
            if forms.questionnaire_id != questionnaire_id:
                raise InvalidInput(
                    [
                        Problem(
                            Location(field="--batch"),
                            "paper.cli.other_batch",
                            {"batch": batch_id, "questionnaire": questionnaire_id},
                        )
                    ]
                )
        with output_file(out, "wb", private=True) as stream:
            stream.write(forms.pdf)
    except InvalidInput as invalid:
        raise fail(invalid.problems, lang) from None
    typer.echo(t("cli.paper.print.done", lang, count=format_integer(forms.count, lang), path=out))


@paper_app.command("scan", help=t("cli.paper.scan.help"))
def scan_command(
    questionnaire_id: Annotated[str, typer.Argument(help=t("cli.option.questionnaire_id"))],
    files: Annotated[list[Path], typer.Argument(help=t("cli.paper.scan.files"))],
    review_dir: Annotated[
        Path | None, typer.Option("--review-dir", help=t("cli.paper.scan.review_dir"))
    ] = None,
    resolved: Annotated[
        Path | None, typer.Option("--resolved", help=t("cli.paper.scan.resolved"))
    ] = None,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Read scanned forms; store them once every uncertain box and written field is decided."""
    lang = lang or current_language()
    try:
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise InvalidInput(
                [Problem(Location(file=str(f)), "paper.cli.no_file") for f in missing]
            )
        with tenant_store(database_url, municipality, lang) as store:
            result = scan_forms(store, questionnaire_id, [(f.name, f.read_bytes()) for f in files])
            if result.problems:
                raise InvalidInput(result.problems)
            questionnaire = current_questionnaire(store, questionnaire_id)
            decisions: dict[str, dict[str, object]] = {}
            if resolved is not None:
                rows = _read_review(resolved)
                decisions, problems = decisions_from_rows(result.forms, rows, resolved.name)
                if problems:
                    raise InvalidInput(problems)
            open_reviews = sum(
                1
                for f in result.forms
                for r in f.reviews
                if r.answer_id not in decisions.get(f.code, {})
            )
            if open_reviews:
                if review_dir is None:
                    raise InvalidInput(
                        [
                            Problem(
                                Location(field="--review-dir"),
                                "paper.cli.need_review_dir",
                                {"count": open_reviews},
                            )
                        ]
                    )
                _write_review(review_dir, questionnaire, result.forms, lang)
                typer.echo(
                    t(
                        "cli.paper.scan.to_review",
                        lang,
                        count=open_reviews,
                        forms=format_integer(len(result.forms), lang),
                        path=review_dir / "review.csv",
                    )
                )
                raise typer.Exit(2)
            stored = store_scanned_forms(store, questionnaire_id, result.forms, decisions)
    except InvalidInput as invalid:
        raise fail(invalid.problems, lang) from None
    typer.echo(
        t(
            "cli.paper.scan.stored",
            lang,
            count=format_integer(stored.stored, lang),
            questionnaire=questionnaire_id,
        )
    )
    if stored.refused:
        raise fail(stored.refused, lang)


def _read_review(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InvalidInput([Problem(Location(file=str(path)), "paper.cli.no_file")])
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _write_review(
    directory: Path, questionnaire: Questionnaire, forms: list[ScannedForm], lang: str
) -> None:
    """The review file and one image per open answer (written anew on every run)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(directory), field="--review-dir"),
                    "storage.cli.unwritable",
                    {"path": directory, "reason": error.strerror or str(error)},
                )
            ]
        ) from None
    for form in forms:
        for review in form.reviews:
            (directory / review_image_name(form, review)).write_bytes(review.image)
    with output_file(
        directory / "review.csv", "w", overwrite=True, encoding="utf-8-sig", newline=""
    ) as stream:
        writer = csv.DictWriter(stream, fieldnames=list(REVIEW_COLUMNS), delimiter=";")
        writer.writeheader()
        writer.writerows(review_rows(questionnaire, forms, lang))
