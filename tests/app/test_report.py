"""The Sicherheitsanalyse report from a real database: the demo municipality (800 responses,
three police years) and a survey of 6 responses, through ``sicherheitsanalyse report``.

The same headings in PDF (bookmarks), DOCX and HTML; the HTML small and self-contained; the
survey year in the title, not the police year; with 6 responses every survey chapter says in
a sentence what cannot be said, and no "None", "nan" or placeholder appears anywhere.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from app import Workspace, render_report_file, report_document, report_file_name
from app._report import report_html
from cli import app as cli
from core import t
from reporting import Bullets, Document, Figure, KeyFindings, Paragraph, Table
from tests.fixtures import municipality_store, seed_open_demo
from tests.reporting.test_report_document import outline_titles, strip_number

QUESTIONNAIRE = "sicherheitsbefragung"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'demo.db'}"
    seed_open_demo(url)
    return url


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Document]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'tiny.db'}"
    seed_open_demo(url, responses=6)
    with municipality_store(url) as store:
        workspace = Workspace(store)
        inputs = workspace.inputs(QUESTIONNAIRE)
        analysis = workspace.analyse(inputs)
        yield report_document(analysis, inputs, workspace.catalogue, "de")


def report(out: Path, url: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        cli,
        [
            "report",
            "--questionnaire",
            QUESTIONNAIRE,
            "--out",
            str(out),
            "--database-url",
            url,
            *list(extra),
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def texts(document: Document) -> Iterator[str]:
    """Every text of the document, as a reader sees it."""
    yield from (document.title, document.subtitle, document.publisher, document.banner)
    for label, value in document.facts:
        yield from (label, value)
    for section in document.sections:
        yield section.title
        for block in section.blocks:
            if isinstance(block, Paragraph):
                yield block.text
            elif isinstance(block, Bullets):
                yield from block.items
            elif isinstance(block, KeyFindings):
                yield from (block.title, *block.items)
            elif isinstance(block, Table):
                yield from (block.caption, *block.header)
                for row in block.rows:
                    yield from row
            else:
                yield from (block.caption, block.alt)


def pdf_headings(data: bytes) -> list[str]:
    return [strip_number(title) for title in outline_titles(PdfReader(io.BytesIO(data)))]


def test_the_demo_report_in_three_formats_has_the_same_headings(
    demo_url: str, tmp_path: Path
) -> None:
    for suffix in ("pdf", "docx", "html"):
        code, output = report(tmp_path / f"bericht.{suffix}", demo_url)
        assert code == 0, output
        assert str(tmp_path / f"bericht.{suffix}") in output
    pdf = (tmp_path / "bericht.pdf").read_bytes()
    word = docx.Document(str(tmp_path / "bericht.docx"))
    page = (tmp_path / "bericht.html").read_text(encoding="utf-8")
    headings = pdf_headings(pdf)
    chapters = [
        t(f"document.ch.{key}", "de")
        for key in ("summary", "method", "safety", "worry", "victims", "police")
    ]
    assert [h for h in headings if h in chapters] == chapters
    assert t("document.ch.limitations", "de") in headings
    assert t("document.ch.glossary", "de") == headings[-1]
    word_headings = [
        p.text
        for p in word.paragraphs
        if p.style is not None and p.style.name.startswith("Heading")
    ]
    assert word_headings == headings
    html_headings = [
        re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[2-4][^>]*>(.*?)</h[2-4]>", page)
    ]
    assert [h.replace("&amp;", "&") for h in html_headings] == headings
    # Small and offline: inline SVG charts, no script, nothing fetched.
    assert len(page.encode("utf-8")) < 2_000_000
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["'](?!#)""", page)
    # The title names the survey's year (2026), the police year is named as such (2025).
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Sicherheitsanalyse Musterstadt (DEMO) 2026"
    assert "Berichtsjahr 2025" in reader.pages[0].extract_text()


def test_the_report_file_name_and_english(demo_url: str, tmp_path: Path) -> None:
    with municipality_store(demo_url) as store:
        workspace = Workspace(store)
        inputs = workspace.inputs(QUESTIONNAIRE)
        analysis = workspace.analyse(inputs)
        document = report_document(analysis, inputs, workspace.catalogue, "en")
        name = report_file_name(analysis, inputs, "pdf", "en")
        # The drop-in for the old report_html: same arguments, the new HTML.
        page = report_html(analysis, inputs, workspace.catalogue, "en", municipality="Testtown")
    assert name == "Security_analysis_Musterstadt__DEMO_2026.pdf"
    assert [title for _, title in document.headings()][:2] == ["Summary", "Short press summary"]
    assert render_report_file(document, "pdf").startswith(b"%PDF")
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert "<title>Security analysis Testtown 2026</title>" in page


def test_six_responses_say_what_cannot_be_said(tiny: Document) -> None:
    every = list(texts(tiny))
    joined = "\n".join(every)
    assert not re.search(r"\b(None|nan|NaN|NA|inf)\b|<NA>", joined)
    assert "Hier tragen Sie" not in joined  # the old report's placeholder
    assert all(text.strip() for text in every if text is not tiny.banner)
    caution = t("document.not_analysable", "de", n=6, n_eff="0", minimum=0).split(":")[0]
    survey_chapters = {
        t(f"document.ch.{key}", "de") for key in ("method", "safety", "worry", "victims")
    }
    for section in tiny.sections:
        if section.title in survey_chapters:
            assert any(
                isinstance(b, Paragraph) and b.kind == "caution" and b.text.startswith(caution)
                for b in section.blocks
            ), section.title
        if section.title in survey_chapters - {t("document.ch.method", "de")}:
            assert not any(isinstance(b, Figure) for b in section.blocks), section.title
    # Every district has fewer than 5 answers: each profile says so instead of a share.
    small = t("document.district_small", "de", n=5)
    districts = [
        s
        for s in tiny.sections
        if any(isinstance(b, Paragraph) and b.text == small for b in s.blocks)
    ]
    assert len(districts) == 6
    # The PDF still renders, with no empty chart.
    assert render_report_file(tiny, "pdf").startswith(b"%PDF")


def test_bad_input_is_located_and_writes_nothing(demo_url: str, tmp_path: Path) -> None:
    cases = [
        (tmp_path / "bericht.txt", (), "--format"),
        (tmp_path / "missing" / "bericht.pdf", (), "--out"),
        (tmp_path / "bericht.pdf", ("--format", "odt"), "--format"),
    ]
    for out, extra, where in cases:
        code, output = report(out, demo_url, *extra)
        assert code == 1
        assert where in output
        assert "Traceback" not in output
        assert not out.exists()
    recommendations = tmp_path / "empfehlungen.yaml"
    recommendations.write_text("grafiti: mehr Flächen\n", encoding="utf-8")
    code, output = report(tmp_path / "b.pdf", demo_url, "--recommendations", str(recommendations))
    assert code == 1
    assert "grafiti" in output
    # A second --questionnaire overrides the helper's: the last one counts.
    code, output = report(tmp_path / "c.pdf", demo_url, "--questionnaire", "gibt-es-nicht")
    assert code == 1
    assert "gibt-es-nicht" in output
    assert list(tmp_path.iterdir()) == [recommendations]


def test_the_managers_text_and_typical_measures_but_never_a_placeholder(
    demo_url: str,
) -> None:
    with municipality_store(demo_url) as store:
        workspace = Workspace(store)
        inputs = workspace.inputs(QUESTIONNAIRE)
        analysis = workspace.analyse(inputs)
        document = report_document(
            analysis,
            inputs,
            workspace.catalogue,
            "de",
            recommendations={"graffiti": "Ein Graffiti-Mobil <b>ab Mai</b>.", "gewalt": "  "},
        )
    ranked = analysis.ranking[analysis.ranking["area"] == analysis.area]
    recommendation_titles = [s.title for s in document.sections if s.title.startswith("Rang ")]
    assert len(recommendation_titles) == int(ranked["rank"].notna().sum())
    joined = "\n".join(texts(document))
    assert "Ein Graffiti-Mobil <b>ab Mai</b>." in joined
    assert "Hier tragen Sie" not in joined  # the old report's placeholder


def test_without_responses_and_police_data_the_report_says_so(demo_url: str) -> None:
    with municipality_store(demo_url) as store:
        workspace = Workspace(store)
        full = workspace.inputs(QUESTIONNAIRE)
        inputs = dataclasses.replace(
            full, responses=full.responses.head(0), incidents=None, population=None, margins=None
        )
        analysis = workspace.analyse(inputs)
        document = report_document(analysis, inputs, workspace.catalogue, "de")
    joined = "\n".join(texts(document))
    assert t("document.no_responses.none", "de") in joined
    assert t("document.priorities_small.none", "de") in joined
    assert t("document.no_police", "de") in joined
    assert "Schwerpunkte" not in joined  # no priorities named without a ranking
    assert not any(isinstance(b, Figure) for s in document.sections for b in s.blocks)
    for report_format in ("pdf", "docx", "html"):
        assert render_report_file(document, report_format)
