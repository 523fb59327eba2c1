"""The one privacy rule: small cells and complementary suppression, attacked by differences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core import MIN_CELL_SIZE, complementary_suppression


def feasible_cells(n_sum: float, y_sum: float, size: int) -> set[tuple[int, int]]:
    """Every (respondents, positives) one hidden cell can have, given only what the published
    table reveals: the hidden cells' total respondents and positives (total minus shown parts),
    how many cells are hidden, and that each hidden cell has at least one respondent."""
    cells = set()
    for n_i in range(1, int(n_sum) + 1):
        for y_i in range(0, n_i + 1):
            rest_n, rest_y = n_sum - n_i, y_sum - y_i
            if size == 1:
                ok = rest_n == 0 and rest_y == 0
            else:
                ok = rest_n >= size - 1 and 0 <= rest_y <= rest_n
            if ok:
                cells.add((n_i, y_i))
    return cells


parts = st.lists(st.integers(0, 12), min_size=1, max_size=8).flatmap(
    lambda counts: st.tuples(st.just(counts), st.tuples(*(st.integers(0, c) for c in counts)))
)


@settings(max_examples=400, deadline=None)
@given(parts)
def test_no_hidden_part_can_be_recovered_from_the_total(
    table: tuple[list[int], tuple[int, ...]],
) -> None:
    counts, positives = np.array(table[0]), np.array(table[1])
    hidden, hide_total = complementary_suppression(counts, positives)
    small = (counts > 0) & (counts < MIN_CELL_SIZE)
    assert (hidden | ~small).all(), "every small part is hidden"
    assert not (hidden & (counts == 0)).any(), "empty parts are shown, not hidden"
    if hide_total or not hidden.any():
        return
    n_sum, y_sum = counts[hidden].sum(), positives[hidden].sum()
    options = feasible_cells(n_sum, y_sum, int(hidden.sum()))
    assert len({n for n, _ in options}) >= 2, "a hidden part's respondents are not unique"
    assert len({y for _, y in options}) >= 2, "a hidden part's answers are not unique"


def test_the_reported_case_is_protected() -> None:
    """Town total minus five shown districts recovered a district of 3 answers, 2 of them top-2."""
    counts = np.array([3, 40, 55, 61, 38, 47])
    positives = np.array([2, 10, 20, 15, 9, 11])
    hidden, hide_total = complementary_suppression(counts, positives)
    assert not hide_total
    assert hidden.tolist() == [True, False, False, False, True, False]


def test_parts_that_cannot_protect_each_other_hide_the_total() -> None:
    hidden, hide_total = complementary_suppression([3, 0, 0])
    assert hidden.tolist() == [True, False, False]
    assert hide_total


def test_nothing_small_hides_nothing() -> None:
    hidden, hide_total = complementary_suppression([0, 5, 9])
    assert not hidden.any()
    assert not hide_total
