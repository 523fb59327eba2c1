"""The analysis side: pure functions over pandas, NumPy, SciPy and statsmodels.

No Streamlit and no database here; ``scoring`` may import ``survey``'s model types, never the
reverse.
"""

from scoring._incidents import breakdown_counts, field_counts
from scoring._rates import funnel_limits, incident_indicators, trend

__all__ = [
    "breakdown_counts",
    "field_counts",
    "funnel_limits",
    "incident_indicators",
    "trend",
]
