"""The perceived reference on the Prioritäten page and on the command line: the same table
gives the same ranks, reasons and warnings in both; a bad table is refused with its row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app import Workspace
from app._workspace import PAGE_DRAWS, PAGE_SEED
from cli import app as cli_app
from core import t
from storage import DATABASE_URL_ENV_VAR, Municipalities, Store
from tests.fixtures import seed_open_demo
from views._session import MANAGER_KEY, QUESTIONNAIRE_KEY, Manager
from views.priorities import TABLE, widget_key

QID = "sicherheitsbefragung"
REFERENCE = "field;share\ngraffiti;45 %\ngewalt;12 %\ndrogen;30 %\n"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('perceived') / 'app.db'}"
    seed_open_demo(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_ENV_VAR, url)
        yield url


def _page_with_table(name: str, text: str) -> AppTest:
    at = AppTest.from_string("from views import priorities\npriorities.render()\n")
    at.default_timeout = 180
    at.session_state[MANAGER_KEY] = Manager("anna", "local")
    at.session_state["manager.lang"] = "de"
    at.run()
    at.selectbox(key=widget_key(QID, "perceived_reference")).set_value(TABLE).run()
    at.file_uploader[0].upload(name, text.encode("utf-8"), "text/csv").run()
    assert not at.exception, at.exception
    return at


def _files_from_the_store(url: str, folder: Path) -> tuple[dict[str, Path], str, str]:
    """The questionnaire, responses, incidents and population the page reads, as files."""
    with Store(url) as store:
        inputs = Workspace(store).inputs(QID)
        source = store.questionnaire_source(QID)
    meta = inputs.questionnaire.meta
    assert meta.area
    assert meta.reference_area
    assert inputs.incidents is not None
    assert inputs.population is not None
    assert inputs.margins is not None
    paths = {n: folder / f"{n}.csv" for n in ("responses", "incidents", "population")}
    questionnaire = folder / "questionnaire.yaml"
    questionnaire.write_text(source, encoding="utf-8")
    paths["questionnaire"] = questionnaire
    inputs.responses.to_csv(paths["responses"], sep=";", index=False)
    named = [c for c in ("area", "area_name", "year", "key", "count") if c in inputs.incidents]
    inputs.incidents[named].to_csv(paths["incidents"], sep=";", index=False)
    totals = inputs.population[["area", "year", "population"]]
    pd.concat([totals, inputs.margins], ignore_index=True).to_csv(
        paths["population"], sep=";", index=False
    )
    return paths, meta.area, meta.reference_area


def test_page_and_command_line_give_the_same_ranks_reasons_and_warnings(
    demo_url: str, tmp_path: Path
) -> None:
    at = _page_with_table("befragung_2024.csv", REFERENCE)
    table = at.dataframe[0].value
    page_reasons = list(table[t("manager.col.reason", "de")])
    page_ranks = [int(r) for r in table[t("manager.col.rank", "de")]]
    # The analysis's warnings (the demo banner is the page's own), Markdown escapes removed.
    banner = t("manager.demo_banner", "de")[:20]
    page_warnings = [
        str(w.value).replace("\\", "") for w in at.warning if not str(w.value).startswith(banner)
    ]
    assert any("verglichen mit der Vergleichstabelle befragung_2024.csv (45 %)" in r
               for r in page_reasons)  # fmt: skip
    assert any("verglichen mit dem Richtwert 25 %" in r for r in page_reasons)

    files, area, reference = _files_from_the_store(demo_url, tmp_path)
    table_file = tmp_path / "befragung_2024.csv"
    table_file.write_text(REFERENCE, encoding="utf-8")
    out = tmp_path / "ranking.csv"
    result = CliRunner().invoke(
        cli_app,
        ["score", "--questionnaire", str(files["questionnaire"]),
         "--responses", str(files["responses"]), "--incidents", str(files["incidents"]),
         "--population", str(files["population"]), "--area", area, "--reference", reference,
         "--seed", str(PAGE_SEED), "--draws", str(PAGE_DRAWS), "--lang", "de",
         "--perceived-reference", str(table_file), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(out, dtype={"area": str})
    city = ranking[ranking["area"] == area]
    assert list(city["reason"]) == page_reasons
    assert [int(r) for r in city["rank"]] == page_ranks
    cli_warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(cli_warnings) == len(page_warnings)
    assert page_warnings
    for warning in page_warnings:
        assert any(warning[:80] in line for line in cli_warnings), (warning, cli_warnings)


def test_a_bad_reference_table_is_refused_with_its_row(demo_url: str) -> None:
    at = _page_with_table("ref.csv", "field;share\ngrafitti;0,45\n")
    errors = [str(e.value).replace("\\", "") for e in at.error]
    assert any("ref.csv:2:1" in e and "graffiti" in e for e in errors), errors
    assert not at.dataframe  # nothing ranked against a half-read table


def test_an_earlier_wave_in_the_database_is_the_reference_on_page_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closed demo survey stands in for last year's wave: the page compares with it when
    chosen, and `report --perceived-reference-wave` builds the same reference."""
    from app import DEMO, DEMO_QUESTIONNAIRE_ID, perceived_reference_wave, seed_demo

    url = f"sqlite:///{tmp_path / 'waves.db'}"
    with Store(url) as base:
        # Both waves in one municipality (an earlier wave is always the same town's): the
        # closed demo survey, and this year's open one beside it.
        seed_demo(base)
        store = base.for_municipality(DEMO.ags)
        seed_demo(store, closed_copy=False)
        Municipalities(base.engine).add_member("anna", DEMO.ags)
        ws = Workspace(store)
        wave = perceived_reference_wave(store, ws.datasets, DEMO_QUESTIONNAIRE_ID, ws.catalogue)
    assert wave.source == "wave"
    shares = wave.share_map()
    assert shares
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    at = AppTest.from_string("from views import priorities\npriorities.render()\n")
    at.default_timeout = 180
    at.session_state[MANAGER_KEY] = Manager("anna", "local")
    at.session_state["manager.lang"] = "de"
    at.session_state[QUESTIONNAIRE_KEY] = QID
    at.run()
    at.selectbox(key=widget_key(QID, "perceived_reference")).set_value(DEMO_QUESTIONNAIRE_ID).run()
    assert not at.exception, at.exception
    reasons = " ".join(at.dataframe[0].value[t("manager.col.reason", "de")])
    assert f"verglichen mit der Befragung „{wave.label}“" in reasons
    out = tmp_path / "bericht.html"
    result = CliRunner().invoke(
        cli_app,
        ["report", "--questionnaire", QID, "--out", str(out), "--format", "html",
         "--database-url", url, "--perceived-reference-wave", DEMO_QUESTIONNAIRE_ID,
         "--municipality", DEMO.ags],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"verglichen mit der Befragung „{wave.label}“" in out.read_text(encoding="utf-8")
