"""``sicherheitsanalyse score``: the ranked priority list per action field as a CSV file.

It reads the questionnaire, the responses (CSV or XLSX in the codebook layout), the incident
counts (tidy or BKA layout) and optionally a population table (:func:`app.inputs_from_files`,
the same inputs the pages build from storage), calls :func:`scoring.analyse` and
writes one row per area × field. Rates are per 100,000 inhabitants, shares are fractions.
Bad input exits 1 with one line per problem; the output file is written only when
everything succeeded (next to its final name, then renamed into place).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from app import AnalysisChoice, inputs_from_files, perceived_reference_file, run_analysis
from cli._options import LangOption, fail, problem_line
from core import InvalidInput, Location, Problem, current_language, neutralise_formula, t
from scoring import DEFAULT_WEIGHTS, RANKING_COLUMNS, suppress_ranking


def register(app: typer.Typer) -> None:
    """Add the ``score`` command to ``app``."""
    app.command("score", help=t("cli.score.help"))(score)


def _missing_file(path: Path, option: str) -> Problem | None:
    if path.is_file():
        return None
    return Problem(Location(file=str(path), field=option), "scoring.file_missing")


def _write_atomically(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` as CSV to ``out`` via a temporary file in the same folder."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column].dtype):
            safe[column] = safe[column].map(
                lambda v: neutralise_formula(v) if isinstance(v, str) else v
            )
    directory = out.parent if str(out.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    except OSError as error:
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(out)), "scoring.output_unwritable", {"detail": error.strerror}
                )
            ]
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            safe.to_csv(stream, index=False, lineterminator="\n")
        os.replace(temporary, out)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InvalidInput(
            [
                Problem(
                    Location(file=str(out)), "scoring.output_unwritable", {"detail": error.strerror}
                )
            ]
        ) from None


def score(
    questionnaire: Annotated[
        Path, typer.Option("--questionnaire", help=t("cli.score.questionnaire"))
    ],
    responses: Annotated[Path, typer.Option("--responses", help=t("cli.score.responses"))],
    out: Annotated[Path, typer.Option("--out", help=t("cli.score.out"))],
    incidents: Annotated[
        Path | None,
        typer.Option("--incidents", help=t("cli.score.incidents")),
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option("--population", help=t("cli.score.population")),
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help=t("cli.score.reference"))
    ] = None,
    area: Annotated[str | None, typer.Option("--area", help=t("cli.score.area"))] = None,
    year: Annotated[int | None, typer.Option("--year", help=t("cli.score.year"))] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=t("cli.score.seed"))] = None,
    draws: Annotated[int, typer.Option("--draws", help=t("cli.score.draws"))] = 2000,
    weight_perceived: Annotated[
        float, typer.Option("--weight-perceived", help=t("cli.score.weight_perceived"))
    ] = DEFAULT_WEIGHTS["perceived"],
    weight_registered: Annotated[
        float, typer.Option("--weight-registered", help=t("cli.score.weight_registered"))
    ] = DEFAULT_WEIGHTS["registered"],
    action_fields: Annotated[
        Path | None, typer.Option("--action-fields", help=t("cli.score.action_fields"))
    ] = None,
    perceived_reference: Annotated[
        Path | None,
        typer.Option("--perceived-reference", help=t("cli.score.perceived_reference")),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Rank the action fields: survey and police data, with uncertainty and reasons."""
    language = lang or current_language()
    try:
        missing = [
            p
            for p in (
                _missing_file(questionnaire, "--questionnaire"),
                _missing_file(responses, "--responses"),
                _missing_file(incidents, "--incidents") if incidents else None,
                _missing_file(population, "--population") if population else None,
                _missing_file(action_fields, "--action-fields") if action_fields else None,
                _missing_file(perceived_reference, "--perceived-reference")
                if perceived_reference
                else None,
            )
            if p is not None
        ]
        if missing:
            raise InvalidInput(missing)
        inputs = inputs_from_files(
            questionnaire,
            responses,
            incidents=incidents,
            population=population,
            action_fields=action_fields,
            year=year,
        )
        compared_with = (
            perceived_reference_file(
                perceived_reference, str(perceived_reference), inputs.catalogue
            )
            if perceived_reference is not None
            else None
        )
        choice = AnalysisChoice(
            area=area,
            reference=reference,
            year=year,
            weights={"perceived": weight_perceived, "registered": weight_registered},
            draws=draws,
            seed=seed,
            perceived_reference=compared_with,
        )
        analysis = run_analysis(inputs, choice)
        # Published: survey cells of < 5 respondents blank, their count too (as the exports).
        ranking = suppress_ranking(analysis.ranking[list(RANKING_COLUMNS)], blank_counts=True)
        _write_atomically(ranking, out)
    except InvalidInput as error:
        raise fail(error.problems, language) from None
    # The same located warnings the priorities page shows, one line each.
    for warning in analysis.warnings:
        typer.echo(problem_line(warning, language), err=True)
    typer.echo(t("scoring.cli.written", language, rows=len(ranking), path=out))
