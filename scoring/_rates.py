"""Incident indicators: rates, SIR, empirical Bayes, funnel plots and trends."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def incident_indicators(
    counts: pd.DataFrame,
    population: pd.DataFrame,
    *,
    reference: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rates, SIR, EB rates and funnel z-scores per area × year × field."""
    raise NotImplementedError


def funnel_limits(
    reference_rate: float,
    populations: Sequence[float],
    *,
    levels: Sequence[float] = (0.95, 0.998),
    phi: float | None = None,
) -> pd.DataFrame:
    """Funnel-plot control limits (rates per 100,000) over a population grid."""
    raise NotImplementedError


def trend(counts: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Trend per area × field over the years given."""
    raise NotImplementedError
