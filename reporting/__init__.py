"""Charts and the HTML report: presentation of an analysis, shared by views and exports.

It draws what :mod:`scoring` computed and computes no statistics itself.
"""

from reporting.charts import (
    district_heatmap,
    field_label,
    funnel_chart,
    quadrant_chart,
    rank_chart,
    trend_chart,
)
from reporting.report import ReportInput, render_report

__all__ = [
    "ReportInput",
    "district_heatmap",
    "field_label",
    "funnel_chart",
    "quadrant_chart",
    "rank_chart",
    "render_report",
    "trend_chart",
]
