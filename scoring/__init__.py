"""The analysis side: pure functions over pandas, NumPy, SciPy and statsmodels.

No Streamlit and no database here; ``scoring`` may import ``survey``'s model types, never the
reverse.
"""

from __future__ import annotations

from scoring._analysis import Analysis, analyse, match_district_areas, rerank
from scoring._findings import (
    DARK_FIGURE_CAVEATS,
    DARK_FIGURE_COLUMNS,
    FREE_TEXT_COLUMNS,
    MIN_EFFECTIVE_N,
    PLACE_COLUMNS,
    SHARE_COLUMNS,
    FindingStatus,
    SurveyFindings,
    Topic,
    avoided_places,
    dark_figure,
    finding_shares,
    free_texts,
    raking_weights,
    ranked,
    survey_findings,
)
from scoring._incidents import breakdown_counts, field_counts
from scoring._intervals import beta_draws, gamma_rate_draws, wilson_interval
from scoring._priority import (
    DEFAULT_WEIGHTS,
    PERCEIVED_THRESHOLD,
    Quadrant,
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
from scoring._rates import funnel_limits, incident_indicators
from scoring._schema import (
    INCIDENT_RATE_COLUMNS,
    PUBLISHED_RANKING_COLUMNS,
    RANKING_COLUMNS,
    RANKING_PLACE_COLUMNS,
    RESPONDENTS_COLUMN,
    SURVEY_FIGURE_COLUMNS,
    SURVEY_SHARE_COLUMNS,
    suppress_ranking,
)
from scoring._survey import (
    MIN_CELL,
    Measure,
    code_positions,
    district_variable,
    night_variable,
    survey_indicators,
)
from scoring._weights import Margin, kish_effective_n, population_margins, rake, trim_and_rake

__all__ = [
    "DARK_FIGURE_CAVEATS",
    "DARK_FIGURE_COLUMNS",
    "DEFAULT_WEIGHTS",
    "FREE_TEXT_COLUMNS",
    "INCIDENT_RATE_COLUMNS",
    "MIN_CELL",
    "MIN_EFFECTIVE_N",
    "PERCEIVED_THRESHOLD",
    "PLACE_COLUMNS",
    "PUBLISHED_RANKING_COLUMNS",
    "RANKING_COLUMNS",
    "RANKING_PLACE_COLUMNS",
    "RESPONDENTS_COLUMN",
    "SHARE_COLUMNS",
    "SURVEY_FIGURE_COLUMNS",
    "SURVEY_SHARE_COLUMNS",
    "Analysis",
    "FindingStatus",
    "Margin",
    "Measure",
    "Quadrant",
    "SurveyFindings",
    "Topic",
    "analyse",
    "avoided_places",
    "beta_draws",
    "breakdown_counts",
    "code_positions",
    "combine",
    "dark_figure",
    "district_variable",
    "field_counts",
    "finding_shares",
    "free_texts",
    "funnel_limits",
    "gamma_rate_draws",
    "incident_indicators",
    "kish_effective_n",
    "match_district_areas",
    "night_variable",
    "normalise_weights",
    "perceived_score",
    "population_margins",
    "quadrants",
    "rake",
    "raking_weights",
    "rank_fields",
    "rank_summary",
    "ranked",
    "registered_score",
    "rerank",
    "suppress_ranking",
    "survey_findings",
    "survey_indicators",
    "trim_and_rake",
    "weight_sensitivity",
    "wilson_interval",
    "with_neutral",
]
