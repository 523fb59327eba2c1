"""The ranking's column schema: which columns a ranking row has, in published order.

:func:`scoring.analyse` computes these columns (and more); exports, the report and the pages
publish them in this order. Headers are ``exports.ranking.<column>`` in the catalogue.
"""

from __future__ import annotations

import pandas as pd

from core import suppress_small_cells

#: The police-data figures of a ranking row, in order (``scoring.analyse`` computes them and
#: adds more; these are the ones published).
INCIDENT_RATE_COLUMNS: tuple[str, ...] = (
    "cases",
    "population",
    "rate_per_100k",
    "rate_ci_low",
    "rate_ci_high",
    "reference_rate",
    "expected",
    "sir",
    "sir_ci_low",
    "sir_ci_high",
    "sir_p",
    "eb_rate",
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
    *INCIDENT_RATE_COLUMNS,
    *SURVEY_SHARE_COLUMNS,
    "rank_shift",
)
INCIDENT_COLUMNS: tuple[str, ...] = (*INCIDENT_RATE_COLUMNS, "funnel_z")

#: Every column of :attr:`scoring.Analysis.ranking`, in order.
RANKING_COLUMNS: tuple[str, ...] = (
    *RANKING_PLACE_COLUMNS,
    "rank_median",
    "priority",
    "quadrant",
    *INCIDENT_COLUMNS,
    *SURVEY_SHARE_COLUMNS,
    "perceived_score",
    "registered_score",
    "felt_high",
    "registered_high",
    "rank_shift",
    "reason",
    "reason_en",
)

#: Ranking columns computed from survey answers: blanked where respondents < MIN_CELL_SIZE.
SURVEY_FIGURE_COLUMNS: tuple[str, ...] = (
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_eff",
)
RESPONDENTS_COLUMN = "n_respondents"


def suppress_ranking(ranking: pd.DataFrame, *, blank_counts: bool = False) -> pd.DataFrame:
    """The ranking with every survey figure of a row of fewer than five respondents blanked
    (the one privacy rule, :func:`core.suppress_small_cells`, on the ranking's columns)."""
    return suppress_small_cells(
        ranking, SURVEY_FIGURE_COLUMNS, RESPONDENTS_COLUMN, blank_counts=blank_counts
    )
