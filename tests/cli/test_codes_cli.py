"""``sicherheitsanalyse codes``: the mail-merge CSV and clean failures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from storage import CodeStatus
from survey import normalise_code
from tests.conftest import QUESTIONNAIRES
from tests.fixtures import municipality_store

runner = CliRunner()


def run(*args: str, database_url: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "codes",
            *args,
            "--database-url",
            database_url,
            "--lang",
            "en",
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def create(out: Path, database_url: str, *extra: str) -> tuple[int, str]:
    return run(
        "create",
        "--questionnaire",
        "sicherheitsbefragung",
        "--questionnaires-dir",
        str(QUESTIONNAIRES),
        "--out",
        str(out),
        *extra,
        database_url=database_url,
    )


def test_create_writes_the_mail_merge_csv(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "codes.csv"
    code, output = create(out, database_url, "--count", "25", "--stratum", "Nord")
    assert code == 0, output
    assert "25" in output
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert len(rows) == 25
    assert set(rows[0]) == {"code", "batch", "stratum"}
    assert {row["stratum"] for row in rows} == {"Nord"}
    assert len({row["batch"] for row in rows}) == 1
    assert len({row["code"] for row in rows}) == 25
    with municipality_store(database_url) as store:
        assert store.check_code("sicherheitsbefragung", rows[0]["code"]) is CodeStatus.VALID
        [batch] = store.code_batches("sicherheitsbefragung")
        assert (batch.issued, batch.used, batch.stratum) == (25, 0, "Nord")
    assert all(normalise_code(row["code"]) for row in rows)
    code, output = run("list", "--questionnaire", "sicherheitsbefragung", database_url=database_url)
    assert code == 0
    assert f"{batch.id} | Nord" in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--count", "0"], "number of codes"),
        (["--count", "-3"], "number of codes"),
        (["--count", "2000000"], "number of codes"),
    ],
)
def test_a_bad_count_fails_cleanly_and_writes_nothing(
    tmp_path: Path, sqlite_url: str, args: list[str], expected: str
) -> None:
    code, output = create(tmp_path / "codes.csv", sqlite_url, *args)
    assert code == 1
    assert expected in output
    assert "Traceback" not in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.db", "test.db.keys"]


def test_a_count_that_is_not_a_number_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    code, output = create(tmp_path / "codes.csv", sqlite_url, "--count", "many")
    assert code == 2
    assert "Traceback" not in output


def test_an_unknown_questionnaire_fails_cleanly(tmp_path: Path, sqlite_url: str) -> None:
    code, output = run(
        "create",
        "--questionnaire",
        "nope",
        "--questionnaires-dir",
        str(QUESTIONNAIRES),
        "--count",
        "3",
        "--out",
        str(tmp_path / "codes.csv"),
        database_url=sqlite_url,
    )
    assert code == 1
    assert "nope" in output
    assert not (tmp_path / "codes.csv").exists()


def test_an_unwritable_path_fails_cleanly_and_creates_no_codes(
    tmp_path: Path, sqlite_url: str
) -> None:
    code, output = create(tmp_path / "missing" / "codes.csv", sqlite_url, "--count", "3")
    assert code == 1
    assert "Cannot write" in output
    with municipality_store(sqlite_url) as store:
        assert store.code_batches("sicherheitsbefragung") == []


def test_an_existing_code_list_is_never_overwritten(tmp_path: Path, sqlite_url: str) -> None:
    out = tmp_path / "codes.csv"
    out.write_text("earlier batch\n", encoding="utf-8")
    code, output = create(out, sqlite_url, "--count", "3")
    assert code == 1
    assert "already exists" in output
    assert out.read_text(encoding="utf-8") == "earlier batch\n"
