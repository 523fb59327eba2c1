"""Charts and the HTML report: presentation of an analysis, shared by views and exports.

It draws what :mod:`scoring` computed and computes no statistics itself.
"""

from __future__ import annotations

from reporting._charts import (
    district_heatmap,
    field_label,
    funnel_chart,
    quadrant_chart,
    rank_chart,
    trend_chart,
)
from reporting._exports import (
    XLSX_MAX_TEXT,
    codebook_csv,
    codebook_xlsx,
    frame_csv,
    frames_xlsx,
    ranking_csv,
    ranking_table,
    ranking_xlsx,
    read_xlsx_sheets,
    responses_csv,
    responses_sav,
    responses_xlsx,
    write_responses_sav,
)
from reporting._letters import (
    CODE_COLUMNS,
    CODE_FRAGMENT,
    LetterKit,
    codes_csv,
    codes_table,
    letter_link,
    letters_docx,
    letters_pdf,
)
from reporting._report import ReportInput, render_report

__all__ = [
    "CODE_COLUMNS",
    "CODE_FRAGMENT",
    "XLSX_MAX_TEXT",
    "LetterKit",
    "ReportInput",
    "codebook_csv",
    "codebook_xlsx",
    "codes_csv",
    "codes_table",
    "district_heatmap",
    "field_label",
    "frame_csv",
    "frames_xlsx",
    "funnel_chart",
    "letter_link",
    "letters_docx",
    "letters_pdf",
    "quadrant_chart",
    "rank_chart",
    "ranking_csv",
    "ranking_table",
    "ranking_xlsx",
    "read_xlsx_sheets",
    "render_report",
    "responses_csv",
    "responses_sav",
    "responses_xlsx",
    "trend_chart",
    "write_responses_sav",
]
