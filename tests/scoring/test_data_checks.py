"""Data that used to fail silently now gives a located warning."""

from __future__ import annotations

import pandas as pd

from scoring._data_checks import missing_field_keys, unknown_keys
from survey import load_action_fields


def incidents(rows: list[tuple[str, int, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["area", "year", "key", "count"])


def test_a_typo_key_gets_a_did_you_mean() -> None:
    warnings = unknown_keys(
        incidents([("14713", 2025, "grafitti", 12), ("14713", 2025, "899500", 30)]),
        load_action_fields(),
        source="pks.csv",
    )
    assert [w.key for w in warnings] == ["scoring.warning.unknown_key_suggestion"]
    assert warnings[0].severity == "warning"
    assert "meinten Sie „graffiti“" in warnings[0].render("de")
    assert warnings[0].location.file == "pks.csv"


def test_other_pks_offences_and_the_totals_row_are_normal() -> None:
    rows = [("14713", 2025, "------", 66503), ("14713", 2025, "110000", 9)]
    assert unknown_keys(incidents(rows), load_action_fields()) == []


def test_a_field_without_its_keys_says_which_are_missing() -> None:
    rows = [("14713", 2025, "899500", 30)]  # graffiti only: property damage needs 674000
    warnings = missing_field_keys(incidents(rows), load_action_fields(), area="14713", year=2025)
    fields = {w.location.field for w in warnings}
    assert "graffiti" not in fields
    assert "sachbeschaedigung" in fields
    damage = next(w for w in warnings if w.location.field == "sachbeschaedigung")
    assert "674000" in damage.render("de")
