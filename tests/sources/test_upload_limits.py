"""Uploads that would take the server down are refused before they are parsed, with a located
message; files in an encoding we cannot read are refused instead of imported as garbage."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

import sources._tables as tables
from core import InvalidInput
from sources import read_incidents


def _keys(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [problem.key for problem in error.value.problems]


def zip_bomb(megabytes: int) -> bytes:
    """A tiny .xlsx-looking zip whose sheet unpacks to ``megabytes`` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"0" * (1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_workbook_is_refused_from_its_directory_alone() -> None:
    data = zip_bomb(64)
    assert len(data) < 200_000
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO(data), filename="bombe.xlsx")
    assert time.perf_counter() - started < 5  # refused, not unpacked (it took 94 s before)
    assert _keys(error) == ["tables.xlsx_too_large"]
    assert error.value.problems[0].location.file == "bombe.xlsx"


def test_an_oversized_upload_is_refused_before_it_is_read_whole() -> None:
    big = io.BytesIO(b"area;year;key;count\n" + b"14713;2025;899500;1\n" * 1_400_000)
    with pytest.raises(InvalidInput) as error:
        read_incidents(big, filename="riesig.csv")
    assert _keys(error) == ["tables.too_large"]
    assert big.tell() == tables.MAX_FILE_BYTES + 1  # stopped reading at the limit


def test_an_oversized_file_on_disk_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "riesig.csv"
    path.write_bytes(b"x" * (tables.MAX_FILE_BYTES + 1))
    with pytest.raises(InvalidInput) as error:
        read_incidents(path, filename=path.name)
    assert _keys(error) == ["tables.too_large"]


def test_too_many_rows_stop_reading_at_the_row_that_passed_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tables, "MAX_ROWS", 100)
    lines = ["area;year;key;count", *("14713;2025;899500;1" for _ in range(150))]
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO("\n".join(lines).encode()), filename="lang.csv")
    assert _keys(error) == ["tables.too_many_rows"]
    assert error.value.problems[0].location.line == 101


def test_a_shift_jis_file_is_refused_not_imported_as_garbage() -> None:
    text = "地域;年;キー;件数\n東京;2025;899500;12\n大阪;2025;899500;7\n"
    with pytest.raises(InvalidInput) as error:
        read_incidents(io.BytesIO(text.encode("shift_jis")), filename="japan.csv")
    assert _keys(error) == ["tables.undeclared_encoding"]
    assert "japan.csv" in error.value.problems[0].render("de")


def test_a_windows_1252_file_with_umlauts_is_still_read() -> None:
    text = "area;area_name;year;key;count\n14713;Leipzig-Mölkau;2025;899500;12\n"
    result = read_incidents(io.BytesIO(text.encode("cp1252")), filename="pks.csv")
    assert result.table["area_name"].tolist() == ["Leipzig-Mölkau"]


def test_the_server_accepts_no_upload_larger_than_the_reader_does() -> None:
    import tomllib

    config = tomllib.loads(
        (Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text("utf-8")
    )
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == tables.MAX_FILE_BYTES


def bka_village(hz: str, cases: str = "5") -> bytes:
    """A German-format BKA table of one village: the totals row and one offence."""
    lines = [
        "PKS 2025 - Grundtabelle - Gemeinden - Fälle",
        "1;2;3;4;5;6;7",
        "Schlüssel;Straftat;Gemeindeschlüssel;Stadt-/Landkreis;Kreisart;erfasste Fälle;HZ nach Zensus",
        f"------;Straftaten insgesamt;14729999;Musterdorf;G;{cases};{hz}",
        "899500;Graffiti;14729999;Musterdorf;G;1;333",
    ]
    return "\n".join(lines).encode("cp1252")


def test_an_ambiguous_rate_is_read_plausibly_and_said_at_its_cell() -> None:
    """German 1.667 (= 1667 per 100,000) with 5 cases is a village of 300, not of 299,940."""
    result = read_incidents(io.BytesIO(bka_village("1.667")), filename="dorf.csv", year=2025)
    assert result.derived_population is not None
    assert result.derived_population["population"].tolist() == [300]
    warning = next(w for w in result.warnings if w.key == "tables.ambiguous_hz")
    assert warning.location.line == 4
    assert warning.location.column == 7
    assert "299940" in warning.render("de") or "299.940" in warning.render("de")


def test_an_unambiguous_rate_gives_no_warning() -> None:
    result = read_incidents(io.BytesIO(bka_village("1.667,00")), filename="dorf.csv", year=2025)
    assert result.derived_population is not None
    assert result.derived_population["population"].tolist() == [300]
    assert not [w for w in result.warnings if w.key == "tables.ambiguous_hz"]
