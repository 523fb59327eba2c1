"""The perceived reference table (field;share): fractions, percentages, workbooks, and one
located error per class of bad input."""

from __future__ import annotations

import io

import openpyxl
import pytest

from core import InvalidInput
from sources import read_perceived_reference

FIELDS = ["graffiti", "gewalt", "drogen", "diebstahl"]


def _read(text: str) -> dict[str, float]:
    data = io.BytesIO(text.encode("utf-8"))
    return read_perceived_reference(data, filename="ref.csv", fields=FIELDS).shares


def _problems(text: str) -> list[tuple[int | None, int | None, str, dict[str, object]]]:
    with pytest.raises(InvalidInput) as raised:
        _read(text)
    return [
        (p.location.line, p.location.column, p.key, dict(p.params)) for p in raised.value.problems
    ]


def test_fractions_with_decimal_comma_or_point() -> None:
    assert _read("field;share\ngraffiti;0,31\ngewalt;0.18\n") == {
        "graffiti": pytest.approx(0.31),
        "gewalt": pytest.approx(0.18),
    }


def test_percentages_with_a_sign_or_above_one_and_german_headers() -> None:
    assert _read("Handlungsfeld;Anteil\ngraffiti;31 %\ngewalt;18,5%\n") == {
        "graffiti": pytest.approx(0.31),
        "gewalt": pytest.approx(0.185),
    }
    assert _read("field;share\ngraffiti;31\ngewalt;0,5\n") == {
        "graffiti": pytest.approx(0.31),
        "gewalt": pytest.approx(0.005),
    }


def test_a_workbook_reads_like_the_csv() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["field", "share"])
    sheet.append(["drogen", 0.4])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    table = read_perceived_reference(out, filename="ref.xlsx", fields=FIELDS)
    assert table.shares == {"drogen": pytest.approx(0.4)}
    assert not table.percent


def test_missing_column_names_what_was_found() -> None:
    [(line, _column, key, params)] = _problems("field;anteil_x\ngraffiti;0,3\n")
    assert (line, key) == (1, "tables.missing_columns")
    assert params["missing"] == "share"
    assert params["found"] == "field;anteil_x"


def test_unknown_field_key_suggests_the_nearest_one() -> None:
    [(line, column, key, params)] = _problems("field;share\ngraffiti;0,3\ngrafitti;0,2\n")
    assert (line, column, key) == (3, 1, "tables.perceived.unknown_field")
    assert params["suggestion"] == "graffiti"


def test_share_outside_zero_to_one() -> None:
    [(line, column, key, _params)] = _problems("field;share\ngraffiti;-0,1\ngewalt;0,2\n")
    assert (line, column, key) == (2, 2, "tables.perceived.out_of_range")


def test_share_outside_zero_to_a_hundred_percent() -> None:
    [(line, column, key, params)] = _problems("field;share\ngraffiti;31 %\ngewalt;140 %\n")
    assert (line, column, key) == (3, 2, "tables.perceived.out_of_range_percent")
    assert params["value"] == "140 %"


def test_share_that_is_no_number() -> None:
    [(line, column, key, _params)] = _problems("field;share\ngraffiti;viel\n")
    assert (line, column, key) == (2, 2, "tables.perceived.not_a_share")


def test_field_listed_twice_names_the_first_row() -> None:
    [(line, _column, key, params)] = _problems("field;share\ngewalt;0,2\ngewalt;0,3\n")
    assert (line, key, params["first_row"]) == (3, "tables.perceived.duplicate", 2)


def test_empty_cell_and_no_rows() -> None:
    [(line, column, key, _params)] = _problems("field;share\ngewalt;\n")
    assert (line, column, key) == (2, 2, "tables.missing_value")
    [(line, _column, key, _params)] = _problems("field;share\n")
    assert (line, key) == (1, "tables.no_rows")


def test_every_bad_row_is_reported_at_once() -> None:
    problems = _problems("field;share\nxyz;0,2\ngewalt;200\ndrogen;abc\n")
    assert [p[0] for p in problems] == [2, 3, 4]
