"""``sicherheitsanalyse setup``, ``demo reset`` and ``responses import``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import DEMO, DEMO_QUESTIONNAIRE_ID, demo_data, demo_questionnaire
from cli import app
from reporting import responses_csv
from storage import Accounts, Datasets, Store
from survey import load_action_fields, load_questionnaire
from tests.conftest import DEFAULT_QUESTIONNAIRE, QUESTIONNAIRES
from tests.fixtures import municipality_store

PASSWORD_LINE = re.compile(r"^Admin-Passwort \(nur jetzt sichtbar\): (\S+)$", re.MULTILINE)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--lang", "de"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_first_setup_prints_the_password_once(runner: CliRunner, database_url: str) -> None:
    args = ("setup", "--questionnaires", str(QUESTIONNAIRES), "--database-url", database_url)
    code, out, _ = invoke(runner, *args)
    assert code == 0
    found = PASSWORD_LINE.findall(out)
    assert len(found) == 1
    assert "Demo-Kommune Musterstadt (DEMO) angelegt" in out
    assert "800 synthetische Antworten" in out
    with Accounts(database_url) as accounts:
        assert accounts.verify("admin", found[0]).ok

    code, out, _ = invoke(runner, *args)
    assert code == 0
    assert "Admin-Passwort" not in out
    assert found[0] not in out
    assert "Administrator vorhanden." in out
    assert "ist vorhanden" in out


def test_setup_reports_a_broken_file_and_goes_on(
    runner: CliRunner, tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(DEFAULT_QUESTIONNAIRE, folder)
    (folder / "kaputt.yaml").write_text("meta: [\n", encoding="utf-8")
    code, out, err = invoke(
        runner, "setup", "--no-demo", "--questionnaires", str(folder), "--database-url", sqlite_url
    )
    assert code == 0
    assert "Traceback" not in out + err
    assert "Übersprungen:" in err
    assert "kaputt.yaml" in err
    assert "Fragebogen „sicherheitsbefragung“ veröffentlicht" in out
    assert "Demo-Kommune nicht angelegt (--no-demo)." in out
    with municipality_store(sqlite_url) as store:
        assert [r.id for r in store.questionnaires()] == ["sicherheitsbefragung"]


def test_setup_on_an_unreachable_database_is_one_line(runner: CliRunner) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    code, out, err = invoke(runner, "setup", "--no-demo", "--database-url", url)
    assert code == 1
    assert "Traceback" not in out + err
    assert err.startswith("Fehler: Die Datenbank ist nicht erreichbar oder nicht nutzbar:")
    assert len(err.strip().splitlines()) == 1


def test_demo_reset_restores_the_demo(runner: CliRunner, sqlite_url: str) -> None:
    invoke(runner, "setup", "--questionnaires", str(QUESTIONNAIRES), "--database-url", sqlite_url)
    questionnaire = demo_questionnaire()
    with Store(sqlite_url) as base:
        store = base.for_municipality(DEMO.ags)  # the demo is its own municipality
        store.remove_responses(DEMO_QUESTIONNAIRE_ID)
    code, out, _ = invoke(runner, "demo", "reset", "--database-url", sqlite_url)
    assert code == 0
    assert "zurückgesetzt: 800 Antworten" in out
    with Store(sqlite_url) as base:
        store = base.for_municipality(DEMO.ags)  # the demo is its own municipality
        assert len(store.responses(questionnaire)) == 800


def test_responses_import_stores_a_paper_file(
    runner: CliRunner, tmp_path: Path, database_url: str
) -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(database_url) as store:
        store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text("utf-8"))
    frame = demo_data(questionnaire, load_action_fields()).responses.head(25)
    path = tmp_path / "papier.csv"
    path.write_bytes(responses_csv(frame))
    code, out, _ = invoke(
        runner,
        "responses",
        "import",
        "--questionnaire",
        "sicherheitsbefragung",
        str(path),
        "--database-url",
        database_url,
    )
    assert code == 0, out
    assert "25 Antworten in „sicherheitsbefragung“ importiert (Modus: paper)." in out
    with municipality_store(database_url) as store:
        stored = store.responses(questionnaire)
    assert len(stored) == 25
    assert set(stored["mode"]) == {"paper"}


def test_responses_import_of_a_bad_file_names_every_bad_cell(
    runner: CliRunner, tmp_path: Path, database_url: str
) -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(database_url) as store:
        store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text("utf-8"))
    path = tmp_path / "papier.csv"
    path.write_text("sex;age_group;consent\n1;2;1\n\n9x;2;1\n1;2;jein\n", encoding="utf-8")
    code, out, err = invoke(
        runner,
        "responses",
        "import",
        "--questionnaire",
        "sicherheitsbefragung",
        str(path),
        "--database-url",
        database_url,
    )
    assert code == 1
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "papier.csv" in lines[0]
    assert "Zeile 4" in lines[0]
    assert "sex" in lines[0]
    assert "Bitte wählen Sie eine der angebotenen Antworten (nicht '9x')." in lines[0]
    assert "Zeile 5" in lines[1]
    assert "consent" in lines[1]
    with municipality_store(database_url) as store:
        assert len(store.responses(questionnaire)) == 0


def test_responses_import_into_an_unknown_questionnaire(
    runner: CliRunner, tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "papier.csv"
    path.write_text("sex\n1\n", encoding="utf-8")
    code, _, err = invoke(
        runner,
        "responses",
        "import",
        "--questionnaire",
        "gibtesnicht",
        str(path),
        "--database-url",
        sqlite_url,
    )
    assert code == 1
    assert "gibtesnicht" in err


def test_demo_remove_keeps_it_away_until_reset(runner: CliRunner, sqlite_url: str) -> None:
    args = ("setup", "--questionnaires", str(QUESTIONNAIRES), "--database-url", sqlite_url)
    invoke(runner, *args)
    code, out, _ = invoke(runner, "demo", "remove", "--database-url", sqlite_url)
    assert code == 0
    assert "entfernt" in out
    with Store(sqlite_url) as base:
        store = base.for_municipality(DEMO.ags)  # the demo is its own municipality
        assert len(store.responses(demo_questionnaire())) == 0
        assert Datasets(store.engine, store.municipality).list() == []
    code, out, _ = invoke(runner, *args)
    assert code == 0
    assert "wurde entfernt (zurückholen: sicherheitsanalyse demo reset)" in out
    with Store(sqlite_url) as base:
        store = base.for_municipality(DEMO.ags)  # the demo is its own municipality
        assert len(store.responses(demo_questionnaire())) == 0
    code, out, _ = invoke(runner, "demo", "reset", "--database-url", sqlite_url)
    assert code == 0
    with Store(sqlite_url) as base:
        store = base.for_municipality(DEMO.ags)  # the demo is its own municipality
        assert len(store.responses(demo_questionnaire())) == 800
