"""Incident keys → action-field cases through the catalogue."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from core import InvalidInput, Location, Problem
from scoring import breakdown_counts, field_counts
from survey import ActionFieldCatalogue, IncidentMeasure, normalise_pks_key
from tests.conftest import ACTION_FIELDS


@pytest.fixture
def catalogue() -> ActionFieldCatalogue:
    data = YAML(typ="safe").load(ACTION_FIELDS.read_text(encoding="utf-8"))
    return ActionFieldCatalogue.model_validate(data)


def incidents(rows: list[tuple[str, int, object, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["area", "year", "key", "count"])


def cases(counts: pd.DataFrame) -> dict[tuple[str, int, str], int]:
    return {
        (str(r.area), int(r.year), str(r.field)): int(r.cases)
        for r in counts.itertuples(index=False)
    }


def test_sum_subtract_and_source_keys(catalogue: ActionFieldCatalogue) -> None:
    data = incidents(
        [
            ("14713", 2023, 899500, 100),  # an int key, as a spreadsheet gives it
            ("14713", 2023, "674000", 900),
            ("14713", 2023, "892000", 40),
            ("14713", 2023, "224000", 60),
            ("14713", 2023, "****00", 500),
            ("14713", 2023, "ordnungsamt_vermuellung", 7),
        ]
    )
    got = cases(field_counts(data, catalogue))
    assert got == {
        ("14713", 2023, "graffiti"): 100,
        ("14713", 2023, "sachbeschaedigung"): 800,  # 674000 − 899500
        ("14713", 2023, "gewalt"): 100,  # 892000 + 224000
        ("14713", 2023, "diebstahl"): 500,
        ("14713", 2023, "vermuellung"): 7,
    }


def test_a_missing_key_leaves_the_field_unknown_not_zero(
    catalogue: ActionFieldCatalogue,
) -> None:
    data = incidents([("1", 2023, "674000", 900), ("1", 2023, "892000", 40)])
    got = cases(field_counts(data, catalogue))
    # sachbeschaedigung lacks its subtracted key, gewalt lacks 224000: neither is counted.
    assert got == {}


def test_field_id_rows_give_cases_directly_and_take_precedence(
    catalogue: ActionFieldCatalogue,
) -> None:
    data = incidents(
        [
            ("1", 2023, "extremismus", 3),
            ("1", 2023, "graffiti", 12),
            ("1", 2023, "899500", 99),
        ]
    )
    assert cases(field_counts(data, catalogue)) == {
        ("1", 2023, "extremismus"): 3,
        ("1", 2023, "graffiti"): 12,
    }


def test_area_names_are_carried(catalogue: ActionFieldCatalogue) -> None:
    data = incidents([("14713", 2023, "899500", 1), ("14729", 2023, "899500", 2)])
    data["area_name"] = ["Leipzig", "Leipzig"]
    counts = field_counts(data, catalogue)
    assert counts["area"].tolist() == ["14713", "14729"]
    assert counts["area_name"].tolist() == ["Leipzig", "Leipzig"]


def test_subtracting_more_than_added_is_bad_input(catalogue: ActionFieldCatalogue) -> None:
    data = incidents([("1", 2023, "674000", 5), ("1", 2023, "899500", 9)])
    with pytest.raises(InvalidInput) as error:
        field_counts(data, catalogue)
    (problem,) = error.value.problems
    assert problem.key == "tables.negative_field_count"
    assert "sachbeschaedigung" in problem.message("en")


def test_breakdowns(catalogue: ActionFieldCatalogue) -> None:
    data = incidents([("1", 2023, "****00", 50), ("1", 2023, "435*00", 8)])
    got = breakdown_counts(data, catalogue)
    assert got[["field", "breakdown", "cases"]].values.tolist() == [
        ["diebstahl", "wohnungseinbruch", 8]
    ]


# The pandas merge/group-by implementation the dictionary version replaced, as the reference.
_IDS = ["area", "year"]


def _reference_mapping(measures: Iterable[tuple[str, IncidentMeasure]]) -> pd.DataFrame:
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


def _reference_frame(incidents: pd.DataFrame) -> pd.DataFrame:
    frame = incidents[[*_IDS, "key", "count"]].copy()
    frame["key"] = frame["key"].map(normalise_pks_key).astype("string")
    frame["area"] = frame["area"].astype("string")
    return frame


def _reference_count(
    incidents: pd.DataFrame, measures: list[tuple[str, IncidentMeasure]], what: str
) -> pd.DataFrame:
    frame = _reference_frame(incidents)
    mapping = _reference_mapping(measures)
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


def test_field_counts_equal_the_group_by_reference(rng: np.random.Generator) -> None:
    """field_counts sums over plain dictionaries; the result equals the pandas merge/group-by
    it replaced: on the benchmark's tables, on one with area names, duplicated rows, a missing
    key and a row keyed by the field id, and on one with a negative field (same problems)."""
    from bench.scoring_pipeline import incident_tables
    from survey import load_action_fields

    catalogue = load_action_fields()
    measures = [(f.id, f) for f in catalogue.fields]
    plain = incident_tables(catalogue, rng, 6)[0]
    mixed = incident_tables(catalogue, rng, 2)[0]
    extra = pd.DataFrame([("01", 2025, "graffiti", 7)], columns=mixed.columns)
    mixed = pd.concat([mixed, mixed.iloc[:5], extra], ignore_index=True)
    mixed = mixed[mixed["key"] != "224000"].assign(area_name=lambda f: "Gebiet " + f["area"])
    for table in (plain, mixed):
        expected = _reference_count(table, measures, "field")
        pd.testing.assert_frame_equal(field_counts(table, catalogue), expected)
    negative = plain.copy()
    negative.loc[negative["key"] == "674000", "count"] = 0
    with pytest.raises(InvalidInput) as fast:
        field_counts(negative, catalogue)
    with pytest.raises(InvalidInput) as reference:
        _reference_count(negative, measures, "field")
    assert [p.render("de") for p in fast.value.problems] == [
        p.render("de") for p in reference.value.problems
    ]
