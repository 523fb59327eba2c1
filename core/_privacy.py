"""The one privacy rule for published figures: cells of fewer than five respondents.

Every table, chart, export and report that publishes a figure computed from survey answers
uses :data:`MIN_CELL_SIZE`, :func:`is_small` and :func:`suppress_small_cells` from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

#: Published cells with fewer respondents than this are suppressed.
MIN_CELL_SIZE = 5


def is_small(counts: pd.Series, minimum: int = MIN_CELL_SIZE) -> pd.Series:
    """True where a published cell rests on 1 to ``minimum`` − 1 respondents.

    A cell of 0 respondents has no survey figure at all, so there is nothing to hide.
    """
    numbers = counts.astype("Float64").fillna(0)
    return ((numbers > 0) & (numbers < minimum)).astype(bool)


def suppress_small_cells(
    frame: pd.DataFrame,
    columns: Sequence[str],
    respondents: str,
    minimum: int = MIN_CELL_SIZE,
    *,
    blank_counts: bool = False,
) -> pd.DataFrame:
    """A copy with ``columns`` blanked in every row based on 1 to ``minimum`` − 1 respondents.

    The row keeps its other figures (registered crime is not about respondents) and gets
    ``suppressed = True``. With ``blank_counts`` the number of respondents is blanked there
    too: a published file says "suppressed" instead of "4 respondents" (a page shows "< 5").
    """
    out = frame.copy()
    if respondents not in out.columns:
        return out
    small = is_small(out[respondents], minimum)
    for column in columns:
        if column in out.columns:
            out[column] = out[column].astype("Float64").mask(small)
    if blank_counts:
        out[respondents] = out[respondents].astype("Float64").round().astype("Int64").mask(small)
    previous = (
        out["suppressed"].astype("boolean").fillna(False)
        if "suppressed" in out.columns
        else pd.Series(False, index=out.index, dtype="boolean")
    )
    out["suppressed"] = (previous | small).astype("boolean")
    return out
