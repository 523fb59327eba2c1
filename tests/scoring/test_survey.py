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


def _reference_share(
    answers: pd.Series, weights: np.ndarray, substantive: list[int], top: list[int]
) -> tuple[float, float, int, int]:
    """Share, Kish n_eff, respondents and answered, summed respondent by respondent."""
    listed = answers.isin([*substantive, 9, 8]).to_numpy()
    valid = answers.isin(substantive).to_numpy()
    high = answers.isin(top).to_numpy()
    total = sum(float(w) for w, v in zip(weights, valid, strict=True) if v)
    upper = sum(float(w) for w, v, h in zip(weights, valid, high, strict=True) if v and h)
    squares = sum(float(w) ** 2 for w, v in zip(weights, valid, strict=True) if v)
    return upper / total, total**2 / squares, int(valid.sum()), int(listed.sum())


@pytest.mark.parametrize("levels", [12, None])
def test_weighted_shares_per_weight_level_equal_the_respondent_sums(
    rng: np.random.Generator, levels: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raking weights take one value per joint cell; survey_indicators counts answers per
    weight level (12 levels) or, with too many levels (None: one per respondent, the limit
    lowered here), sums weights per respondent. Both give the shares, n_eff and counts summed
    respondent by respondent."""
    if levels is None:
        monkeypatch.setattr("scoring._survey.MAX_WEIGHT_BINS", 1000)
    q = small_questionnaire()
    responses = small_responses(3000, rng)
    if levels is None:
        weights = rng.uniform(0.3, 3.0, size=len(responses))
    else:
        weights = rng.uniform(0.3, 3.0, size=levels)[rng.integers(0, levels, len(responses))]
    table = survey_indicators(q, responses, weights=weights)
    for column, measure, field, district in (
        ("prob_gewalt", "problem", "gewalt", None),
        ("prob_drogen", "problem", "drogen", "03"),
        ("safe_night", "unsafe_night", None, "01"),
    ):
        in_district = (
            np.ones(len(responses), dtype=bool)
            if district is None
            else (responses["district"] == district).to_numpy()
        )
        substantive = [1, 2, 3, 4]
        share, n_eff, n, answered = _reference_share(
            responses.loc[in_district, column], weights[in_district], substantive, [3, 4]
        )
        row = _row(table, measure, field, district)
        assert row["share"] == pytest.approx(share, rel=1e-12)
        assert row["n_eff"] == pytest.approx(n_eff, rel=1e-12)
        assert row["n_respondents"] == n
        assert row["n_answered"] == answered


def test_one_byte_codes_take_the_byte_table_with_the_same_positions() -> None:
    """Int8 columns (as storage returns them) are looked up by their byte; the positions equal
    those of the same values as plain integers, floats and text, missing and negative too."""
    values = [1, 2, None, 4, 9, -3, 0, 127, -128, 3]
    codes = [1, 2, 3, 4, 9]
    expected = code_positions(pd.Series(values, dtype="Float64"), codes).tolist()
    assert expected == [0, 1, -1, 3, 4, -1, -1, -1, -1, 2]
    assert code_positions(pd.Series(values, dtype="Int8"), codes).tolist() == expected
    assert code_positions(pd.Series(values, dtype="Int64"), codes).tolist() == expected
    plain = [v for v in values if v is not None]
    assert code_positions(pd.Series(plain, dtype=np.int8), codes).tolist() == [
        e for v, e in zip(values, expected, strict=True) if v is not None
    ]
