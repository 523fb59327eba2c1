"""The workspace's display tables apply the one privacy rule (:func:`core.is_small`,
:func:`scoring.suppress_ranking`) where they had variants of their own. Decided per place: in
the ranking a field without any survey row reads 0 (nothing to hide, as in the export; the old
variant said "< 5"); the sample table keeps reading "< 5" for an empty cell."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from app import AnalysisInputs, ranking_view, sample_vs_population
from app._workspace import heatmap_indicators
from core import t
from scoring import Analysis, analyse
from tests.scoring._scoring_data import (
    LAND,
    MUNICIPALITY,
    small_catalogue,
    small_incidents,
    small_population,
    small_questionnaire,
    small_responses,
)

HIDDEN = t("report.suppressed_cell", "de")


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    rng = np.random.default_rng(3)
    return analyse(
        small_questionnaire(),
        small_responses(600, rng),
        catalogue=small_catalogue(),
        incidents=small_incidents(rng),
        population=small_population(),
        area=MUNICIPALITY,
        reference=LAND,
        draws=200,
        rng=np.random.default_rng(4),
    )


def test_ranking_view_hides_respondents_exactly_where_the_share_is_hidden(
    analysis: Analysis,
) -> None:
    ranking = analysis.ranking.copy()
    rows = ranking.index[ranking["area"] == MUNICIPALITY][:4]
    # 3 respondents: small. 0 without a survey row: nothing to hide. 0 that scoring
    # withheld: hidden like its share. 12: shown.
    ranking.loc[rows, "n_respondents"] = pd.array([3, 0, 0, 12], dtype="Int64")
    ranking.loc[rows, "suppressed"] = [False, False, True, False]
    changed = dataclasses.replace(analysis, ranking=ranking)
    view = ranking_view(changed, MUNICIPALITY, small_catalogue(), "de")
    respondents = list(view[t("manager.col.respondents", "de")][:4])
    shares = list(view[t("manager.col.share", "de")][:4])
    assert respondents == [HIDDEN, "0", HIDDEN, "12"]
    assert shares[0] == HIDDEN
    assert shares[2] == HIDDEN
    assert shares[3] != HIDDEN


def test_heatmap_cells_keep_scoring_flags_and_add_small_ones(analysis: Analysis) -> None:
    table = analysis.survey_indicators.copy()
    districts = table.index[(table["area"] != MUNICIPALITY) & (table["measure"] == "problem")]
    table.loc[districts[0], "n_respondents"] = 2
    table.loc[districts[0], "suppressed"] = False
    changed = dataclasses.replace(analysis, survey_indicators=table)
    heat = heatmap_indicators(changed)
    assert heat["suppressed"].dtype == bool
    row = heat[
        (heat["area"] == table.loc[districts[0], "area"])
        & (heat["field"] == table.loc[districts[0], "field"])
    ]
    assert row["suppressed"].all()
    assert row["share_problem"].isna().all()


def _inputs(responses: pd.DataFrame) -> AnalysisInputs:
    population = small_population()
    return AnalysisInputs(
        questionnaire=small_questionnaire(),
        responses=responses,
        incidents=None,
        population=population[population["sex"].isna()],
        margins=population[population["sex"].notna()],
        catalogue=small_catalogue(),
    )


def test_sample_vs_population_hides_1_to_4_and_an_empty_cell_alike() -> None:
    cells = {(1, 1): 0, (1, 2): 3, (1, 3): 10, (2, 1): 10, (2, 2): 10, (2, 3): 10}
    rows = [(s, a) for (s, a), n in cells.items() for _ in range(n)]
    responses = pd.DataFrame(rows, columns=["sex", "age_group"])
    table = sample_vs_population(_inputs(responses), "de")
    assert table is not None
    sample = list(table[t("manager.col.sample", "de")])
    shares = list(table[t("manager.col.sample_share", "de")])
    # Rows in (sex, age group) order. Unlike the ranking (where 0 reads 0), this table keeps
    # showing only numbers of at least 5: the empty cell reads "< 5" like the cell of 3.
    assert sample == [HIDDEN, HIDDEN, "10", "10", "10", "10"]
    assert shares[:2] == [HIDDEN, HIDDEN]
    assert HIDDEN not in shares[2:]
