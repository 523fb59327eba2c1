"""Incident keys → action-field case counts, through the action-field catalogue.

A field's cases are ``Σ pks_keys − Σ pks_subtract + Σ source_keys`` of its
:class:`~survey.IncidentMeasure`. A field is counted for an area and year only when *every*
key of its measure is present there: a missing key is unknown, never zero (a missing subtracted
key would inflate the count, a missing added key deflate it). A row whose key is the field id
itself (``graffiti``) gives the field's cases directly and takes precedence over the keys.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from core import InvalidInput, Location, Problem
from survey import ActionFieldCatalogue, IncidentMeasure, normalise_pks_key

_IDS = ["area", "year"]


def _mapping(measures: Iterable[tuple[str, IncidentMeasure]]) -> pd.DataFrame:
    """One row per (target, key) with the sign (+1/−1) and the number of keys required."""
    records: list[tuple[str, str, int]] = []
    for target, measure in measures:
        records += [(target, key, 1) for key in measure.pks_keys]
        records += [(target, key, -1) for key in measure.pks_subtract]
        records += [(target, key, 1) for key in measure.source_keys]
    mapping = pd.DataFrame(records, columns=["target", "key", "sign"])
    mapping = mapping.drop_duplicates(["target", "key"])
    mapping["required"] = mapping.groupby("target")["key"].transform("size")
    return mapping


def _incident_frame(incidents: pd.DataFrame) -> pd.DataFrame:
    frame = incidents[[*_IDS, "key", "count"]].copy()
    frame["key"] = frame["key"].map(normalise_pks_key).astype("string")
    frame["area"] = frame["area"].astype("string")
    return frame


def _count(
    incidents: pd.DataFrame, measures: list[tuple[str, IncidentMeasure]], what: str
) -> pd.DataFrame:
    frame = _incident_frame(incidents)
    mapping = _mapping(measures)
    joined = frame.merge(mapping, on="key", how="inner")
    joined["signed"] = joined["count"] * joined["sign"]
    grouped = joined.groupby([*_IDS, "target"], as_index=False, observed=True).agg(
        cases=("signed", "sum"), present=("key", "nunique"), required=("required", "first")
    )
    computed = grouped[grouped["present"] == grouped["required"]][[*_IDS, "target", "cases"]]
    targets = [target for target, _ in measures]
    direct = frame[frame["key"].isin(targets)].rename(columns={"key": "target", "count": "cases"})
    direct = direct[[*_IDS, "target", "cases"]]
    both = pd.concat([direct, computed], ignore_index=True)
    both = both.drop_duplicates([*_IDS, "target"], keep="first")
    negative = both[both["cases"] < 0]
    if len(negative):
        keys = {target: sorted(m.keys()) for target, m in measures}
        raise InvalidInput(
            Problem(
                Location(field=str(row.target)),
                "tables.negative_field_count",
                {
                    "field": row.target,
                    "area": row.area,
                    "year": row.year,
                    "cases": row.cases,
                    "keys": ", ".join(keys[str(row.target)]),
                },
            )
            for row in negative.itertuples(index=False)
        )
    both = both.rename(columns={"target": what}).astype(
        {"area": "string", "year": "int64", what: "string", "cases": "int64"}
    )
    if "area_name" in incidents.columns:
        names = incidents.assign(area=incidents["area"].astype("string"))
        first = names.dropna(subset=["area_name"]).groupby("area")["area_name"].first()
        both.insert(1, "area_name", both["area"].map(first).astype("string"))
    return both.sort_values([*_IDS, what], ignore_index=True)


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
