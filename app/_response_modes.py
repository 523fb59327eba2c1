"""Responses by mode ("Rücklauf nach Erhebungsweg"): how many answers came online, keyed from
paper, scanned or imported, for the report and the findings page, so mode effects can be
judged. A published table of counts: cells of 1 to 4 responses are hidden by core's privacy
rule (:func:`core.complementary_suppression`, so a hidden cell cannot be recovered from the
total the report states); a hidden cell reads as hidden, never as a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core import complementary_suppression, format_integer, format_percent, t
from survey import MODE_COLUMN, MODES, mode_label


@dataclass(frozen=True)
class ModeRow:
    """One mode: its label, and its count and share as shown (or the hidden marker)."""

    mode: str
    label: str
    count: str
    share: str
    hidden: bool


def responses_by_mode(responses: pd.DataFrame, lang: str) -> list[ModeRow]:
    """The responses per mode in :data:`survey.MODES` order (modes without responses left
    out, an unknown value from outside after them); empty without responses or a mode column.
    """
    if MODE_COLUMN not in responses.columns or not len(responses):
        return []
    counts = responses[MODE_COLUMN].dropna().astype(str).value_counts()
    order = [m for m in MODES if m in counts.index] + sorted(set(counts.index) - set(MODES))
    numbers = [int(counts[m]) for m in order]
    hidden, all_hidden = complementary_suppression(numbers)
    total = sum(numbers)
    marker = t("modes.hidden", lang)
    rows: list[ModeRow] = []
    for mode, count, secret in zip(order, numbers, hidden, strict=True):
        secret = bool(secret) or all_hidden
        rows.append(
            ModeRow(
                mode=mode,
                label=mode_label(mode, lang),
                count=marker if secret else format_integer(count, lang),
                share=marker if secret else format_percent(count / total, 1, lang),
                hidden=secret,
            )
        )
    return rows


def mode_table(responses: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`responses_by_mode` as a display table (mode, responses, share)."""
    rows = responses_by_mode(responses, lang)
    return pd.DataFrame(
        {
            t("modes.col.mode", lang): [r.label for r in rows],
            t("modes.col.responses", lang): [r.count for r in rows],
            t("modes.col.share", lang): [r.share for r in rows],
        }
    )
