"""``sicherheitsanalyse validate`` and ``codebook``: exit codes, one line per problem, no traceback."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from survey import CODEBOOK_COLUMNS, load_questionnaire
from tests.conftest import ACTION_FIELDS, DEFAULT_QUESTIONNAIRE, QUESTIONNAIRES

BROKEN = Path(__file__).resolve().parent.parent / "survey" / "broken"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: line (\d+): (.+)$")

runner = CliRunner()


def _expectation(path: Path) -> tuple[int, str]:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    match = _EXPECT.match(header)
    assert match, f"{path.name}: first line must be '# expect: line N: <fragment>'"
    return int(match.group(1)), match.group(2)


def test_the_corpus_is_big_enough() -> None:
    assert len(BROKEN_FILES) >= 25


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_each_broken_questionnaire_exits_1_with_one_error_at_the_expected_line(
    path: Path,
) -> None:
    line, fragment = _expectation(path)
    result = runner.invoke(app, ["validate", str(path), "--lang", "en"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [row for row in result.output.splitlines() if ": error: " in row]
    assert len(errors) == 1, result.output
    (error,) = errors
    assert error.startswith(f"{path}:{line}:"), error
    assert fragment in error, error


def test_the_shipped_questionnaires_validate() -> None:
    files = sorted(str(p) for p in QUESTIONNAIRES.glob("*.yaml"))
    result = runner.invoke(app, ["validate", *files])
    assert result.exit_code == 0, result.output
    assert "Fehler" not in result.output
    assert str(ACTION_FIELDS) in result.output


def test_missing_file_and_directory_exit_1_without_traceback(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", str(tmp_path / "nope.yaml"), str(tmp_path), "--lang", "de"]
    )
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path / 'nope.yaml'}: Fehler: Datei nicht gefunden",
        f"{tmp_path}: Fehler: ist ein Verzeichnis, erwartet wird eine YAML-Datei",
    ]


def test_german_is_the_default_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SICHERHEITSANALYSE_LANG", raising=False)
    path = BROKEN / "unknown_key.yaml"
    result = runner.invoke(app, ["validate", str(path)])
    assert ": Fehler: " in result.output
    assert "unbekannter Schlüssel „lable“" in result.output
    monkeypatch.setenv("SICHERHEITSANALYSE_LANG", "en")
    assert ": error: " in runner.invoke(app, ["validate", str(path)]).output


def test_warnings_are_printed_but_do_not_fail(tmp_path: Path) -> None:
    text = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
    target = tmp_path / "q.yaml"
    target.write_text(text.replace("languages: [de, en]", "languages: [de, en, pl]", 1), "utf-8")
    result = runner.invoke(app, ["validate", str(target), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert ": warning: " in result.output
    assert "translation 'pl' is missing" in result.output


def test_codebook_csv_lists_every_variable() -> None:
    result = runner.invoke(app, ["codebook", str(DEFAULT_QUESTIONNAIRE), "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(StringIO(result.output), dtype=str, keep_default_na=False)
    assert tuple(table.columns) == CODEBOOK_COLUMNS
    expected = [v.id for v in load_questionnaire(DEFAULT_QUESTIONNAIRE).variables()]
    assert table["variable"].tolist() == expected


def test_codebook_json_in_english() -> None:
    result = runner.invoke(
        app, ["codebook", str(DEFAULT_QUESTIONNAIRE), "--format", "json", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    district = next(row for row in rows if row["design"] == "district")
    assert district["kind"] == "single"
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    label = questionnaire.item(district["item_id"]).label
    assert district["question"] == label["en"] != label["de"]


def test_codebook_of_a_broken_file_or_bad_format_exits_1() -> None:
    broken = runner.invoke(app, ["codebook", str(BROKEN / "unknown_key.yaml"), "--lang", "en"])
    assert broken.exit_code == 1
    assert "unknown key 'lable'" in broken.output
    bad = runner.invoke(
        app, ["codebook", str(DEFAULT_QUESTIONNAIRE), "--format", "xml", "--lang", "en"]
    )
    assert bad.exit_code == 1
    assert bad.output.strip() == "error: unknown format 'xml'; allowed: csv, json"
