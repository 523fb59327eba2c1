from __future__ import annotations

from scoring._areas import area_prefix, contains, innermost, outermost


def test_keys_nest_by_prefix() -> None:
    assert contains("14", "14713")
    assert contains("14713", "14713000-01")
    assert not contains("14713", "14713")
    assert not contains("14713", "14729")


def test_a_land_named_instead_of_keyed_still_contains_its_towns() -> None:
    assert area_prefix("Sachsen") == "14"
    assert area_prefix("Freistaat Sachsen") == "14"
    assert area_prefix("SN", "Sachsen") == "14"
    assert contains("Sachsen", "14713")
    assert not contains("Sachsen-Anhalt", "14713")
    assert contains("Deutschland", "14713")


def test_an_unknown_name_contains_nothing() -> None:
    assert area_prefix("Musterland") is None
    assert not contains("Musterland", "14713")


def test_outermost_and_innermost() -> None:
    areas = ["Sachsen", "14713", "14729", "14713000-01"]
    assert outermost(areas) == {"Sachsen"}
    assert innermost(areas) == {"14729", "14713000-01"}
