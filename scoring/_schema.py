"""The ranking's column schema: which columns a ranking row has, in published order.

:func:`scoring.analyse` computes these columns (and more); exports, the report and the pages
publish them in this order. Headers are ``exports.ranking.<column>`` in the catalogue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import complementary_suppression, suppress_small_cells

#: The police-data figures of a ranking row, in order (``scoring.analyse`` computes them and
#: adds more; these are the ones published).
INCIDENT_RATE_COLUMNS: tuple[str, ...] = (
    "cases",
    "population",
    "rate_per_100k",
    "rate_ci_low",
    "rate_ci_high",
    "reference_rate",
    "reference_population",
    "expected",
    "sir",
    "sir_ci_low",
    "sir_ci_high",
    "sir_p",
    "excess",
    "excess_low",
    "excess_high",
    "sir_shrunk",
    "sir_shrunk_low",
    "sir_shrunk_high",
    "registered_state",
    "change_ratio",
    "change_low",
    "change_high",
    "change_years",
    "yearly_pct",
    "yearly_low",
    "yearly_high",
)
#: The survey figures of a ranking row, in order: the share, its interval and the respondents.
SURVEY_SHARE_COLUMNS: tuple[str, ...] = (
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_respondents",
    "n_eff",
    "suppressed",
)
#: The first columns of a ranking row: which area, field and year, its rank and rank interval.
RANKING_PLACE_COLUMNS: tuple[str, ...] = (
    "area",
    "district",
    "field",
    "year",
    "rank",
    "rank_low",
    "rank_high",
)
#: Ranking columns in export order; their headers are ``exports.ranking.<column>``.
PUBLISHED_RANKING_COLUMNS: tuple[str, ...] = (
    *RANKING_PLACE_COLUMNS,
    "priority",
    "quadrant",
    "reason",
    "unranked_reason",
    *INCIDENT_RATE_COLUMNS,
    "felt_state",
    *SURVEY_SHARE_COLUMNS,
    "rank_shift",
)
#: Registered figures the analysis keeps besides the published ones (the model behind them).
INCIDENT_COLUMNS: tuple[str, ...] = (
    *INCIDENT_RATE_COLUMNS,
    "registered_low",
    "registered_high_limit",
    "shrinkage_weight",
    "prior_shape",
    "prior_source",
    "phi",
    "phi_p",
    "change_p",
    "change_method",
)

#: Every column of :attr:`scoring.Analysis.ranking`, in order.
RANKING_COLUMNS: tuple[str, ...] = (
    *RANKING_PLACE_COLUMNS,
    "rank_median",
    "priority",
    "quadrant",
    *INCIDENT_COLUMNS,
    *SURVEY_SHARE_COLUMNS,
    "share_reference",
    "felt_state",
    "perceived_score",
    "registered_score",
    "rank_shift",
    "reason",
    "reason_en",
    "unranked_reason",
    "unranked_reason_en",
)

#: Ranking columns computed from survey answers: blanked where respondents < MIN_CELL_SIZE.
SURVEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_eff",
    "felt_state",
)
RESPONDENTS_COLUMN = "n_respondents"


def suppress_ranking(ranking: pd.DataFrame, *, blank_counts: bool = False) -> pd.DataFrame:
    """The ranking with every survey figure of a row of fewer than five respondents blanked
    (the one privacy rule, :func:`core.suppress_small_cells`, on the ranking's columns), and
    with complementary suppression: where a district is hidden, further districts of the same
    field (or the town) are hidden until the town total minus the shown districts recovers
    no hidden district (:func:`core.complementary_suppression`)."""
    return suppress_small_cells(
        ranking,
        SURVEY_FIGURE_COLUMNS,
        RESPONDENTS_COLUMN,
        blank_counts=blank_counts,
        also=complementary_mask(ranking),
    )


def complementary_mask(ranking: pd.DataFrame) -> pd.Series:
    """Rows to hide besides the small ones, per year and field: the districts (parts) against
    the town row (their total)."""
    hidden = pd.Series(False, index=ranking.index)
    needed = {"district", "field", RESPONDENTS_COLUMN}
    if not needed <= set(ranking.columns) or not len(ranking):
        return hidden
    counts = pd.to_numeric(ranking[RESPONDENTS_COLUMN], errors="coerce").fillna(0)
    share = (
        pd.to_numeric(ranking["share_problem"], errors="coerce")
        if "share_problem" in ranking.columns
        else pd.Series(np.nan, index=ranking.index)
    )
    # A district without respondents has no positives (not an unknown number of them).
    positives = (share * counts).round().mask(counts == 0, 0.0)
    keys = [c for c in ("year", "field") if c in ranking.columns]
    for _, group in ranking.groupby(keys, dropna=False, sort=False):
        parts = group.index[group["district"].notna()]
        totals = group.index[group["district"].isna()]
        if not len(parts):
            continue
        part_positives = positives[parts]
        mask, hide_total = complementary_suppression(
            counts[parts].to_numpy(),
            part_positives.to_numpy() if part_positives.notna().all() else None,
        )
        hidden[parts[mask]] = True
        if hide_total:
            hidden[totals] = True
    return hidden
