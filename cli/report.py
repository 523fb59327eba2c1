"""``sicherheitsanalyse report``: the Sicherheitsanalyse as PDF, HTML or DOCX, from the database
or, like ``score``, from files (``--responses`` names the responses file; ``--questionnaire``
is then the questionnaire's YAML file).

It runs the same analysis as the manager pages (the questionnaire's municipality, reference
area and latest police year) and writes the report of :mod:`app._report`. Bad input exits 1
with one located line per problem and writes nothing; the file appears only complete (written
beside its final name, then renamed into place; an existing report is replaced).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from sqlalchemy.exc import SQLAlchemyError

from app import (
    REPORT_FORMATS,
    AnalysisChoice,
    AnalysisInputs,
    ReportFormat,
    Workspace,
    inputs_from_files,
    perceived_reference_file,
    render_report_file,
    report_document,
    response_rates,
    run_analysis,
)
from app import perceived_reference_wave as wave_reference
from cli._options import (
    DatabaseOption,
    LangOption,
    MunicipalityOption,
    QuestionnaireIdOption,
    fail,
    output_file,
    tenant_store,
)
from core import InvalidInput, Location, Problem, current_language, format_integer, t
from scoring import PerceivedReference


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report", help=t("cli.report.help"))(report_command)


def _format(report_format: str | None, out: Path) -> ReportFormat:
    """The chosen format, else the one of ``out``'s suffix, else PDF."""
    chosen = (report_format or out.suffix.removeprefix(".") or "pdf").lower()
    if chosen not in REPORT_FORMATS:
        raise InvalidInput(
            [
                Problem(
                    Location(field="--format"),
                    "cli.report.bad_format",
                    {"format": chosen, "formats": ", ".join(REPORT_FORMATS)},
                )
            ]
        )
    return chosen


def _recommendations(path: Path | None) -> dict[str, str]:
    """The manager's texts per action field from a YAML file (``field: text``)."""
    if path is None:
        return {}
    where = Location(file=str(path), field="--recommendations")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        detail = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise InvalidInput(
            [Problem(where, "cli.report.recommendations_unreadable", {"detail": detail})]
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InvalidInput([Problem(where, "cli.report.recommendations_shape")])
    return dict(data)


def _unknown_fields(texts: dict[str, str], fields: list[str], path: Path | None) -> None:
    unknown = sorted(set(texts) - set(fields))
    if unknown:
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(path), field="--recommendations"),
                    "cli.report.recommendations_fields",
                    {"fields": ", ".join(unknown), "known": ", ".join(fields)},
                )
            ]
        )


def _one_perceived_reference(table: Path | None, wave: str | None) -> None:
    if table is not None and wave is not None:
        raise InvalidInput(
            [
                Problem(
                    Location(field="--perceived-reference"), "cli.report.two_perceived_references"
                )
            ]
        )
    if table is not None and not table.is_file():
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(table), field="--perceived-reference"), "scoring.file_missing"
                )
            ]
        )


def _reference_file(path: Path | None, inputs: AnalysisInputs) -> PerceivedReference | None:
    return perceived_reference_file(path, str(path), inputs.catalogue) if path else None


def report_command(
    questionnaire_id: QuestionnaireIdOption,
    out: Annotated[Path, typer.Option("--out", help=t("cli.report.out"))],
    report_format: Annotated[
        str | None,
        typer.Option("--format", help=t("cli.report.format", formats=", ".join(REPORT_FORMATS))),
    ] = None,
    recommendations: Annotated[
        Path | None, typer.Option("--recommendations", help=t("cli.report.recommendations"))
    ] = None,
    publisher: Annotated[
        str | None, typer.Option("--publisher", help=t("cli.report.publisher"))
    ] = None,
    responses: Annotated[
        Path | None, typer.Option("--responses", help=t("cli.report.responses"))
    ] = None,
    incidents: Annotated[
        Path | None, typer.Option("--incidents", help=t("cli.report.incidents"))
    ] = None,
    population: Annotated[
        Path | None, typer.Option("--population", help=t("cli.report.population"))
    ] = None,
    area: Annotated[str | None, typer.Option("--area", help=t("cli.score.area"))] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help=t("cli.score.reference"))
    ] = None,
    perceived_reference: Annotated[
        Path | None,
        typer.Option("--perceived-reference", help=t("cli.score.perceived_reference")),
    ] = None,
    perceived_reference_wave: Annotated[
        str | None,
        typer.Option("--perceived-reference-wave", help=t("cli.report.perceived_reference_wave")),
    ] = None,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Write the Sicherheitsanalyse report of a questionnaire (PDF, HTML or DOCX)."""
    lang = lang or current_language()
    try:
        chosen = _format(report_format, out)
        texts = _recommendations(recommendations)
        _one_perceived_reference(perceived_reference, perceived_reference_wave)
        rates = None
        if responses is not None:
            # From files, as `score` reads them: no database, no code batches.
            if perceived_reference_wave is not None:
                raise InvalidInput(
                    [
                        Problem(
                            Location(field="--perceived-reference-wave"),
                            "cli.report.wave_needs_database",
                        )
                    ]
                )
            inputs: AnalysisInputs = inputs_from_files(
                Path(questionnaire_id), responses, incidents=incidents, population=population
            )
            _unknown_fields(texts, inputs.catalogue.ids(), recommendations)
            compared_with = _reference_file(perceived_reference, inputs)
            analysis = run_analysis(
                inputs,
                AnalysisChoice(area=area, reference=reference, perceived_reference=compared_with),
            )
        else:
            with tenant_store(database_url, municipality, lang) as store:
                workspace = Workspace(store)
                _unknown_fields(texts, workspace.catalogue.ids(), recommendations)
                inputs = workspace.inputs(questionnaire_id)
                compared_with = _reference_file(perceived_reference, inputs)
                if perceived_reference_wave is not None:
                    compared_with = wave_reference(
                        store, workspace.datasets, perceived_reference_wave, workspace.catalogue
                    )
                analysis = workspace.analyse(inputs, perceived_reference=compared_with)
                rates = response_rates(store, questionnaire_id)
        document = report_document(
            analysis,
            inputs,
            inputs.catalogue,
            lang,
            recommendations=texts,
            publisher=publisher,
            rates=rates,
        )
        data = render_report_file(document, chosen)
        with output_file(out, "wb", overwrite=True, private=False) as stream:
            stream.write(data)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    except SQLAlchemyError as error:
        detail = str(error).strip().splitlines()[0]
        problem = Problem(
            Location(field="--database-url"), "cli.report.database", {"detail": detail}
        )
        raise fail([problem], lang) from None
    typer.echo(
        t(
            "cli.report.written",
            lang,
            path=out,
            format=chosen.upper(),
            size=format_integer(len(data) / 1024, lang),
        )
    )
