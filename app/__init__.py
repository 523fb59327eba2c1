"""Use cases shared by the pages and the command line, without Streamlit: set-up and
publishing, the demo municipality and synthetic data, the analysis inputs and the view models
of the manager pages.
"""

from __future__ import annotations

from app._demo import DEMO, demo_data, demo_questionnaire_text
from app._installation import (
    DEMO_BASE_QUESTIONNAIRE,
    DEMO_QUESTIONNAIRE_ID,
    DEMO_SOURCE,
    DemoSummary,
    SetupReport,
    csv_bytes,
    demo_questionnaire,
    remove_demo_data,
    reset_demo,
    seed_demo,
    setup_installation,
)
from app._synthetic import (
    SyntheticArea,
    synthetic_incidents,
    synthetic_population,
    synthetic_responses,
)
from app._workspace import (
    AnalysisInputs,
    Workspace,
    area_names,
    free_text_answers,
    funnel_data,
    heatmap_indicators,
    incident_areas,
    incident_years,
    is_demo,
    ranking_view,
    report_filename,
    report_html,
    response_rates,
    reweighted,
    sample_vs_population,
    stratum_rates,
    top_fields,
    trend_data,
)

__all__ = [
    "DEMO",
    "DEMO_BASE_QUESTIONNAIRE",
    "DEMO_QUESTIONNAIRE_ID",
    "DEMO_SOURCE",
    "AnalysisInputs",
    "DemoSummary",
    "SetupReport",
    "SyntheticArea",
    "Workspace",
    "area_names",
    "csv_bytes",
    "demo_data",
    "demo_questionnaire",
    "demo_questionnaire_text",
    "free_text_answers",
    "funnel_data",
    "heatmap_indicators",
    "incident_areas",
    "incident_years",
    "is_demo",
    "ranking_view",
    "remove_demo_data",
    "report_filename",
    "report_html",
    "reset_demo",
    "response_rates",
    "reweighted",
    "sample_vs_population",
    "seed_demo",
    "setup_installation",
    "stratum_rates",
    "synthetic_incidents",
    "synthetic_population",
    "synthetic_responses",
    "top_fields",
    "trend_data",
]
