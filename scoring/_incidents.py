"""Incident keys → action-field case counts, through the action-field catalogue.

A field's cases are ``Σ pks_keys − Σ pks_subtract + Σ source_keys`` of its
:class:`~survey.IncidentMeasure`. A field is counted for an area and year only when *every*
key of its measure is present there: a missing key is unknown, never zero (a missing subtracted
key would inflate the count, a missing added key deflate it). A row whose key is the field id
itself (``graffiti``) gives the field's cases directly and takes precedence over the keys.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core import InvalidInput, Location, Problem
from survey import ActionFieldCatalogue, IncidentMeasure, normalise_pks_key

_IDS = ["area", "year"]


def _count(
    incidents: pd.DataFrame, measures: list[tuple[str, IncidentMeasure]], what: str
) -> pd.DataFrame:
    """Cases per area, year and target: plain dictionaries over the rows (an incident table
    has a few thousand rows at most; group-bys and merges cost more than the sums here)."""
    signs: dict[str, list[tuple[str, int]]] = {}
    required: dict[str, set[str]] = {}
    for target, measure in measures:
        for listed, sign in (
            (measure.pks_keys, 1),
            (measure.pks_subtract, -1),
            (measure.source_keys, 1),
        ):
            for key in listed:
                if key not in required.setdefault(target, set()):
                    required[target].add(key)
                    signs.setdefault(key, []).append((target, sign))
    targets = {target for target, _ in measures}
    normalised: dict[Any, str] = {}
    direct: list[tuple[Any, Any, str, Any]] = []
    totals: dict[tuple[Any, Any, str], Any] = {}
    present: dict[tuple[Any, Any, str], set[str]] = {}
    areas = incidents["area"].astype("string")
    for area, year, raw_key, count in zip(
        areas, incidents["year"], incidents["key"], incidents["count"], strict=True
    ):
        if raw_key not in normalised:
            normalised[raw_key] = normalise_pks_key(raw_key)
        key = normalised[raw_key]
        if key in targets:
            direct.append((area, year, key, count))
        if pd.isna(area) or pd.isna(year):
            continue  # a group-by leaves out rows without area or year
        for target, sign in signs.get(key, ()):
            cell = (area, year, target)
            totals[cell] = totals.get(cell, 0) + count * sign
            present.setdefault(cell, set()).add(key)
    computed = [
        (*cell, totals[cell])
        for cell in sorted(totals)
        if len(present[cell]) == len(required[cell[2]])
    ]
    both: dict[tuple[Any, Any, str], Any] = {}
    for area, year, target, cases in [*direct, *computed]:
        both.setdefault((area, year, target), cases)  # a row keyed by the field id first
    negative = [(k, c) for k, c in both.items() if c < 0]
    if negative:
        keys = {target: sorted(m.keys()) for target, m in measures}
        raise InvalidInput(
            Problem(
                Location(field=str(target)),
                "tables.negative_field_count",
                {
                    "field": target,
                    "area": area,
                    "year": year,
                    "cases": cases,
                    "keys": ", ".join(keys[str(target)]),
                },
            )
            for (area, year, target), cases in negative
        )
    frame = pd.DataFrame(
        [(a, y, t, c) for (a, y, t), c in both.items()], columns=["area", "year", what, "cases"]
    ).astype({"area": "string", "year": "int64", what: "string", "cases": "int64"})
    if "area_name" in incidents.columns:
        names = incidents.assign(area=areas)
        first = names.dropna(subset=["area_name"]).groupby("area")["area_name"].first()
        frame.insert(1, "area_name", frame["area"].map(first).astype("string"))
    return frame.sort_values([*_IDS, what], ignore_index=True)


def field_counts(incidents: pd.DataFrame, catalogue: ActionFieldCatalogue) -> pd.DataFrame:
    """Cases per area, year and action field.

    .. math:: C_{a,t,f} = \\sum_{k \\in K^+_f} n_{a,t,k} - \\sum_{k \\in K^-_f} n_{a,t,k}
              + \\sum_{k \\in S_f} n_{a,t,k}

    with :math:`K^+_f` the field's ``pks_keys``, :math:`K^-_f` its ``pks_subtract`` and
    :math:`S_f` its ``source_keys``.

    Parameters
    ----------
    incidents
        ``area, year, key, count`` (as :func:`survey.read_incidents` returns). Keys are
        normalised with :func:`survey.normalise_pks_key`, so ``899500`` and ``"899500"`` match.
    catalogue
        The action-field catalogue.

    Returns
    -------
    pandas.DataFrame
        ``area, year, field, cases`` (and ``area_name`` when the incidents have it). A field
        appears for an area × year only when all its keys are present there, or when a row
        carries the field id as its key.

    Raises
    ------
    InvalidInput
        When subtracted keys exceed the added ones (inconsistent input), naming field, area and
        year.
    """
    return _count(incidents, [(f.id, f) for f in catalogue.fields], "field")


def breakdown_counts(incidents: pd.DataFrame, catalogue: ActionFieldCatalogue) -> pd.DataFrame:
    """Cases per area, year, field and breakdown (e.g. burglary within theft).

    Same rule as :func:`field_counts`, applied to each :class:`~survey.Breakdown`; a row keyed
    by the breakdown id gives its cases directly.

    Returns
    -------
    pandas.DataFrame
        ``area, year, field, breakdown, cases``.
    """
    owner = {b.id: f.id for f in catalogue.fields for b in f.breakdowns}
    measures: list[tuple[str, IncidentMeasure]] = [
        (b.id, b) for f in catalogue.fields for b in f.breakdowns
    ]
    if not measures:
        return pd.DataFrame(
            {
                "area": pd.Series(dtype="string"),
                "year": pd.Series(dtype="int64"),
                "field": pd.Series(dtype="string"),
                "breakdown": pd.Series(dtype="string"),
                "cases": pd.Series(dtype="int64"),
            }
        )
    counts = _count(incidents, measures, "breakdown")
    counts.insert(2, "field", counts["breakdown"].map(owner).astype("string"))
    return counts
