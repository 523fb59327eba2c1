from __future__ import annotations

import numpy as np
import pytest

from scoring import (
    combine,
    normalise_weights,
    perceived_score,
    quadrants,
    rank_fields,
    rank_summary,
    registered_score,
    weight_sensitivity,
    with_neutral,
)


def test_scores_are_on_a_common_scale() -> None:
    assert registered_score(np.array([1.0, 2.0, 0.5])) == pytest.approx([0.5, 2 / 3, 1 / 3])
    share = np.array([[0.2, 0.4, 0.3, np.nan]])
    scores = perceived_score(share, 0.3)
    assert scores[0, 2] == pytest.approx(0.5)
    assert scores[0, 1] > 0.5 > scores[0, 0]
    assert np.isnan(scores[0, 3])


def test_a_fields_score_does_not_depend_on_the_other_fields() -> None:
    """The perceived score compares a share with its own reference, not with other fields."""
    alone = perceived_score(np.array([[0.4]]), 0.25)
    among = perceived_score(np.array([[0.4, 0.9, 0.05, 0.6]]), 0.25)
    assert among[0, 0] == pytest.approx(alone[0, 0])


def test_a_missing_component_is_neutral() -> None:
    assert with_neutral(np.array([0.8, np.nan])).tolist() == [0.8, 0.5]


def test_missing_component_is_left_out_not_zero() -> None:
    weights = normalise_weights(None)
    priority = combine(np.array([0.7, np.nan, np.nan]), np.array([np.nan, 0.6, np.nan]), weights)
    assert priority[0] == pytest.approx(0.7)
    assert priority[1] == pytest.approx(0.6)
    assert np.isnan(priority[2])
    both = combine(
        np.array([0.7]), np.array([0.5]), normalise_weights({"perceived": 3, "registered": 1})
    )
    assert both[0] == pytest.approx(0.75 * 0.7 + 0.25 * 0.5)


def test_bad_weights_are_rejected() -> None:
    for weights in ({"perceived": -1.0}, {"perceived": 0.0, "registered": 0.0}, {"felt": 1.0}):
        with pytest.raises(ValueError, match=r"weights|components"):
            normalise_weights(weights)


def test_ranks_ignore_field_order_and_nan() -> None:
    priority = np.array([[0.2, 0.9, np.nan, 0.5, 0.5]])
    ranks = rank_fields(priority)
    assert ranks[0].tolist()[:2] == [4.0, 1.0]
    assert np.isnan(ranks[0, 2])
    assert ranks[0, 3] == ranks[0, 4] == 2.0
    order = np.array([4, 2, 0, 3, 1])
    assert np.array_equal(rank_fields(priority[:, order]), ranks[:, order], equal_nan=True)


def test_rank_summary_of_certain_draws() -> None:
    draws = np.broadcast_to(np.array([[0.3, 0.8, 0.5]])[..., None], (1, 3, 100))
    summary = rank_summary(draws)
    assert summary.median.tolist() == [[3.0, 1.0, 2.0]]
    assert summary.low.tolist() == summary.high.tolist() == [[3.0, 1.0, 2.0]]


def test_quadrants_have_an_honest_unclear() -> None:
    felt = np.array([["high", "high", "not_high", "not_high", "unclear", None]], dtype=object)
    registered = np.array([["high", "not_high", "high", "not_high", "high", "high"]], dtype=object)
    assert quadrants(felt, registered)[0].tolist() == [
        "both_high",
        "felt_only",
        "registered_only",
        "both_low",
        "unclear",
        None,
    ]


def test_sensitivity_is_zero_when_the_order_cannot_change(rng: np.random.Generator) -> None:
    perceived = np.array([[0.9, 0.5, 0.1]])
    registered = np.array([[0.9, 0.5, 0.1]])
    shift = weight_sensitivity(perceived, registered, normalise_weights(None), rng)
    assert shift.tolist() == [[0.0, 0.0, 0.0]]
    crossing = weight_sensitivity(
        np.array([[0.9, 0.1]]), np.array([[0.1, 0.9]]), normalise_weights(None), rng
    )
    assert np.all(crossing > 0)
