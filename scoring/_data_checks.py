"""Checks of the incident data against the action-field catalogue that would otherwise fail
silently: keys nobody uses (a typo such as ``grafitti``) and fields whose keys are missing.

Both give located warnings (:class:`core.Problem` with severity ``warning``), shown on the
data page when a table is uploaded, by the analysis on the priorities page, in the report and
by the CLI.
"""

from __future__ import annotations

import difflib

import pandas as pd

from core import Location, Problem
from survey import ActionFieldCatalogue, normalise_pks_key

#: Totals rows that are read for populations, not for fields.
_TOTAL_KEYS = frozenset({"------", "000000"})


def _known_keys(catalogue: ActionFieldCatalogue) -> set[str]:
    known = set(catalogue.ids())
    for action_field in catalogue.fields:
        known |= action_field.keys()
        for breakdown in action_field.breakdowns:
            known |= {breakdown.id, *breakdown.keys()}
    return known


def unknown_keys(
    incidents: pd.DataFrame, catalogue: ActionFieldCatalogue, *, source: str | None = None
) -> list[Problem]:
    """One warning per incident key that no action field uses, with the closest known key
    when there is a plausible one ("grafitti – meinten Sie graffiti?").

    PKS keys of offences outside the action fields are normal in a BKA table, so only keys
    that look like a field id or a source key (not six PKS characters) and the keys of a tidy
    table with few keys are reported; the totals row ``------`` is never reported.
    """
    if incidents is None or not len(incidents) or "key" not in incidents.columns:
        return []
    known = _known_keys(catalogue)
    keys = sorted({normalise_pks_key(k) for k in incidents["key"].dropna().unique()})
    problems: list[Problem] = []
    for key in keys:
        if key in known or key in _TOTAL_KEYS or _looks_like_pks(key):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
        problems.append(
            Problem(
                Location(file=source, field="key"),
                "scoring.warning.unknown_key_suggestion"
                if close
                else "scoring.warning.unknown_key",
                {"key": key, "suggestion": close[0] if close else ""},
                severity="warning",
            )
        )
    return problems


def _looks_like_pks(key: str) -> bool:
    return len(key) == 6 and all(ch.isdigit() or ch == "*" for ch in key)


def missing_field_keys(
    incidents: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    *,
    area: str,
    year: int,
) -> list[Problem]:
    """One warning per action field that has no police figure for ``area`` in ``year``
    because keys it needs are missing (a field counts only when all its keys are present,
    or a row carries the field id itself), naming the missing keys."""
    if incidents is None or not len(incidents):
        return []
    rows = incidents[
        (incidents["area"].astype(str) == area) & (incidents["year"].astype(int) == year)
    ]
    present = {normalise_pks_key(k) for k in rows["key"].dropna().unique()}
    problems: list[Problem] = []
    for action_field in catalogue.fields:
        if action_field.id in present or not action_field.keys():
            continue
        missing = sorted(action_field.keys() - present)
        if missing:
            problems.append(
                Problem(
                    Location(field=action_field.id),
                    "scoring.warning.field_keys_missing",
                    {
                        "field": action_field.id,
                        "area": area,
                        "year": year,
                        "keys": ", ".join(missing),
                    },
                    severity="warning",
                )
            )
    return problems
