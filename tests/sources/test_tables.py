"""Incident and population import: tidy CSV/XLSX, the BKA PKS layout, and every bad input."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core import InvalidInput
from sources import read_incidents, read_population
from tests.sources.bka import bka_lines, write_bka_table

# Leipzig the city (Kreisfreie Stadt 14713) and Landkreis Leipzig (14729) share a name;
# Flensburg (01001) has the leading zero a spreadsheet would drop.
AREAS = {"14713": "Leipzig", "14729": "Leipzig", "01001": "Flensburg"}
POPULATION = {"14713": 616_093, "14729": 260_134, "01001": 92_550}
CASES = {
    ("14713", "------"): 80_123,
    ("14729", "------"): 14_870,
    ("01001", "------"): 7_411,
    ("14713", "899500"): 1_234,
    ("14729", "899500"): 97,
    ("01001", "899500"): 6,
    ("14713", "****00"): 35_002,
    ("14729", "****00"): 5_120,
    ("01001", "****00"): 2_870,
}


def incidents_frame(years: tuple[int, ...] = (2023,)) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (area, AREAS[area], year, key, count + (year - years[0]) * 3)
            for year in years
            for (area, key), count in CASES.items()
        ],
        columns=["area", "area_name", "year", "key", "count"],
    )


def population_frame(years: tuple[int, ...] = (2023,)) -> pd.DataFrame:
    return pd.DataFrame(
        [(area, year, pop) for year in years for area, pop in POPULATION.items()],
        columns=["area", "year", "population"],
    )


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def problem_keys(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.key for p in error.value.problems]


# --- tidy ------------------------------------------------------------------------------------


def test_tidy_semicolon_csv_keeps_keys_and_area_codes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "inc.csv",
        "area;area_name;year;key;count\n"
        "01001;Flensburg;2023;899500;6\n"
        "14713;Leipzig;2023;****00;35.002\n"
        "14729;Leipzig;2023;ordnungsamt_vermuellung;12\n"
        "14729;Leipzig;2023;graffiti;97\n",
    )
    result = read_incidents(path, filename="inc.csv")
    assert result.layout == "tidy"
    assert result.skipped == []
    table = result.table
    assert table["area"].tolist() == ["01001", "14713", "14729", "14729"]
    assert table["key"].tolist() == ["899500", "****00", "ordnungsamt_vermuellung", "graffiti"]
    assert table["count"].tolist() == [6, 35002, 12, 97]
    assert table["year"].dtype == "int64"


def test_tidy_comma_csv_from_an_upload_and_short_keys_padded() -> None:
    upload = io.BytesIO(b"area,year,key,count\n1001,2023,10000,4\n")
    table = read_incidents(upload, filename="upload.csv").table
    # A spreadsheet dropped the zeros: AGS 01001 and PKS key 010000 come back.
    assert table.loc[0, "area"] == "01001"
    assert table.loc[0, "key"] == "010000"


def test_xlsx_incidents_and_population(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["area", "year", "key", "count"])
    sheet.append([14713, 2023, 899500, 1234])
    sheet.append(["14729", 2023, "****00", 5120.0])
    workbook.save(tmp_path / "inc.xlsx")
    table = read_incidents(tmp_path / "inc.xlsx", filename="inc.xlsx").table
    assert table["area"].tolist() == ["14713", "14729"]
    assert table["key"].tolist() == ["899500", "****00"]
    assert table["count"].tolist() == [1234, 5120]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["area", "year", "population"])
    sheet.append([1001, 2023, 92550])
    workbook.save(tmp_path / "pop.xlsx")
    pop = read_population(tmp_path / "pop.xlsx", filename="pop.xlsx").table
    assert pop[["area", "population"]].values.tolist() == [["01001", 92550]]


# --- BKA layout ------------------------------------------------------------------------------


def test_bka_table_imports_areas_keys_and_derived_populations(tmp_path: Path) -> None:
    path = write_bka_table(
        tmp_path / "KR-F-01-T01-Kreise_Faelle_csv.csv",
        incidents_frame(),
        population_frame(),
        kreisart={"14713": "Kreisfreie Stadt", "14729": "Landkreis"},
    )
    assert path.read_bytes().decode("cp1252").splitlines()[2].startswith("1;2;3;4")
    result = read_incidents(path, filename=path.name)
    assert result.layout == "bka"
    table = result.table.set_index(["area", "key"])
    assert set(result.table["area"]) == {"14713", "14729", "01001"}
    assert (result.table["year"] == 2023).all()
    assert table.loc[("14713", "------"), "count"] == 80_123  # "80,123" read with thousands
    assert table.loc[("14729", "899500"), "count"] == 97
    assert table.loc[("01001", "****00"), "count"] == 2_870
    # Both are "Leipzig"; the official key keeps them apart.
    assert table.loc[("14713", "899500"), "area_name"] == "Leipzig"
    assert table.loc[("14729", "899500"), "area_name"] == "Leipzig"

    derived = result.derived_population
    assert derived is not None
    assert derived["derived"].all()
    got = derived.set_index("area")["population"]
    for area, true in POPULATION.items():
        # HZ is published with two decimals; cases × 100,000 / HZ recovers the population.
        assert got[area] == pytest.approx(true, rel=1e-4)


def test_bka_table_with_german_numbers_and_several_years(tmp_path: Path) -> None:
    years = (2021, 2022, 2023)
    path = write_bka_table(
        tmp_path / "zeitreihe.csv",
        incidents_frame(years),
        population_frame(years),
        german_numbers=True,
    )
    result = read_incidents(path, filename="zeitreihe.csv")
    assert sorted(result.table["year"].unique()) == list(years)
    counts = result.table.set_index(["area", "year", "key"])["count"]
    assert counts[("14713", 2023, "------")] == 80_123 + 6
    derived = result.derived_population
    assert derived is not None
    assert len(derived) == 9
    leipzig = derived[(derived["area"] == "14713") & (derived["year"] == 2021)]
    assert leipzig["population"].iloc[0] == pytest.approx(616_093, rel=1e-4)


def test_bka_year_from_argument_file_name_or_missing(tmp_path: Path) -> None:
    lines = bka_lines(incidents_frame(), population_frame())[1:]  # drop the title with the year
    text = "\n".join(";".join(cells) for cells in lines)
    path = write(tmp_path / "kreise.csv", text, "cp1252")
    with pytest.raises(InvalidInput) as error:
        read_incidents(path, filename="kreise.csv")
    assert problem_keys(error) == ["tables.no_year"]
    assert (read_incidents(path, filename="kreise.csv", year=2022).table["year"] == 2022).all()
    named = write(tmp_path / "pks2021_kreise.csv", text, "cp1252")
    assert (read_incidents(named, filename=named.name).table["year"] == 2021).all()


def test_bka_bad_row_reported_with_row_and_column(tmp_path: Path) -> None:
    lines = bka_lines(incidents_frame(), population_frame())
    lines[5][5] = "viele"  # erfasste Fälle of the second data row
    text = "\n".join(";".join(cells) for cells in lines)
    path = write(tmp_path / "bka.csv", text, "cp1252")
    with pytest.raises(InvalidInput) as error:
        read_incidents(path, filename="bka.csv")
    (problem,) = error.value.problems
    assert problem.key == "tables.not_a_count"
    assert problem.location.row == 6
    assert problem.location.column == 6
    assert problem.location.field == "erfasste Fälle"


def test_bka_total_row_without_hz_warns_and_derives_nothing(tmp_path: Path) -> None:
    lines = bka_lines(incidents_frame(), population_frame())
    lines[4][6] = "-"  # HZ of the first "Straftaten insgesamt" row
    path = write(tmp_path / "bka.csv", "\n".join(";".join(c) for c in lines), "cp1252")
    result = read_incidents(path, filename="bka.csv")
    assert [w.key for w in result.warnings] == ["tables.no_hz"]
    assert result.derived_population is not None
    assert "14713" not in set(result.derived_population["area"])


# --- bad input -------------------------------------------------------------------------------

HEADER_PROBLEMS = frozenset({"tables.missing_columns", "tables.no_rows", "tables.unknown_layout"})


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"", "tables.empty_file"),
        (b"  \n\n", "tables.empty_file"),
        (b"area;year;key;count\n", "tables.no_rows"),
        (b"area;year;count\n14713;2023;5\n", "tables.missing_columns"),
        (b"\x00\x01\x02\x03binary\x00junk", "tables.unknown_encoding"),
        (bytes(range(1, 32)) * 20, "tables.binary_file"),
        (b"%PDF-1.7 ...", "tables.wrong_file_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "tables.old_excel"),
        (b"PK\x03\x04 not really a workbook", "tables.bad_xlsx"),
        (b"Liebe Kolleginnen,\nanbei die Zahlen.\n", "tables.unknown_layout"),
        # Blank lines above the header count: its problems are reported at its real line.
        (b"\n\n;;\narea;year;count\n14713;2023;5\n", "tables.missing_columns"),
        (b"\n\n;;\narea;year;key;count\n", "tables.no_rows"),
        (b"\n\n;;\nLiebe Kolleginnen,\nanbei die Zahlen.\n", "tables.unknown_layout"),
    ],
)
def test_file_level_problems(content: bytes, key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO(content), filename="upload")
    assert problem_keys(error) == [key]
    assert error.value.problems[0].location.file == "upload"
    if key in HEADER_PROBLEMS:
        line = next(n for n, text in enumerate(content.split(b"\n"), 1) if text.strip(b"; "))
        location = error.value.problems[0].location
        assert (location.line, location.row) == (line, line)
        assert error.value.render("de").startswith(f"upload:{line}: Zeile {line}: Fehler: ")
    assert error.value.render("de")
    assert error.value.render("en")


def test_utf16_with_bom_is_read() -> None:
    data = "area\tyear\tkey\tcount\n14713\t2023\t899500\t12\n".encode("utf-16")
    table = read_incidents(io.BytesIO(data), filename="excel-unicode.txt").table
    assert table["count"].tolist() == [12]


BAD_ROWS = (
    "area;year;key;count\n"
    "14713;2023;899500;12\n"  # row 2: good
    "14713;20x3;899500;5\n"  # row 3: bad year
    "14713;2023;674000;viele\n"  # row 4: not a number
    "14713;2023;730000;-4\n"  # row 5: negative
    "14713;2023;899500;7\n"  # row 6: duplicate of row 2
    ";2023;640000;3\n"  # row 7: missing area
    "14729;2023;640000;3\n"  # row 8: good
)


def test_every_bad_row_is_reported_and_nothing_imported(tmp_path: Path) -> None:
    path = write(tmp_path / "inc.csv", BAD_ROWS)
    with pytest.raises(InvalidInput) as error:
        read_incidents(path, filename="inc.csv")
    found = [(p.location.row, p.location.field, p.key) for p in error.value.problems]
    assert found == [
        (3, "year", "tables.bad_year"),
        (4, "count", "tables.not_a_count"),
        (5, "count", "tables.negative_count"),
        (6, "key", "tables.duplicate"),
        (7, "area", "tables.missing_value"),
    ]
    duplicate = error.value.problems[3]
    assert "2" in duplicate.message("en")  # points at the first occurrence
    assert "Zeile 2" in duplicate.message("de")


def test_skip_bad_rows_imports_the_rest_and_lists_them(tmp_path: Path) -> None:
    path = write(tmp_path / "inc.csv", BAD_ROWS)
    result = read_incidents(path, filename="inc.csv", skip_bad_rows=True)
    assert result.table[["area", "key", "count"]].values.tolist() == [
        ["14713", "899500", 12],
        ["14729", "640000", 3],
    ]
    assert sorted({p.location.row for p in result.skipped}) == [3, 4, 5, 6, 7]


# --- population ------------------------------------------------------------------------------


def test_population_totals_margins_and_municipality_row(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pop.csv",
        "area;year;sex;age_group;population\n"
        "14713000;2023;;;616093\n"  # the whole municipality
        "14713000-01;2023;;;300000\n"  # two districts that do not add up to it
        "14713000-02;2023;;;310000\n"
        "14713000;2023;m;;302000\n"
        "14713000;2023;f;;314093\n"
        "14729;2023;m;18-39;40000\n"  # no total row: the sum of its joint cells
        "14729;2023;f;18-39;41000\n"
        "14729;2023;m;40+;90000\n"
        "14729;2023;f;40+;89134\n"
        "01001;2023;insgesamt;insgesamt;92550\n",
    )
    result = read_population(path, filename="pop.csv")
    totals = result.table.set_index("area")["population"]
    assert totals["14713000"] == 616_093
    assert totals["14729"] == 260_134
    assert totals["01001"] == 92_550
    assert len(result.table) == 5
    margins = result.margins
    assert margins is not None
    assert len(margins) == 6
    assert margins[margins["area"] == "14713000"]["sex"].tolist() == ["m", "f"]


@pytest.mark.parametrize("value", ["0", "-5", "viele", "12.5"])
def test_population_must_be_a_positive_whole_number(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "pop.csv", f"area;year;population\n14713;2023;{value}\n")
    with pytest.raises(InvalidInput) as error:
        read_population(path, filename="pop.csv")
    assert problem_keys(error) == ["tables.bad_population"]
    assert error.value.problems[0].location.field == "population"


def test_population_duplicates_and_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "pop.csv", "area;year;population\n14713;2023;5\n14713;2023;6\n")
    with pytest.raises(InvalidInput) as error:
        read_population(path, filename="pop.csv")
    assert problem_keys(error) == ["tables.duplicate"]
    path = write(tmp_path / "pop2.csv", "area;year;einwohnerzahl\n14713;2023;5\n")
    with pytest.raises(InvalidInput) as error:
        read_population(path, filename="pop2.csv")
    assert problem_keys(error) == ["tables.missing_columns"]


def test_bka_workbook_with_a_two_row_header(tmp_path: Path) -> None:
    """The BKA's XLSX tables open with a cover sheet and put sub-headings in a second row."""
    lines = bka_lines(incidents_frame(), population_frame())
    header = lines[3]
    header[5] = "Anzahl erfasste Fälle"
    header[6] = "HZ"
    sub = ["" for _ in header]
    sub[7], sub[8] = "Anzahl", "in %"
    workbook = openpyxl.Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Deckblatt"
    cover.append(["Polizeiliche Kriminalstatistik 2023"])
    sheet = workbook.create_sheet("T01_Kreise")
    for cells in [*lines[:4], sub, *lines[4:]]:
        sheet.append(
            [int(c.replace(",", "")) if c.replace(",", "").isdigit() else c for c in cells]
        )
    workbook.save(tmp_path / "T01_Kreise.xlsx")
    result = read_incidents(tmp_path / "T01_Kreise.xlsx", filename="T01_Kreise.xlsx")
    assert result.layout == "bka"
    assert set(result.table["area"]) == {"14713", "14729", "01001"}
    derived = result.derived_population
    assert derived is not None
    assert derived.set_index("area")["population"]["01001"] == pytest.approx(92_550, rel=1e-4)


def test_bka_german_numbers_with_whole_hz_values(tmp_path: Path) -> None:
    """HZ "1.234" alone is ambiguous; counts grouped as "80.123" show the German convention."""
    text = (
        "PKS 2023\n1;2;3;4;5;6;7\n"
        "Schlüssel;Straftat;Gemeindeschlüssel;Stadt-/Landkreis;Kreisart;erfasste Fälle;HZ\n"
        "------;Straftaten insgesamt;14713;Leipzig;Kreisfreie Stadt;12.340;1.234\n"
    )
    path = write(tmp_path / "bka.csv", text, "cp1252")
    result = read_incidents(path, filename="bka.csv")
    assert result.table["count"].tolist() == [12_340]
    assert result.derived_population is not None
    assert result.derived_population["population"].tolist() == [1_000_000]
