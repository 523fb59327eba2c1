"""Bad input the data uploads met in the audit (docs/bad-input.md): every case is a message
with its place, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from core import InvalidInput
from sources import MAX_COUNT, read_incidents, read_population, read_response_table
from tests.sources.bka import bka_lines
from tests.sources.test_tables import incidents_frame, population_frame


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _only_problem(error: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, int | None, str | None]:
    [problem] = error.value.problems
    assert problem.render("de")
    assert problem.render("en")
    return problem.key, problem.location.row, problem.location.field


@pytest.mark.parametrize(
    "content",
    [
        b"area;year;key;count\n14713;2023;899500;999999999999999999999999999999\n",
        _workbook([["area", "year", "key", "count"], ["14713", 2023, "899500", 1e308]]),
    ],
    ids=["csv", "xlsx-float"],
)
def test_a_huge_count_is_too_large_at_its_cell(content: bytes) -> None:
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO(content), filename="upload")
    assert _only_problem(error) == ("badinput.count_too_large", 2, "count")
    assert "10.000.000.000" in error.value.render("de")
    assert "10,000,000,000" in error.value.render("en")
    assert MAX_COUNT == 10_000_000_000  # the number the message names


def test_a_huge_population_is_too_large() -> None:
    content = b"area;year;population\n14713;2023;12345678901234567890\n"
    with pytest.raises(InvalidInput) as error:
        read_population(io.BytesIO(content), filename="einwohner.csv")
    assert _only_problem(error) == ("badinput.count_too_large", 2, "population")


def test_the_largest_plausible_count_is_still_read() -> None:
    content = f"area;year;key;count\n14713;2023;899500;{MAX_COUNT}\n".encode()
    assert read_incidents(io.BytesIO(content), filename="x").table["count"].tolist() == [MAX_COUNT]


def test_a_line_longer_than_any_csv_field_is_reported_with_its_line() -> None:
    content = b"area;year;key;count\n" + b"x" * 200_000 + b"\n"
    with pytest.raises(InvalidInput) as error:
        read_population(io.BytesIO(content), filename="junk.csv")
    [problem] = error.value.problems
    assert (problem.key, problem.location.line) == ("badinput.csv_unreadable", 2)


@pytest.mark.parametrize("name", ["missing.csv", ""], ids=["missing", "directory"])
def test_a_path_that_is_no_readable_file_is_one_problem(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    for reader in (
        lambda: read_incidents(path, filename=str(path)),
        lambda: read_population(path, filename=str(path)),
        lambda: read_response_table(path),
    ):
        with pytest.raises(InvalidInput) as error:
            reader()
        [problem] = error.value.problems
        assert problem.key == "badinput.file_unreadable"
        assert problem.location.file in (str(path), path.name)


@pytest.mark.parametrize("hz", ["nan", "inf", "0.00000000001"])
def test_a_bka_hz_that_is_no_finite_rate_warns_instead_of_failing(hz: str) -> None:
    lines = bka_lines(incidents_frame(), population_frame())
    lines[4][6] = hz  # HZ of the first "Straftaten insgesamt" row
    data = "\n".join(";".join(cells) for cells in lines).encode("cp1252")
    result = read_incidents(io.BytesIO(data), filename="bka.csv")
    assert [w.key for w in result.warnings] == ["tables.no_hz"]
    assert result.derived_population is not None
    assert "14713" not in set(result.derived_population["area"])


@pytest.mark.parametrize(
    "content",
    [b"sex;age_group;safe_night\n", _workbook([["sex", "age_group", "safe_night"]])],
    ids=["csv", "xlsx"],
)
def test_a_response_table_with_only_a_header_is_a_problem(content: bytes) -> None:
    with pytest.raises(InvalidInput) as error:
        read_response_table(io.BytesIO(content), filename="papier")
    [problem] = error.value.problems
    assert (problem.key, problem.location.file) == ("tables.no_rows", "papier")
    assert problem.location.row == 1


def test_a_header_problem_is_reported_at_the_header_row_of_a_workbook() -> None:
    content = _workbook([[], ["area", "year", "people"], ["14713", 2023, 600000]])
    with pytest.raises(InvalidInput) as error:
        read_population(io.BytesIO(content), filename="bevoelkerung.xlsx")
    [problem] = error.value.problems
    assert (problem.key, problem.location.row) == ("tables.missing_columns", 2)


def test_the_content_decides_not_the_file_name() -> None:
    csv_text = b"area;year;key;count\n14713;2023;899500;12\n"
    workbook = _workbook([["area", "year", "key", "count"], ["14713", 2023, "899500", 12]])
    for data, name in ((csv_text, "pks.xlsx"), (workbook, "pks.csv"), (workbook, "pks.txt")):
        table = read_incidents(io.BytesIO(data), filename=name).table
        assert table["count"].tolist() == [12], name


def test_a_formula_cell_in_a_workbook_is_a_missing_value_at_its_cell() -> None:
    workbook = _workbook([["area", "year", "key", "count"], ["14713", 2023, "899500", "=6*2"]])
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO(workbook), filename="pks.xlsx")
    assert _only_problem(error) == ("tables.missing_value", 2, "count")
