"""Bad command-line input found in the audit (docs/bad-input.md): exit 1, one line per
problem with its place, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from survey import load_questionnaire
from tests.cli.test_score_cli import MUNICIPALITY, _score, files  # noqa: F401  (fixture)
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--lang", "en"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["missing.csv", ""], ids=["missing", "directory"])
def test_responses_import_of_a_path_that_is_no_file(
    tmp_path: Path, sqlite_url: str, name: str
) -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text("utf-8"))
    code, output = _invoke(
        "responses",
        "import",
        str(tmp_path / name),
        "--questionnaire",
        questionnaire.meta.id,
        "--database-url",
        sqlite_url,
    )
    assert code == 1
    assert "cannot be read" in output
    assert "Traceback" not in output
    with municipality_store(sqlite_url) as store:
        assert store.responses(questionnaire).empty


def test_score_with_a_huge_incident_count_names_its_cell(
    files: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    lines = files["incidents"].read_text("utf-8").splitlines()
    cells = lines[1].split(";")
    cells[-1] = "9" * 40
    lines[1] = ";".join(cells)
    files["incidents"].write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "ranking.csv"
    result = _score(files, out, "--incidents", str(files["incidents"]), "--area", MUNICIPALITY)
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    assert "incidents.csv:2:4: row 2: error: count:" in output
    assert "too large" in output
    assert not out.exists()


def test_score_into_a_directory_is_a_clean_error(
    files: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    result = _score(files, tmp_path, "--area", MUNICIPALITY)
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    assert "cannot be written" in output
    assert "Traceback" not in output
