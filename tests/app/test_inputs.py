"""The one analysis-input builder: what counts as population and margins, reading responses
files, and that files and storage lead to the same analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app import (
    AnalysisChoice,
    AnalysisInputs,
    assemble_inputs,
    read_responses_file,
    run_analysis,
)
from core import ImportResult, InvalidInput
from scoring import analyse
from tests.scoring._scoring_data import (
    LAND,
    MUNICIPALITY,
    small_catalogue,
    small_incidents,
    small_population,
    small_questionnaire,
    small_responses,
)


def _population() -> tuple[pd.DataFrame, pd.DataFrame]:
    table = small_population()
    return table[table["sex"].isna()].drop(columns=["sex", "age_group"]), table[
        table["sex"].notna()
    ]


def test_an_uploaded_population_wins_over_the_derived_one_and_brings_the_margins() -> None:
    totals, margins = _population()
    derived = totals.assign(population=1.0)
    counts = ImportResult(
        small_incidents(np.random.default_rng(1)), "bka", derived_population=derived
    )
    people = ImportResult(totals, "tidy", margins=margins)
    questionnaire, catalogue = small_questionnaire(), small_catalogue()
    responses = pd.DataFrame()

    both = assemble_inputs(questionnaire, responses, catalogue, incidents=counts, population=people)
    assert both.population is not None
    # every area of the upload keeps its uploaded figure (none of the derived 1.0 survives)
    assert (both.population["population"] > 1.0).all()
    assert not both.population["derived"].any()
    assert both.margins is margins
    assert both.incidents is counts.table

    bka_only = assemble_inputs(
        questionnaire, responses, catalogue, incidents=counts, population=None
    )
    assert bka_only.population is derived
    assert bka_only.margins is None

    survey_only = assemble_inputs(
        questionnaire, responses, catalogue, incidents=None, population=None
    )
    assert (survey_only.incidents, survey_only.population, survey_only.margins) == (
        None,
        None,
        None,
    )


def test_run_analysis_is_analyse_on_the_inputs_under_the_choice() -> None:
    rng = np.random.default_rng(2)
    totals, margins = _population()
    inputs = AnalysisInputs(
        questionnaire=small_questionnaire(),
        responses=small_responses(500, rng),
        incidents=small_incidents(rng),
        population=totals,
        margins=margins,
        catalogue=small_catalogue(),
    )
    choice = AnalysisChoice(area=MUNICIPALITY, reference=LAND, draws=200, seed=9)
    direct = analyse(
        inputs.questionnaire,
        inputs.responses,
        catalogue=inputs.catalogue,
        incidents=inputs.incidents,
        population=inputs.population,
        population_margins_table=inputs.margins,
        area=MUNICIPALITY,
        reference=LAND,
        draws=200,
        rng=np.random.default_rng(9),
    )
    pd.testing.assert_frame_equal(run_analysis(inputs, choice).ranking, direct.ranking)


def test_a_responses_file_gives_numbers_text_codes_and_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    path.write_text("district;sex;age_group;safe_night\n01;1;2;3\n02;;1;2,0\n", "utf-8")
    frame = read_responses_file(path, small_questionnaire())
    assert list(frame["district"]) == ["01", "02"]
    assert frame.loc[0, "sex"] == 1
    assert pd.isna(frame.loc[1, "sex"])
    assert list(frame["safe_night"]) == [3.0, 2.0]


def test_a_bad_code_is_reported_at_its_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    # A blank line before the bad row: the line number is the file's, not the frame's.
    path.write_text("district;sex;age_group\n01;1;2\n\n02;sehr;1\n", "utf-8")
    with pytest.raises(InvalidInput) as raised:
        read_responses_file(path, small_questionnaire())
    (problem,) = raised.value.problems
    assert problem.key == "scoring.responses_not_a_code"
    assert (problem.location.row, problem.location.column, problem.location.field) == (4, 2, "sex")
