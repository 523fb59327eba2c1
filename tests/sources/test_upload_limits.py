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
