from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import Margin, kish_effective_n, rake, trim_and_rake


def _sample(rng: np.random.Generator, n: int = 5000) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sex": rng.choice([1, 2], size=n, p=[0.65, 0.35]),
            "age_group": rng.choice([1, 2, 3], size=n, p=[0.1, 0.4, 0.5]),
            "district": rng.choice(["01", "02", "03"], size=n, p=[0.6, 0.3, 0.1]),
        }
    )


MARGINS = [
    Margin(
        ("sex", "age_group"),
        {(1, 1): 100.0, (1, 2): 250.0, (1, 3): 170.0, (2, 1): 110.0, (2, 2): 240.0, (2, 3): 130.0},
    ),
    Margin(("district",), {"01": 300.0, "02": 300.0, "03": 400.0}),
]


def _weighted_shares(frame: pd.DataFrame, weights: np.ndarray, columns: list[str]) -> pd.Series:
    frame = frame.reset_index(drop=True)
    return pd.Series(weights).groupby([frame[c] for c in columns]).sum() / weights.sum()


def test_raked_weights_reproduce_margins(rng: np.random.Generator) -> None:
    frame = _sample(rng)
    result = rake(frame, MARGINS)
    assert result.converged
    joint = _weighted_shares(frame, result.weights, ["sex", "age_group"])
    for (sex, age), total in MARGINS[0].totals.items():  # type: ignore[misc]
        assert joint[(sex, age)] == pytest.approx(total / 1000.0, abs=1e-9)
    district = _weighted_shares(frame, result.weights, ["district"])
    for code, total in MARGINS[1].totals.items():
        assert district[code] == pytest.approx(total / 1000.0, abs=1e-9)
    assert result.weights.mean() == pytest.approx(1.0)


def test_codes_match_as_text(rng: np.random.Generator) -> None:
    frame = _sample(rng)
    as_text = Margin(("district",), {"01": 1.0, "02": 1.0, "03": 2.0})
    frame["district_number"] = frame["district"].astype(int)
    by_number = Margin(("district_number",), {1: 1.0, 2: 1.0, 3: 2.0})
    assert np.allclose(rake(frame, [as_text]).weights, rake(frame, [by_number]).weights)


def test_unknown_category_is_left_out_of_that_margin(rng: np.random.Generator) -> None:
    frame = _sample(rng)
    frame.loc[:9, "sex"] = 3  # "divers": not in the margin
    result = rake(frame, MARGINS)
    known = frame["sex"] != 3
    joint = _weighted_shares(frame[known], result.weights[known.to_numpy()], ["sex", "age_group"])
    assert joint[(1, 2)] == pytest.approx(0.25, abs=1e-9)


def test_empty_margin_category_is_reported(rng: np.random.Generator) -> None:
    frame = _sample(rng)
    margin = Margin(("district",), {"01": 1.0, "02": 1.0, "03": 1.0, "04": 1.0})
    result = rake(frame, [margin])
    assert result.empty_categories == [(("district",), "04")]
    shares = _weighted_shares(frame, result.weights, ["district"])
    assert shares["03"] == pytest.approx(1 / 3, abs=1e-9)


def test_trimming_keeps_margins_and_limits_weights(rng: np.random.Generator) -> None:
    frame = _sample(rng)
    skewed = Margin(("district",), {"01": 100.0, "02": 300.0, "03": 600.0})
    plain = rake(frame, [MARGINS[0], skewed])
    trimmed = trim_and_rake(frame, [MARGINS[0], skewed], bounds=(0.3, 3.0))
    assert plain.weights.max() > trimmed.weights.max()
    district = _weighted_shares(frame, trimmed.weights, ["district"])
    assert district["03"] == pytest.approx(0.6, abs=1e-9)
    assert kish_effective_n(trimmed.weights) >= kish_effective_n(plain.weights)


def test_kish_effective_n() -> None:
    assert kish_effective_n(np.ones(10)) == pytest.approx(10.0)
    assert kish_effective_n(np.array([1.0, 3.0])) == pytest.approx(16.0 / 10.0)


def test_population_margins_match_codes_and_labels() -> None:
    from scoring import district_variable, population_margins
    from tests.scoring._scoring_data import small_questionnaire

    q = small_questionnaire()
    by_id = {v.id: v for v in q.variables()}
    margins_table = pd.DataFrame(
        {
            "area": ["M"] * 4 + ["other"],
            "year": [2024] * 5,
            "sex": ["w", "w", "2", "2", "1"],  # label "w" and code "2"
            "age_group": ["1", "2", "1", "2", "1"],
            "population": [10.0, 20.0, 30.0, 40.0, 99.0],
        }
    )
    totals = pd.DataFrame(
        {"area": ["M-01", "M-02", "M-03"], "year": [2023, 2023, 2023], "population": [1, 2, 3]}
    )
    margins = population_margins(
        area="M",
        year=2024,
        margins_table=margins_table,
        totals_table=totals,
        sex=by_id["sex"],
        age_group=by_id["age_group"],
        district=district_variable(q),
        district_areas={"01": "M-01", "02": "M-02"},
    )
    assert margins[0].columns == ("sex", "age_group")
    assert dict(margins[0].totals) == {(1, 1): 10.0, (1, 2): 20.0, (2, 1): 30.0, (2, 2): 40.0}
    assert margins[1].columns == ("district",)
    assert dict(margins[1].totals) == {"01": 1.0, "02": 2.0}  # latest earlier year: 2023


def test_margins_the_weighting_could_not_reach_are_listed() -> None:
    from scoring._weights import margin_gaps

    # two joint margins that contradict each other cannot both hold
    frame = pd.DataFrame({"sex": ["1", "1", "2", "2"], "age_group": ["1", "1", "2", "2"]})
    margins = [
        Margin(("sex",), {"1": 70.0, "2": 30.0}),
        Margin(("age_group",), {"1": 30.0, "2": 70.0}),
    ]
    result = rake(frame, margins)
    assert not result.converged
    gaps = margin_gaps(frame, result.weights, margins)
    assert {(g.columns, g.category) for g in gaps} >= {(("sex",), "1"), (("sex",), "2")}
    assert all(abs(g.achieved - g.target) > 0.01 for g in gaps)


def test_an_exact_raking_leaves_no_gap() -> None:
    from scoring._weights import margin_gaps

    frame = pd.DataFrame({"sex": ["1"] * 7 + ["2"] * 3})
    margins = [Margin(("sex",), {"1": 50.0, "2": 50.0})]
    assert margin_gaps(frame, rake(frame, margins).weights, margins) == []


def test_gaps_from_the_joint_cells_equal_those_over_the_respondents() -> None:
    """trim_and_rake reports its gaps from the joint-cell table (the analysis uses these);
    they equal margin_gaps over every respondent, the reference computation."""
    from scoring._weights import margin_gaps

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["1", "2", None], size=2000, p=[0.75, 0.2, 0.05]),
            "age_group": rng.choice(["1", "2", "3"], size=2000, p=[0.1, 0.3, 0.6]),
            "district": rng.choice(["01", "02"], size=2000, p=[0.95, 0.05]),
        }
    )
    margins = [
        Margin(("sex", "age_group"), {(s, a): 10.0 for s in "12" for a in "123"}),
        Margin(("district",), {"01": 10.0, "02": 90.0, "03": 5.0}),
    ]
    result = trim_and_rake(frame, margins, bounds=(0.5, 2.0))
    reference = margin_gaps(frame, result.weights, margins)
    assert reference, "the fixture must leave gaps to compare"
    assert [(g.columns, g.category) for g in result.gaps] == [
        (g.columns, g.category) for g in reference
    ]
    for fast, slow in zip(result.gaps, reference, strict=True):
        assert fast.achieved == pytest.approx(slow.achieved, rel=1e-12, abs=1e-15)
        assert fast.target == pytest.approx(slow.target, rel=1e-12)
