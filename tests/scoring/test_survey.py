from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import code_positions, night_variable, survey_indicators
from tests.scoring._scoring_data import small_questionnaire, small_responses


def _row(table: pd.DataFrame, measure: str, field: str | None, district: str | None) -> pd.Series:
    mask = (table["measure"] == measure) & (
        table["field"].isna() if field is None else table["field"] == field
    )
    mask &= table["district"].isna() if district is None else table["district"] == district
    selected = table[mask]
    assert len(selected) == 1
    return selected.iloc[0]


def test_problem_share_excludes_non_substantive(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    responses = small_responses(2000, rng)
    table = survey_indicators(q, responses)
    answers = responses["prob_gewalt"]
    valid = answers.isin([1, 2, 3, 4])
    expected = answers[valid].isin([3, 4]).mean()
    row = _row(table, "problem", "gewalt", None)
    assert row["share"] == pytest.approx(expected, abs=1e-12)
    assert row["n_respondents"] == valid.sum()
    assert row["ci_low"] < row["share"] < row["ci_high"]
    district = responses["district"] == "02"
    expected_02 = answers[valid & district].isin([3, 4]).mean()
    assert _row(table, "problem", "gewalt", "02")["share"] == pytest.approx(expected_02)


def test_several_items_use_the_mean_of_item_shares(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    responses = small_responses(1000, rng)
    table = survey_indicators(q, responses)
    shares = [
        responses[c][responses[c] != 9].isin([3, 4]).mean()
        for c in ("prob_graffiti", "prob_graffiti_2")
    ]
    row = _row(table, "problem", "graffiti", None)
    assert row["share"] == pytest.approx(np.mean(shares))
    assert row["n_items"] == 2


def test_night_worry_and_victimisation(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    assert night_variable(q) is not None
    responses = small_responses(1000, rng)
    table = survey_indicators(q, responses)
    night = responses["safe_night"]
    expected_night = night[night != 8].isin([3, 4]).mean()
    assert _row(table, "unsafe_night", None, None)["share"] == pytest.approx(expected_night)
    vict = _row(table, "victimisation", "diebstahl", None)
    assert vict["share"] == pytest.approx(responses["vict_diebstahl"].mean())
    assert not np.isnan(_row(table, "worry", "diebstahl", None)["share"])


def test_weights_change_share_and_shrink_effective_n(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    responses = small_responses(1000, rng)
    weights = np.where(responses["sex"] == 1, 0.5, 2.0)
    table = survey_indicators(q, responses, weights=weights)
    answers = responses["prob_drogen"]
    valid = (answers != 9).to_numpy()
    top = answers.isin([3, 4]).to_numpy()
    expected = (weights * top)[valid].sum() / weights[valid].sum()
    row = _row(table, "problem", "drogen", None)
    assert row["share"] == pytest.approx(expected)
    assert row["n_eff"] < row["n_respondents"]
    w = weights[valid]
    assert row["n_eff"] == pytest.approx(w.sum() ** 2 / (w * w).sum())


def test_small_cells_are_suppressed(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    responses = small_responses(300, rng)
    responses.loc[responses["district"] == "03", "district"] = "02"
    responses.loc[:3, "district"] = "03"  # four respondents in district 03
    table = survey_indicators(q, responses)
    row = _row(table, "problem", "gewalt", "03")
    assert bool(row["suppressed"])
    assert np.isnan(row["share"])
    assert np.isnan(row["ci_low"])
    assert not bool(_row(table, "problem", "gewalt", "02")["suppressed"])


def test_codes_stored_as_text_match(rng: np.random.Generator) -> None:
    q = small_questionnaire()
    responses = small_responses(500, rng)
    as_text = responses.astype({"prob_gewalt": "string", "district": "string"})
    left = survey_indicators(q, responses)
    right = survey_indicators(q, as_text)
    pd.testing.assert_frame_equal(left, right)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([1, 2, 9, None, 7, -1], dtype="Int8"),
        pd.Series([1.0, 2.0, 9.0, np.nan, 7.0, -1.0]),
        pd.Series(["1", "2", "9", None, "7", "-1"], dtype="string"),
        pd.Series([1, 2, 9, None, 7, -1], dtype=object),
    ],
)
def test_code_positions_across_storage_types(values: pd.Series) -> None:
    assert code_positions(values, [1, 2, 3, 4, 9]).tolist() == [0, 1, 4, -1, -1, -1]


def test_code_positions_reject_fractions_and_match_text_codes() -> None:
    assert code_positions(pd.Series([2.5, 2.0]), [1, 2]).tolist() == [-1, 1]
    assert code_positions(pd.Series(["01", "02", "x"]), ["01", "02"]).tolist() == [0, 1, -1]
    assert code_positions(pd.Series([1, 2]), ["01", "02"]).tolist() == [0, 1]
