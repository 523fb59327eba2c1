"""``sicherheitsanalyse questionnaire publish`` / ``state``, ``setup`` over a live survey and
``codes letters``: what the manager sees, and what the database holds afterwards."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from app import setup_installation
from cli import app
from storage import QuestionnaireState
from survey import load_questionnaire
from tests.fixtures import municipality_store

runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml"


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--database-url", database_url, "--lang", "en"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.fixture
def town(tmp_path: Path) -> Path:
    path = tmp_path / "kleinstadt.yaml"
    path.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def answer(database_url: str, path: Path) -> None:
    """One resident's response to the published revision of ``path``."""
    with municipality_store(database_url) as store:
        store.set_state("kleinstadt", "open")
        result = store.submit(
            load_questionnaire(path), {"safe_night": 2}, language="de", submission_token="t" * 20
        )
        assert result.stored


def create_codes(database_url: str, out: Path, count: int) -> str:
    """A batch of ``count`` codes for the town's survey written to ``out``; its id."""
    code, output = run(
        database_url,
        "codes", "create", "--questionnaire", "kleinstadt", "--count", str(count), "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    return out.read_text(encoding="utf-8-sig").splitlines()[1].split(";")[1]


def letters(database_url: str, batch: str, codes: Path, out: Path, *extra: str) -> tuple[int, str]:
    return run(
        database_url,
        "codes", "letters", "--batch", batch, "--codes", str(codes), "--out", str(out), *extra,
    )  # fmt: skip


def edit(path: Path) -> None:
    """Rename a variable and relabel a code: what a town might do between two waves."""
    text = path.read_text(encoding="utf-8")
    text = text.replace("id: years_lived", "id: years_here").replace(
        "en: fairly unsafe", "en: rather unsafe"
    )
    path.write_text(text, encoding="utf-8")


def test_a_new_survey_is_published_as_a_draft_and_opened_by_state(
    sqlite_url: str, town: Path
) -> None:
    code, output = run(sqlite_url, "questionnaire", "publish", str(town))
    assert code == 0, output
    assert "Published: “kleinstadt”" in output
    assert "draft" in output
    with municipality_store(sqlite_url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.state is QuestionnaireState.DRAFT
    code, output = run(sqlite_url, "questionnaire", "publish", str(town))
    assert code == 0
    assert "already published" in output
    code, output = run(
        sqlite_url, "questionnaire", "state", "--questionnaire", "kleinstadt", "open"
    )
    assert code == 0, output
    with municipality_store(sqlite_url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.state is QuestionnaireState.OPEN


def test_a_changed_survey_with_responses_needs_a_new_version_and_shows_the_diff_first(
    sqlite_url: str, town: Path
) -> None:
    assert run(sqlite_url, "questionnaire", "publish", str(town))[0] == 0
    first = load_questionnaire(town).revision
    answer(sqlite_url, town)
    edit(town)

    code, output = run(sqlite_url, "questionnaire", "publish", str(town))
    assert code == 1
    assert "added: years_here" in output
    assert "removed: years_lived" in output
    assert "changed: safe_night, code 3: “fairly unsafe” → “rather unsafe”" in output
    assert "already has one response" in output
    assert "Nothing was changed." in output
    with municipality_store(sqlite_url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.revision == first

    code, output = run(sqlite_url, "questionnaire", "publish", str(town), "--new-version")
    assert code == 0, output
    assert "added: years_here" in output
    assert "Published as a new version" in output
    with municipality_store(sqlite_url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.revision == load_questionnaire(town).revision
        assert record.state is QuestionnaireState.OPEN  # a new version keeps the state
        assert len(store.responses(load_questionnaire(town))) == 1


def test_setup_skips_a_changed_live_survey_and_says_so(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    town = folder / "kleinstadt.yaml"
    town.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    setup_installation(sqlite_url, questionnaires=folder, demo=False)
    first = load_questionnaire(town).revision
    answer(sqlite_url, town)
    edit(town)

    result = runner.invoke(
        app,
        ["setup", "--questionnaires", str(folder), "--no-demo", "--database-url", sqlite_url],
        env={"SICHERHEITSANALYSE_LANG": "en"},
    )
    assert result.exit_code == 0, result.output
    assert "has changed, but the survey already has responses" in result.output
    assert "--new-version" in result.output
    with municipality_store(sqlite_url) as store:
        record = store.questionnaire("kleinstadt")
        assert record is not None
        assert record.revision == first


def test_a_questionnaire_with_errors_is_reported_where_and_nothing_changes(
    sqlite_url: str, town: Path
) -> None:
    assert run(sqlite_url, "questionnaire", "publish", str(town))[0] == 0
    broken = town.read_text(encoding="utf-8").replace("kind: number", "kind: numbr")
    town.write_text(broken, encoding="utf-8")
    code, output = run(sqlite_url, "questionnaire", "publish", str(town))
    assert code == 1
    line = broken.splitlines().index("        kind: numbr") + 1
    assert f"{town}:{line}:" in output
    assert "Nothing was changed." in output
    with municipality_store(sqlite_url) as store:
        assert len(store.questionnaires()) == 1


def test_letters_for_a_batch_from_its_codes_file(
    sqlite_url: str, town: Path, tmp_path: Path
) -> None:
    assert run(sqlite_url, "questionnaire", "publish", str(town))[0] == 0
    codes_file = tmp_path / "codes.csv"
    batch = create_codes(sqlite_url, codes_file, 4)
    rows = [line.split(";") for line in codes_file.read_text(encoding="utf-8-sig").splitlines()]
    assert rows[0] == ["code", "batch", "stratum"]
    codes = [row[0] for row in rows[1:]]

    pdf, docx = tmp_path / "letters.pdf", tmp_path / "letters.docx"
    code, output = letters(sqlite_url, batch, codes_file, pdf, "--docx", str(docx))
    assert code == 0, output
    assert "4 letters" in output
    pages = PdfReader(io.BytesIO(pdf.read_bytes())).pages
    assert len(pages) == 4
    assert all(c in p.extract_text() for c, p in zip(codes, pages, strict=True))
    assert docx.stat().st_size > 0


def test_letters_refuse_a_codes_file_of_another_batch_by_row(
    sqlite_url: str, town: Path, tmp_path: Path
) -> None:
    assert run(sqlite_url, "questionnaire", "publish", str(town))[0] == 0
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    batch = create_codes(sqlite_url, first, 2)
    create_codes(sqlite_url, second, 2)
    mixed = tmp_path / "mixed.csv"
    lines = first.read_text(encoding="utf-8-sig").splitlines()
    lines.append(second.read_text(encoding="utf-8-sig").splitlines()[2])
    lines.append("not-a-code;x;")
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "letters.pdf"
    code, output = letters(sqlite_url, batch, mixed, out)
    assert code == 1
    assert f"{mixed}: row 5: error: code:" in output  # the malformed code
    assert not out.exists()
    lines.pop()
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = letters(sqlite_url, batch, mixed, out)
    assert code == 1
    assert f"{mixed}: row 4: error: code: This code does not belong to batch {batch}" in output
    assert not out.exists()


def test_letters_need_a_known_batch_an_address_and_a_date(
    sqlite_url: str, town: Path, tmp_path: Path
) -> None:
    town.write_text(
        town.read_text(encoding="utf-8").replace("    url: https://befragung.kleinstadt.de\n", ""),
        encoding="utf-8",
    )
    assert run(sqlite_url, "questionnaire", "publish", str(town))[0] == 0
    codes_file, out = tmp_path / "codes.csv", tmp_path / "letters.pdf"
    batch = create_codes(sqlite_url, codes_file, 1)
    code, output = letters(sqlite_url, "nope", codes_file, out)
    assert code == 1
    assert "error: --batch: There is no code batch “nope”" in output
    code, output = letters(sqlite_url, batch, codes_file, out)
    assert code == 1
    assert "meta.letter.url" in output
    code, output = letters(sqlite_url, batch, codes_file, out, "--url", "befragung.kleinstadt.de")
    assert code == 1
    assert "is not a web address" in output
    code, output = letters(sqlite_url, batch, codes_file, out, "--deadline", "31.12.2026")
    assert code == 1
    assert "--deadline" in output
    assert not out.exists()
