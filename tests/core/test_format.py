"""Numbers for people: decimal comma and thousands dot in German, ``38 %``; English as usual."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core import format_integer, format_number, format_percent, format_short, number_separators


@pytest.mark.parametrize(
    ("value", "digits", "lang", "expected"),
    [
        (0.638, 2, "de", "0,64"),
        (0.638, 2, "en", "0.64"),
        (1234.5, 1, "de", "1.234,5"),
        (1234.5, 1, "en", "1,234.5"),
        (4444108, 0, "de", "4.444.108"),
        (-2.25, 1, "de", "-2,2"),
        (-0.001, 1, "de", "0,0"),
        (2.1, 1, "fr", "2,1"),  # an unknown language falls back to German
    ],
)
def test_format_number(value: float, digits: int, lang: str, expected: str) -> None:
    assert format_number(value, digits, lang) == expected


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, pd.NA, "abc"])
def test_missing_numbers_are_empty(missing: object) -> None:
    assert format_number(missing, 2, "de") == ""
    assert format_percent(missing, 0, "de") == ""
    assert format_short(missing, "en") == ""


def test_percent_has_a_space_in_german_only() -> None:
    assert format_percent(0.38, 0, "de") == "38 %"
    assert format_percent(0.125, 1, "de") == "12,5 %"
    assert format_percent(0.38, 0, "en") == "38%"


def test_integers_and_short_numbers() -> None:
    assert format_integer(100_000, "de") == "100.000"
    assert format_integer(100_000, "en") == "100,000"
    assert format_short(3.0, "de") == "3"
    assert format_short(2.5, "de") == "2,5"
    assert format_short(2.5, "en") == "2.5"


def test_plotly_separators() -> None:
    assert number_separators("de") == ",."
    assert number_separators("en") == ".,"
