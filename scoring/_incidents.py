"""Incident keys → action-field case counts, through the action-field catalogue."""

from __future__ import annotations

import pandas as pd

from survey import ActionFieldCatalogue


def field_counts(incidents: pd.DataFrame, catalogue: ActionFieldCatalogue) -> pd.DataFrame:
    """Cases per ``area, year, field``: Σ pks_keys − Σ pks_subtract + Σ source_keys."""
    raise NotImplementedError


def breakdown_counts(incidents: pd.DataFrame, catalogue: ActionFieldCatalogue) -> pd.DataFrame:
    """Cases per ``area, year, field, breakdown`` for the catalogue's breakdowns."""
    raise NotImplementedError
