"""Survey findings against independent computations on small hand-made frames.

Each share is recomputed with plain pandas/numpy (and statsmodels' Wilson interval), unweighted
and weighted; the privacy tests check that no published cell rests on fewer than 5
respondents and that a suppressed district cannot be recovered from the town total.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from core import MIN_CELL_SIZE
from scoring import (
    FindingStatus,
    Topic,
    avoided_places,
    dark_figure,
    finding_shares,
    free_texts,
    raking_weights,
    ranked,
    survey_findings,
)
from survey import Questionnaire, load_questionnaire

QUESTIONNAIRE = Path(__file__).parents[2] / "questionnaires" / "sicherheitsbefragung.yaml"


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(QUESTIONNAIRE)


def frame(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` respondents with random answers to the items the findings use."""
    rng = np.random.default_rng(seed)

    def codes(values: list[object], p: list[float] | None = None) -> pd.Series:
        return pd.Series(rng.choice(np.array(values, dtype=object), size=n, p=p), dtype=object)

    out = pd.DataFrame(
        {
            "district": codes(["01", "02", "03", None], [0.4, 0.3, 0.2, 0.1]),
            "sex": codes([1, 2, 3, None], [0.45, 0.45, 0.05, 0.05]),
            "age_group": codes([1, 2, 3, 4, 9]),
            "safe_night": codes([1, 2, 3, 4, 9, None]),
            "safe_day": codes([1, 2, 3, 4, 9]),
            "worry_assault": codes([1, 2, 3, 4, None]),
            "worry_robbery": codes([1, 2, 3, 4, None]),
            "vict_theft": codes([0, 1, None], [0.6, 0.3, 0.1]),
            "vict_burglary": codes([0, 1], [0.8, 0.2]),
            "sat_overall": codes([1, 2, 3, 4, 9]),
            "sat_theft": codes([1, 2, 3, 4, 9]),
            "trust_police": codes([1, 2, 3, 4, 9]),
            "avoid_places": codes([0, 1]),
        }
    )
    victim_theft = out["vict_theft"] == 1
    victim_burglary = out["vict_burglary"] == 1
    out["vict_theft_reported"] = codes([0, 1]).where(victim_theft, None)
    out["vict_burglary_reported"] = codes([0, 1]).where(victim_burglary, None)
    answered = codes([True, False], [0.9, 0.1]).astype(bool)
    for code in range(1, 14):
        out[f"measures__{code}"] = codes([0, 1]).where(answered, None)
    return out


def wilson(share: float, n_eff: float) -> tuple[float, float]:
    low, high = proportion_confint(share * n_eff, n_eff, alpha=0.05, method="wilson")
    return float(low), float(high)


def row(shares: pd.DataFrame, topic: Topic, item: str | None = None, **where: object) -> pd.Series:
    rows = shares[shares["topic"] == str(topic)]
    if item is not None:
        rows = rows[rows["item"] == item]
    group = where.get("group", "all")
    rows = rows[rows["group"] == group]
    category = where.get("category")
    rows = rows[rows["category"].isna()] if category is None else rows[rows["category"] == category]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def expected_share(
    values: pd.Series, top: set[int], substantive: set[int], weights: np.ndarray
) -> tuple[float, float, int]:
    """Weighted share, Kish n_eff and respondent count by plain pandas."""
    valid = values.isin(substantive).to_numpy()
    w = weights[valid]
    y = values[valid].isin(top).to_numpy(dtype=float)
    return float((w * y).sum() / w.sum()), float(w.sum() ** 2 / (w**2).sum()), int(valid.sum())


@pytest.mark.parametrize("weighted", [False, True])
def test_item_shares_match_an_independent_computation(weighted: bool) -> None:
    data = frame(400)
    rng = np.random.default_rng(7)
    weights = rng.uniform(0.4, 2.5, len(data)) if weighted else np.ones(len(data))
    shares = finding_shares(questionnaire(), data, weights=weights if weighted else None)
    checks = [
        (Topic.UNSAFE_NIGHT, "safe_night", {3, 4}, {1, 2, 3, 4}),
        (Topic.UNSAFE_DAY, "safe_day", {3, 4}, {1, 2, 3, 4}),
        (Topic.DISSATISFIED, "sat_theft", {3, 4}, {1, 2, 3, 4}),
        (Topic.DISSATISFIED, "sat_overall", {3, 4}, {1, 2, 3, 4}),
        (Topic.LOW_TRUST, "trust_police", {3, 4}, {1, 2, 3, 4}),
        (Topic.AVOIDANCE, "avoid_places", {1}, {0, 1}),
    ]
    for topic, item, top, substantive in checks:
        share, n_eff, n = expected_share(data[item], top, substantive, weights)
        got = row(shares, topic, item)
        assert got["share"] == pytest.approx(share), item
        assert got["n_eff"] == pytest.approx(n_eff), item
        assert got["n_respondents"] == n, item
        assert (got["ci_low"], got["ci_high"]) == pytest.approx(wilson(share, n_eff)), item
        # The same by district.
        for code in ("01", "02", "03"):
            mask = (data["district"] == code).to_numpy()
            share, n_eff, n = expected_share(data[item][mask], top, substantive, weights[mask])
            got = row(shares, topic, item, group="district", category=code)
            assert got["share"] == pytest.approx(share), (item, code)
            assert got["n_respondents"] == n


@pytest.mark.parametrize("weighted", [False, True])
def test_field_indicators_count_any_item_of_the_field(weighted: bool) -> None:
    data = frame(300, seed=3)
    weights = np.random.default_rng(5).uniform(0.5, 2.0, len(data)) if weighted else None
    w = np.ones(len(data)) if weights is None else weights
    shares = finding_shares(questionnaire(), data, weights=weights)

    def any_share(columns: list[str], top: set[object], substantive: set[object]) -> float:
        block = data[columns]
        is_top = block.isin(top).any(axis=1)
        known = block.isin(substantive).any(axis=1)
        y = is_top[known].to_numpy(dtype=float)
        return float((w[known.to_numpy()] * y).sum() / w[known.to_numpy()].sum())

    worry = any_share(["worry_assault", "worry_robbery"], {3, 4}, {1, 2, 3, 4})
    assert row(shares, Topic.WORRY, field="gewalt")["share"] == pytest.approx(worry)
    victims = any_share(["vict_theft", "vict_burglary"], {1}, {0, 1})
    got = shares[(shares["topic"] == "victimisation") & (shares["group"] == "all")]
    assert got.set_index("field").loc["diebstahl", "share"] == pytest.approx(victims)
    reported = any_share(["vict_theft_reported", "vict_burglary_reported"], {1}, {0, 1})
    got = shares[(shares["topic"] == "reported") & (shares["group"] == "all")]
    assert got.set_index("field").loc["diebstahl", "share"] == pytest.approx(reported)


def test_measures_are_ranked_by_the_share_choosing_them() -> None:
    data = frame(200, seed=11)
    shares = finding_shares(questionnaire(), data)
    measures = ranked(shares, Topic.MEASURE)
    answered = data["measures__1"].notna()
    expected = {
        f"measures__{c}": float((data.loc[answered, f"measures__{c}"] == 1).mean())
        for c in range(1, 14)
    }
    assert dict(zip(measures["item"], measures["share"], strict=True)) == pytest.approx(expected)
    assert list(measures["share"]) == sorted(measures["share"], reverse=True)
    assert measures["rank"].iloc[0] == 1


def test_dark_figure_against_a_hand_computation() -> None:
    shares = pd.DataFrame(
        {
            "topic": ["victimisation", "reported"],
            "field": ["diebstahl", "diebstahl"],
            "group": ["all", "all"],
            "share": [0.2, 0.6],
            "ci_low": [0.15, 0.45],
            "ci_high": [0.26, 0.73],
            "n_respondents": pd.array([400, 80], dtype="Int64"),
        }
    )
    police = pd.DataFrame({"field": ["diebstahl"], "cases": [500], "population": [10_000]})
    result = dark_figure(shares, police).iloc[0]
    assert result["status"] == "ok"
    assert result["estimated_victims"] == pytest.approx(2000)
    assert result["ratio"] == pytest.approx(4.0)
    c_low = stats.chi2.ppf(0.025, 2 * 500) / 2
    c_high = stats.chi2.ppf(0.975, 2 * 501) / 2
    assert result["ratio_ci_low"] == pytest.approx(0.15 * 10_000 / c_high)
    assert result["ratio_ci_high"] == pytest.approx(0.26 * 10_000 / c_low)
    assert result["unreported_share"] == pytest.approx(0.4)
    assert (result["unreported_ci_low"], result["unreported_ci_high"]) == pytest.approx(
        (0.27, 0.55)
    )
    assert "crime_scene" in result["caveats"]


@pytest.mark.parametrize(
    ("police", "n", "status"),
    [
        (None, 400, "no_police_data"),
        (
            pd.DataFrame({"field": ["diebstahl"], "cases": [0], "population": [9000]}),
            400,
            "no_cases",
        ),
        (
            pd.DataFrame({"field": ["diebstahl"], "cases": [50], "population": [9000]}),
            20,
            "too_few_victims",
        ),
    ],
)
def test_dark_figure_says_when_the_inputs_cannot_carry_it(
    police: pd.DataFrame | None, n: int, status: str
) -> None:
    shares = pd.DataFrame(
        {
            "topic": ["victimisation"],
            "field": ["diebstahl"],
            "group": ["all"],
            "share": [0.2],
            "ci_low": [0.1],
            "ci_high": [0.3],
            "n_respondents": pd.array([n], dtype="Int64"),
        }
    )
    result = dark_figure(shares, police).iloc[0]
    assert result["status"] == status
    assert np.isnan(result["ratio"])


def test_no_published_cell_rests_on_fewer_than_five_respondents() -> None:
    shares = finding_shares(questionnaire(), frame(60, seed=2))
    published = shares[shares["share"].notna()]
    assert (published["n_respondents"].astype(int) >= MIN_CELL_SIZE).all()
    assert (published["n_answered"].astype(int) >= MIN_CELL_SIZE).all()
    hidden = shares[shares["status"] == FindingStatus.SUPPRESSED]
    assert len(hidden)
    assert hidden[["share", "ci_low", "ci_high", "n_eff"]].isna().all().all()
    # A count of 1 to 4 is never published either.
    for column in ("n_respondents", "n_answered"):
        counts = shares[column].dropna().astype(int)
        assert not counts.between(1, MIN_CELL_SIZE - 1).any()


def test_a_suppressed_district_cannot_be_recovered_from_the_town_total() -> None:
    # 20 in Nord, 7 in Süd, 3 in Ost: Ost is hidden, and so is Süd, the next smallest.
    data = pd.DataFrame(
        {
            "district": ["01"] * 20 + ["02"] * 7 + ["03"] * 3,
            "safe_night": [1, 3] * 10 + [4, 4, 1, 2, 3, 1, 1] + [4, 4, 4],
        }
    )
    shares = finding_shares(questionnaire(), data)
    districts = shares[(shares["item"] == "safe_night") & (shares["group"] == "district")]
    status = dict(zip(districts["category"], districts["status"], strict=True))
    assert status["03"] == FindingStatus.SUPPRESSED
    assert status["02"] == FindingStatus.SUPPRESSED
    assert status["01"] != FindingStatus.SUPPRESSED
    # What the shown figures give away: the hidden parts together (10 respondents, 6
    # unsafe), never one district alone.
    town = row(shares, Topic.UNSAFE_NIGHT, "safe_night")
    north = row(shares, Topic.UNSAFE_NIGHT, "safe_night", group="district", category="01")
    rest = town["share"] * town["n_respondents"] - north["share"] * north["n_respondents"]
    assert rest == pytest.approx(6)


def test_unknown_district_respondents_count_as_a_hidden_part() -> None:
    # Two respondents without a district: showing both districts would reveal their answers.
    data = pd.DataFrame(
        {
            "district": ["01"] * 10 + ["02"] * 10 + [None, None],
            "safe_night": [1, 3] * 10 + [4, 4],
        }
    )
    shares = finding_shares(questionnaire(), data)
    districts = shares[(shares["item"] == "safe_night") & (shares["group"] == "district")]
    assert (districts["status"] == FindingStatus.SUPPRESSED).sum() >= 1


def test_six_responses_are_not_analysable_and_publish_no_small_cell() -> None:
    data = frame(6, seed=4)
    findings = survey_findings(questionnaire(), data)
    assert findings.n_responses == 6
    assert not findings.analysable
    published = findings.shares[findings.shares["share"].notna()]
    assert (published["n_respondents"].astype(int) >= MIN_CELL_SIZE).all()
    # With 6 respondents every district has fewer than 5: nothing by district is shown.
    by_district = findings.shares[findings.shares["group"] == "district"]
    assert by_district["share"].isna().all()
    assert (published["status"] == FindingStatus.IMPRECISE).all()


def test_all_dont_know_gives_no_substantive_answers_never_zero_percent() -> None:
    data = pd.DataFrame({"district": ["01"] * 8, "safe_night": [9] * 8, "sat_overall": [9] * 8})
    shares = finding_shares(questionnaire(), data)
    for topic, item in ((Topic.UNSAFE_NIGHT, "safe_night"), (Topic.DISSATISFIED, "sat_overall")):
        got = row(shares, topic, item)
        assert got["status"] == FindingStatus.NO_SUBSTANTIVE
        assert np.isnan(got["share"])
        assert got["n_respondents"] == 0
        assert got["n_answered"] == 8
    # Victims nobody was: the reporting rate has no answers at all, not 0 %.
    data["vict_theft"] = 0
    data["vict_theft_reported"] = None
    again = finding_shares(questionnaire(), data)
    reported = again[(again["topic"] == "reported") & (again["group"] == "all")].iloc[0]
    assert reported["status"] == FindingStatus.NO_ANSWERS
    assert np.isnan(reported["share"])


def test_free_text_is_escaped_and_rare_questions_are_withheld() -> None:
    data = pd.DataFrame(
        {
            "first_action": [
                "<script>alert(1)</script>",
                "Mehr Licht",
                "  ",
                None,
                "a & b",
                "x",
                "y",
            ],
            "avoid_places_why": ["nur eine", None, None, None, None, None, None],
        }
    )
    texts, withheld = free_texts(questionnaire(), data)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in set(texts["text"])
    assert "a &amp; b" in set(texts["text"])
    assert len(texts) == 5  # the blank and the missing answer are no answers
    assert withheld == ("avoid_places_why",)


def test_avoided_places_are_ranked_case_and_space_insensitively() -> None:
    answers = [
        "Bahnhof",
        "bahnhof ",
        "Bahnhof, Stadtpark",
        "BAHNHOF.",
        "bahnhof; Markt",
        "Stadtpark",
    ]
    data = pd.DataFrame({"avoid_places_where": [*answers, "<b>Markt</b>", None]})
    places, rare = avoided_places(questionnaire(), data)
    assert list(places["place"]) == ["Bahnhof"]
    assert places["mentions"].tolist() == [5]
    assert places["share"].iloc[0] == pytest.approx(5 / 7)
    assert rare == 3  # Stadtpark (2), Markt (1), <b>Markt</b> (1)


def test_no_population_means_no_weights() -> None:
    data = frame(50)
    assert (
        raking_weights(
            questionnaire(), data, area="1", year=None, population=None, margins_table=None
        )
        is None
    )
