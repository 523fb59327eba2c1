"""Incident keys → action-field cases through the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest
from ruamel.yaml import YAML

from core import InvalidInput
from scoring import breakdown_counts, field_counts
from survey import ActionFieldCatalogue
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
