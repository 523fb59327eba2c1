"""``sicherheitsanalyse paper``: print the forms of a codes file, read scans, refuse to store
while answers are unreviewed, store after the review file is filled in."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pypdf import PdfReader
from typer.testing import CliRunner

from app import value_text
from app._synthetic_scans import Degradation, degrade, fill_form, images_pdf, rasterise
from cli import app
from reporting import paper_layout
from survey import load_questionnaire
from tests.conftest import DEFAULT_QUESTIONNAIRE, QUESTIONNAIRES
from tests.fixtures import municipality_store

runner = CliRunner()
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)


def run(*args: str, database_url: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--database-url", database_url, "--lang", "en"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_print_scan_review_and_store(
    tmp_path: Path, sqlite_url: str, rng: np.random.Generator
) -> None:
    codes = tmp_path / "codes.csv"
    code, output = run(
        "codes", "create", "--questionnaire", QUESTIONNAIRE.id, "--questionnaires-dir",
        str(QUESTIONNAIRES), "--count", "2", "--out", str(codes), database_url=sqlite_url,
    )  # fmt: skip
    assert code == 0, output
    forms = tmp_path / "forms.pdf"
    code, output = run(
        "paper", "print", QUESTIONNAIRE.id, "--codes", str(codes), "-o", str(forms),
        "--language", "en", database_url=sqlite_url,
    )  # fmt: skip
    assert code == 0, output
    layout = paper_layout(QUESTIONNAIRE, "en")
    assert len(PdfReader(forms).pages) == 2 * layout.pages

    pages = rasterise(forms.read_bytes(), 200)[: layout.pages]
    filled = fill_form(pages, layout, 200, rng, blank_rate=0.0)
    spoilt = [
        degrade(p, 200, Degradation(angle=1.5, blur=0.05, noise=6), rng) for p in filled.pages
    ]
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(images_pdf(spoilt, 200))
    review = tmp_path / "review"

    code, output = run("paper", "scan", QUESTIONNAIRE.id, str(scan), database_url=sqlite_url)
    assert code == 1
    assert "--review-dir" in output
    code, output = run(
        "paper", "scan", QUESTIONNAIRE.id, str(scan), "--review-dir", str(review),
        database_url=sqlite_url,
    )  # fmt: skip
    assert code == 2, output
    assert "Nothing stored" in output
    with (review / "review.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert {r["answer_id"] for r in rows} >= set(filled.written)
    assert all((review / r["image"]).read_bytes().startswith(b"\x89PNG") for r in rows)
    with municipality_store(sqlite_url) as store:
        assert len(store.responses(QUESTIONNAIRE)) == 0

    # The reviewer's answers: what was ticked or written; "-" for nothing.
    for row in rows:
        ticked = [
            value_text(m.value)
            for m in layout.marks
            if m.answer_id == row["answer_id"] and filled.ticked(m.key)
        ]
        row["answer"] = filled.written.get(row["answer_id"]) or ",".join(ticked) or "-"
    resolved = review / "review.csv"

    def write(rows: list[dict[str, str]]) -> None:
        with resolved.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(rows)

    # A row that belongs to no open review is located; nothing stored.
    write([*rows, {**rows[0], "code": "K7QM-P3XA-9TFD"}])
    code, output = run(
        "paper", "scan", QUESTIONNAIRE.id, str(scan), "--resolved", str(resolved),
        database_url=sqlite_url,
    )  # fmt: skip
    assert code == 1
    assert f"review.csv: row {len(rows) + 2}" in output
    write(rows)
    code, output = run(
        "paper", "scan", QUESTIONNAIRE.id, str(scan), "--resolved", str(resolved),
        database_url=sqlite_url,
    )  # fmt: skip
    assert code == 0, output
    assert "1 paper forms stored" in output
    with municipality_store(sqlite_url) as store:
        assert list(store.responses(QUESTIONNAIRE)["mode"]) == ["scanned"]
    # Again: the code is used now.
    code, output = run(
        "paper", "scan", QUESTIONNAIRE.id, str(scan), "--resolved", str(resolved),
        database_url=sqlite_url,
    )  # fmt: skip
    assert code == 1
    assert "already been used" in output


def test_print_refuses_foreign_codes_and_files(tmp_path: Path, sqlite_url: str) -> None:
    codes = tmp_path / "codes.csv"
    run(
        "codes", "create", "--questionnaire", QUESTIONNAIRE.id, "--questionnaires-dir",
        str(QUESTIONNAIRES), "--count", "1", "--out", str(codes), database_url=sqlite_url,
    )  # fmt: skip
    text = codes.read_text(encoding="utf-8-sig")
    batch = text.splitlines()[1].split(";")[1]
    codes.write_text(text + f"K7QM-P3XA-9TFD;{batch};\n", encoding="utf-8")
    code, output = run(
        "paper", "print", QUESTIONNAIRE.id, "--codes", str(codes), "-o",
        str(tmp_path / "x.pdf"), database_url=sqlite_url,
    )  # fmt: skip
    assert code == 1
    assert "codes.csv" in output
    assert not (tmp_path / "x.pdf").exists()
    code, output = run("paper", "scan", QUESTIONNAIRE.id, str(codes), database_url=sqlite_url)
    assert code == 1
    assert "neither a PDF nor an image" in output
