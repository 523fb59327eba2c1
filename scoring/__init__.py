"""The analysis side: pure functions over pandas, NumPy, SciPy and statsmodels.

No Streamlit and no database here; ``scoring`` may import ``survey``'s model types, never the
reverse.
"""

from scoring._analysis import RANKING_COLUMNS, Analysis, analyse, match_district_areas, rerank
from scoring._incidents import breakdown_counts, field_counts
from scoring._intervals import wilson_interval
from scoring._priority import DEFAULT_WEIGHTS, Quadrant
from scoring._rates import funnel_limits, incident_indicators, trend
from scoring._survey import MIN_CELL, Measure, survey_indicators
from scoring._weights import Margin, kish_effective_n, rake, trim_and_rake

__all__ = [
    "DEFAULT_WEIGHTS",
    "MIN_CELL",
    "RANKING_COLUMNS",
    "Analysis",
    "Margin",
    "Measure",
    "Quadrant",
    "analyse",
    "breakdown_counts",
    "field_counts",
    "funnel_limits",
    "incident_indicators",
    "kish_effective_n",
    "match_district_areas",
    "rake",
    "rerank",
    "survey_indicators",
    "trend",
    "trim_and_rake",
    "wilson_interval",
]
