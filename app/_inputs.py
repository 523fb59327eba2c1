"""The inputs of :func:`scoring.analyse`, built once for the command line and the pages.

Two ways in, one way on: :func:`inputs_from_files` reads the questionnaire, responses,
incident and population files (``sicherheitsanalyse score``); :func:`inputs_from_store` reads
the published questionnaire, its stored responses and the saved datasets (the manager pages).
Both hand what they read to :func:`assemble_inputs`, which decides which population and which
margins count, and :func:`run_analysis` runs :func:`scoring.analyse` on the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
import pandas as pd

from app._installation import DEMO_QUESTIONNAIRE_ID, DEMO_SOURCE
from core import InvalidInput, Location, Problem
from scoring import Analysis, PerceivedReference, analyse
from sources import (
    read_incidents,
    read_perceived_reference,
    read_population,
    read_response_table,
)
from storage import Dataset, DatasetKind, Datasets, Store
from survey import (
    ActionFieldCatalogue,
    Questionnaire,
    load_action_fields,
    load_questionnaire,
    load_questionnaire_text,
)

#: Variable kinds whose stored values are numbers when the scale codes are numbers.
_CODED_KINDS = frozenset({"single", "statement", "multi_option", "yesno", "number"})
#: Reported per responses file at most: enough to see the pattern, not a wall of lines.
_MAX_CODE_PROBLEMS = 20


@dataclass(frozen=True)
class AnalysisInputs:
    """Everything :func:`scoring.analyse` reads, whether from files or from storage.

    ``population`` is the population totals (an uploaded table, else those derived from a BKA
    table), ``margins`` the ``sex``/``age_group`` rows of an uploaded population table.
    """

    questionnaire: Questionnaire
    responses: pd.DataFrame
    incidents: pd.DataFrame | None
    population: pd.DataFrame | None
    margins: pd.DataFrame | None
    catalogue: ActionFieldCatalogue


@dataclass(frozen=True)
class AnalysisChoice:
    """The choices of one analysis: area, reference, year, weights and simulation.

    ``None`` leaves the choice to :func:`scoring.analyse` (the only candidate area, the pooled
    outermost areas, the latest year, equal weights); ``seed`` ``None`` draws a fresh one.
    """

    area: str | None = None
    reference: str | None = None
    year: int | None = None
    weights: Mapping[str, float] | None = None
    draws: int = 2000
    seed: int | None = None
    #: What the perceived shares are compared with (``None``: the 25 % benchmark).
    perceived_reference: PerceivedReference | None = None


class ImportedTable(Protocol):
    """What an imported file (:class:`core.ImportResult`) and a saved dataset
    (:class:`storage.Dataset`) have in common for the analysis."""

    @property
    def table(self) -> pd.DataFrame: ...

    @property
    def derived_population(self) -> pd.DataFrame | None: ...

    @property
    def margins(self) -> pd.DataFrame | None: ...


def merged_population(
    uploaded: pd.DataFrame | None, derived: pd.DataFrame | None
) -> pd.DataFrame | None:
    """One population table: every area × year of the uploaded table, and the populations
    derived from a BKA table (cases × 100,000 / HZ) for the areas and years the upload lacks.

    An uploaded population of the town must not drop the other Kreise a BKA table brings (the
    comparison would then have no reference); where both have an area, the uploaded figure
    wins. ``derived`` says per row where it came from, so the analysis can list it.
    """
    if uploaded is None and derived is None:
        return None
    if uploaded is None:
        return derived
    own = uploaded.assign(derived=False) if "derived" not in uploaded.columns else uploaded
    if derived is None or not len(derived):
        return own
    keys = own[["area", "year"]].astype(str).agg("|".join, axis=1)
    other = derived[~derived[["area", "year"]].astype(str).agg("|".join, axis=1).isin(set(keys))]
    return pd.concat([own, other.assign(derived=True)], ignore_index=True)


def assemble_inputs(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    *,
    incidents: ImportedTable | None,
    population: ImportedTable | None,
) -> AnalysisInputs:
    """The inputs from what was read: populations from an uploaded table and those derived from
    a BKA table, merged (:func:`merged_population`); the margins come from the uploaded table
    only."""
    totals = merged_population(
        population.table if population is not None else None,
        incidents.derived_population if incidents is not None else None,
    )
    return AnalysisInputs(
        questionnaire=questionnaire,
        responses=responses,
        incidents=incidents.table if incidents is not None else None,
        population=totals,
        margins=population.margins if population is not None else None,
        catalogue=catalogue,
    )


def inputs_from_files(
    questionnaire: Path,
    responses: Path,
    *,
    incidents: Path | None = None,
    population: Path | None = None,
    action_fields: Path | None = None,
    year: int | None = None,
) -> AnalysisInputs:
    """The inputs from files: a questionnaire (YAML), responses (CSV or XLSX in the codebook
    layout), incident counts (tidy or BKA layout) and a population table.

    ``year`` picks the year of a BKA table. Raises :class:`core.InvalidInput` with the file's
    problems (the first file that has any).
    """
    catalogue = load_action_fields(action_fields)
    loaded = load_questionnaire(questionnaire, catalogue=catalogue)
    frame = read_responses_file(responses, loaded)
    counts = (
        read_incidents(incidents, filename=str(incidents), year=year)
        if incidents is not None
        else None
    )
    people = read_population(population, filename=str(population)) if population else None
    return assemble_inputs(loaded, frame, catalogue, incidents=counts, population=people)


def inputs_from_store(
    store: Store, datasets: Datasets, questionnaire_id: str, catalogue: ActionFieldCatalogue
) -> AnalysisInputs:
    """The inputs from storage: the questionnaire's current revision, its responses and the
    combined saved datasets.

    The seeded demo questionnaire sees only the demo's datasets, and every other
    questionnaire only the uploaded ones: synthetic counts never enter a real analysis (nor
    its default reference area), and ``demo reset`` never changes a real one.
    """
    source = store.questionnaire_source(questionnaire_id)
    questionnaire = load_questionnaire_text(source, f"{questionnaire_id}.yaml", catalogue=catalogue)
    demo = questionnaire.id == DEMO_QUESTIONNAIRE_ID

    def combined(kind: DatasetKind) -> Dataset | None:
        return datasets.combined(kind, where=lambda s: (s.source == DEMO_SOURCE) == demo)

    return assemble_inputs(
        questionnaire,
        store.responses(questionnaire),
        catalogue,
        incidents=combined(DatasetKind.INCIDENTS),
        population=combined(DatasetKind.POPULATION),
    )


def stored_questionnaire(
    store: Store, questionnaire_id: str, catalogue: ActionFieldCatalogue
) -> Questionnaire:
    """The current revision of a published questionnaire."""
    source = store.questionnaire_source(questionnaire_id)
    return load_questionnaire_text(source, f"{questionnaire_id}.yaml", catalogue=catalogue)


def run_analysis(inputs: AnalysisInputs, choice: AnalysisChoice) -> Analysis:
    """:func:`scoring.analyse` on ``inputs`` under ``choice``; raises
    :class:`core.InvalidInput` as it does."""
    return analyse(
        inputs.questionnaire,
        inputs.responses,
        catalogue=inputs.catalogue,
        incidents=inputs.incidents,
        population=inputs.population,
        population_margins_table=inputs.margins,
        area=choice.area,
        reference=choice.reference,
        year=choice.year,
        weights=choice.weights,
        draws=choice.draws,
        rng=np.random.default_rng(choice.seed),
        perceived_reference=choice.perceived_reference,
    )


def perceived_reference_file(
    source: Path | BinaryIO, filename: str, catalogue: ActionFieldCatalogue
) -> PerceivedReference:
    """A perceived reference from a table ``field;share`` (:func:`sources.read_perceived_reference`;
    the reasons name it by its file name). Raises :class:`core.InvalidInput` with every bad
    row located."""
    table = read_perceived_reference(source, filename=filename, fields=catalogue.ids())
    return PerceivedReference.of(table.shares, "table", Path(filename).name)


#: Draws of the earlier wave's analysis: only its shares are used, not its rank intervals.
_WAVE_DRAWS = 100


def perceived_reference_wave(
    store: Store, datasets: Datasets, questionnaire_id: str, catalogue: ActionFieldCatalogue
) -> PerceivedReference:
    """The perceived reference of an earlier survey wave stored in the database: its
    municipality's share seeing a problem per action field, weighted as the analysis weights
    (the same :func:`scoring.analyse` on that wave's responses and population margins).

    Raises :class:`core.InvalidInput` when the wave has no share to compare with (no
    responses, every cell suppressed).
    """
    inputs = inputs_from_store(store, datasets, questionnaire_id, catalogue)
    questionnaire = inputs.questionnaire
    analysis = analyse(
        questionnaire,
        inputs.responses,
        catalogue=catalogue,
        population=inputs.population,
        population_margins_table=inputs.margins,
        area=questionnaire.meta.area,
        draws=_WAVE_DRAWS,
        rng=np.random.default_rng(0),
    )
    rows = analysis.ranking[analysis.ranking["area"] == analysis.area]
    shares = {
        str(f): float(s)
        for f, s in zip(rows["field"], rows["share_problem"], strict=True)
        if pd.notna(s)
    }
    if not shares:
        raise InvalidInput(
            [
                Problem(
                    Location(field="perceived_reference"),
                    "scoring.perceived_wave_empty",
                    {"questionnaire": questionnaire_id},
                )
            ]
        )
    label = questionnaire.text(questionnaire.meta.title, questionnaire.meta.default_language)
    return PerceivedReference.of(shares, "wave", label)


def read_responses_file(path: Path, questionnaire: Questionnaire) -> pd.DataFrame:
    """Responses in the codebook layout from a CSV or XLSX file.

    The cells are read by :func:`sources.read_response_table`, as the uploads are (encoding,
    separator, workbooks). Empty cells are missing. Columns of numerically coded variables
    become numbers (decimal comma or point); text codes (``"01"``) stay text. A value that is
    not a number in such a column is reported with its line and column.
    """
    table = read_response_table(path, filename=str(path))
    # Object columns with NaN for empty cells: the layout the analysis has always read.
    frame = table.frame.astype(object).where(table.frame != "", np.nan)
    problems: list[Problem] = []
    for variable in questionnaire.variables():
        if variable.id not in frame.columns or variable.kind not in _CODED_KINDS:
            continue
        if not variable.integer and variable.kind != "number":
            continue
        raw = frame[variable.id]
        numbers = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
        bad = raw.notna() & numbers.isna()
        for position in np.flatnonzero(bad.to_numpy())[:_MAX_CODE_PROBLEMS]:
            problems.append(
                Problem(
                    Location(
                        file=str(path),
                        row=table.row_numbers[position],
                        column=list(frame.columns).index(variable.id) + 1,
                        field=variable.id,
                    ),
                    "scoring.responses_not_a_code",
                    {"value": raw.iloc[position]},
                )
            )
        frame[variable.id] = numbers
    if problems:
        raise InvalidInput(problems)
    return frame
