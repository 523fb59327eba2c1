"""The one privacy rule for published figures: cells of fewer than five respondents.

Every table, chart, export and report that publishes a figure computed from survey answers
uses :data:`MIN_CELL_SIZE`, :func:`is_small` and :func:`suppress_small_cells` from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

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
    also: pd.Series | None = None,
) -> pd.DataFrame:
    """A copy with ``columns`` blanked in every row based on 1 to ``minimum`` − 1 respondents
    (and in the rows ``also`` marks: cells hidden by :func:`complementary_suppression`).

    The row keeps its other figures (registered crime is not about respondents) and gets
    ``suppressed = True``. With ``blank_counts`` the number of respondents is blanked there
    too: a published file says "suppressed" instead of "4 respondents" (a page shows "< 5").
    """
    out = frame.copy()
    if respondents not in out.columns:
        return out
    small = is_small(out[respondents], minimum)
    if also is not None:
        small = small | also.reindex(out.index, fill_value=False).astype(bool)
    for column in columns:
        if column in out.columns:
            numeric = pd.api.types.is_numeric_dtype(out[column].dtype)
            values = out[column].astype("Float64") if numeric else out[column]
            out[column] = values.mask(small)
    if blank_counts:
        out[respondents] = out[respondents].astype("Float64").round().astype("Int64").mask(small)
    previous = (
        out["suppressed"].astype("boolean").fillna(False)
        if "suppressed" in out.columns
        else pd.Series(False, index=out.index, dtype="boolean")
    )
    out["suppressed"] = (previous | small).astype("boolean")
    return out


def complementary_suppression(
    counts: ArrayLike,
    positives: ArrayLike | None = None,
    minimum: int = MIN_CELL_SIZE,
) -> tuple[NDArray[np.bool_], bool]:
    """Which parts of one published total to suppress so that no suppressed part can be
    recovered by subtracting the shown parts from the total.

    ``counts`` are the respondents behind each part (the districts of a town, the sexes, the
    age groups); ``positives`` optionally the respondents behind each part's share (those who
    named the field a problem). Primary suppression hides every part of 1 to ``minimum`` − 1
    respondents (:func:`is_small`). If any part is hidden, further parts are hidden, smallest
    first, until the hidden parts together

    * are at least two,
    * hold at least ``minimum`` respondents and more respondents than parts (so they are not
      all single respondents), and
    * (with ``positives``) hold both respondents who named the field and respondents who did
      not, so the difference reveals no one's answer.

    Returns the mask of hidden parts and whether the total must be hidden too (when the parts
    cannot protect each other: too few or too small). Parts of 0 respondents are never
    hidden: there is nothing to hide and hiding them protects nothing.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*, Wiley, ch. 4.2
    (primary and secondary cell suppression). https://doi.org/10.1002/9781118348239
    """
    n = np.nan_to_num(np.asarray(counts, dtype=np.float64), nan=0.0)
    y = None if positives is None else np.nan_to_num(np.asarray(positives, dtype=np.float64))
    hidden = ((n > 0) & (n < minimum)).astype(bool)
    if not hidden.any():
        return hidden, False

    def protected(mask: NDArray[np.bool_]) -> bool:
        size, total = int(mask.sum()), float(n[mask].sum())
        enough = size >= 2 and total >= minimum and total > size
        if y is None or not enough:
            return enough
        named = float(y[mask].sum())
        return 0.0 < named < total

    while not protected(hidden):
        candidates = np.flatnonzero(~hidden & (n > 0))
        if candidates.size == 0:
            return hidden, True
        hidden[candidates[np.argmin(n[candidates])]] = True
    return hidden, False
