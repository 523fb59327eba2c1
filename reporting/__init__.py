"""Charts, exports and the report: presentation of an analysis, shared by views and exports.

The Sicherheitsanalyse report is a :class:`Document` (``_document``) laid out as PDF
(``_pdf``, Typst), DOCX (``_docx``, python-docx) or self-contained HTML (``_html_document``),
with static SVG charts (``_figures``).

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
from reporting._document import (
    Block,
    Bullets,
    Document,
    Figure,
    KeyFindings,
    Paragraph,
    Section,
    Table,
)
from reporting._docx import figure_png, render_docx
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
from reporting._figures import Bar, Point, quadrant_figure, ratio_figure, share_figure
from reporting._html_document import render_html_document
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
from reporting._pdf import render_pdf

__all__ = [
    "CODE_COLUMNS",
    "CODE_FRAGMENT",
    "XLSX_MAX_TEXT",
    "Bar",
    "Block",
    "Bullets",
    "Document",
    "Figure",
    "KeyFindings",
    "LetterKit",
    "Paragraph",
    "Point",
    "Section",
    "Table",
    "codebook_csv",
    "codebook_xlsx",
    "codes_csv",
    "codes_table",
    "district_heatmap",
    "field_label",
    "figure_png",
    "frame_csv",
    "frames_xlsx",
    "funnel_chart",
    "letter_link",
    "letters_docx",
    "letters_pdf",
    "quadrant_chart",
    "quadrant_figure",
    "rank_chart",
    "ranking_csv",
    "ranking_table",
    "ranking_xlsx",
    "ratio_figure",
    "read_xlsx_sheets",
    "render_docx",
    "render_html_document",
    "render_pdf",
    "responses_csv",
    "responses_sav",
    "responses_xlsx",
    "share_figure",
    "trend_chart",
    "write_responses_sav",
]
