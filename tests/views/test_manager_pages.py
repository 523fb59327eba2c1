"""The manager pages through AppTest, signed in, against a real SQLite database holding the
demo municipality (800 synthetic responses, three years of incidents, population margins)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from streamlit.testing.v1 import AppTest

from app import csv_bytes
from core import t
from sources import read_incidents
from storage import DATABASE_URL_ENV_VAR, DatasetKind, Datasets
from tests.fixtures import fixture_bytes, municipality_store, seed_open_demo
from views._cache import CHOICE_KEY, Choice
from views._edge import is_download_pass_script
from views._session import MANAGER_KEY, Manager
from views.priorities import widget_key

QID = "sicherheitsbefragung"

TIMEOUT = 180


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('manager') / 'app.db'}"
    seed_open_demo(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_ENV_VAR, url)
        yield url


@pytest.fixture
def empty_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    municipality_store(url).close()  # the test town, whose member the signed-in manager is
    return url


def page(module: str, lang: str = "de") -> AppTest:
    """A signed-in manager's session on one page."""
    at = AppTest.from_string(f"from views import {module}\n{module}.render()\n")
    at.default_timeout = TIMEOUT
    at.session_state[MANAGER_KEY] = Manager("anna", "local")
    at.session_state["manager.lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def remembered_choice_of(at: AppTest) -> Choice:
    choice = at.session_state[CHOICE_KEY][QID]
    assert isinstance(choice, Choice)
    return choice


def texts(at: AppTest) -> str:
    parts = [e.value for e in [*at.title, *at.subheader, *at.markdown, *at.caption]]
    parts += [e.value for e in [*at.error, *at.warning, *at.success, *at.info]]
    return "\n".join(str(p) for p in parts)


# --- overview ---------------------------------------------------------------------------------


def test_overview_shows_state_responses_and_sample(demo_url: str) -> None:
    at = page("overview")
    assert t("manager.overview.title", "de") in texts(at)
    assert t("manager.demo_banner", "de") in texts(at)
    assert at.metric[0].value == "800"
    sample = at.dataframe[-1].value
    assert t("manager.col.population_share", "de") in sample.columns
    # Cells of fewer than 5 respondents carry no number.
    counts = sample[t("manager.col.sample", "de")]
    hidden = counts == t("report.suppressed_cell", "de")
    assert hidden.any()
    assert (counts[~hidden].astype(int) >= 5).all()
    shares = sample[t("manager.col.sample_share", "de")]
    assert (shares[hidden] == t("report.suppressed_cell", "de")).all()


def test_overview_creates_a_code_batch_and_offers_its_csv(demo_url: str) -> None:
    at = page("overview")
    at.number_input[0].set_value(7)
    at.text_input[0].input("Altstadt")
    create = t("manager.overview.create_codes", "de")
    next(b for b in at.button if b.label == create).click().run()
    assert not at.exception, at.exception
    assert at.download_button(key="manager.overview.download_codes") is not None
    with municipality_store(demo_url) as store:
        batches = store.code_batches("sicherheitsbefragung")
    assert [(b.issued, b.used, b.stratum) for b in batches] == [(7, 0, "Altstadt")]
    rates, strata = at.dataframe[1].value, at.dataframe[2].value
    assert rates[t("manager.col.issued", "de")].tolist() == ["7"]
    assert strata[t("manager.col.stratum", "de")].tolist() == ["Altstadt"]
    assert strata[t("manager.col.rate", "de")].tolist() == ["0,0 %"]


def test_overview_closes_and_reopens_the_survey(demo_url: str) -> None:
    at = page("overview")
    for state in ("closed", "open"):
        at.radio(key="manager.overview.state.sicherheitsbefragung").set_value(state).run()
        assert not at.exception, at.exception
        with municipality_store(demo_url) as store:
            record = store.questionnaire("sicherheitsbefragung")
        assert record is not None
        assert record.state.value == state


def test_overview_without_questionnaires_says_so(empty_url: str) -> None:
    at = page("overview")
    assert t("manager.no_questionnaires", "de") in texts(at)


# --- data -------------------------------------------------------------------------------------


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    uploader = at.file_uploader[0]
    uploader.upload(name, data, "text/csv").run()
    assert not at.exception, at.exception
    return at


def test_data_page_shows_every_bad_row_and_saves_nothing(empty_url: str) -> None:
    good = pd.read_csv(io.BytesIO(fixture_bytes("pks.csv")), sep=";", dtype=str)
    bad = good.copy()
    bad.loc[3, "count"] = "viele"
    bad.loc[10, "year"] = "20x4"
    at = _upload(page("data"), "pks.csv", csv_bytes(bad))
    assert t("manager.data.rejected", "de", count=2, file="pks.csv") in texts(at)
    problems = at.dataframe[0].value
    assert problems[t("manager.col.row", "de")].tolist() == [5, 12]
    assert not [b for b in at.button if b.label == t("manager.data.save", "de")]
    with municipality_store(empty_url) as store:
        assert Datasets(store.engine, store.municipality).list() == []


def test_data_page_skips_bad_rows_on_request_and_saves(empty_url: str) -> None:
    good = pd.read_csv(io.BytesIO(fixture_bytes("pks.csv")), sep=";", dtype=str)
    bad = good.copy()
    bad.loc[3, "count"] = "-1"
    at = page("data")
    at.checkbox(key="manager.data.skip").check().run()
    _upload(at, "pks.csv", csv_bytes(bad))
    assert t("manager.data.skipped", "de", count=1) in texts(at)
    [save] = [b for b in at.button if b.label == t("manager.data.save", "de")]
    save.click().run()
    assert not at.exception, at.exception
    with municipality_store(empty_url) as store:
        [saved] = Datasets(store.engine, store.municipality).list()
    assert saved.kind is DatasetKind.INCIDENTS
    assert saved.row_count == len(good) - 1
    assert saved.years == (2023, 2024, 2025)
    at.run()
    assert "pks.csv" in texts(at)
    [delete] = [b for b in at.button if b.label == t("manager.data.delete", "de")]
    delete.click().run()
    with municipality_store(empty_url) as store:
        assert Datasets(store.engine, store.municipality).list() == []


def test_data_page_rejects_an_unreadable_file(empty_url: str) -> None:
    at = _upload(page("data"), "kaputt.csv", b"\x00\x01\x02binary")
    assert at.error
    with municipality_store(empty_url) as store:
        assert Datasets(store.engine, store.municipality).list() == []


# --- priorities -------------------------------------------------------------------------------


def test_priorities_ranks_the_fields_with_intervals_and_reasons(demo_url: str) -> None:
    at = page("priorities")
    assert t("manager.demo_banner", "de") in texts(at)
    table = at.dataframe[0].value
    assert table[t("manager.col.rank", "de")].tolist() == list(range(1, 9))
    assert table[t("manager.col.rank_interval", "de")].str.contains("–").all()
    assert table[t("manager.col.priority", "de")].str.fullmatch(r"\d+,\d\d").all()  # 0,64
    assert table[t("manager.col.reason", "de")].str.len().gt(10).all()
    assert len(at.get("plotly_chart")) == 1  # the ranked bars first


@pytest.mark.parametrize("chart", ["rank", "quadrant", "heatmap", "funnel", "trend"])
def test_priorities_draws_each_chart(demo_url: str, chart: str) -> None:
    at = page("priorities")
    at.segmented_control(key="manager.priorities.chart").set_value(chart).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1


def test_priorities_weight_slider_re_ranks_and_shows_the_shift(demo_url: str) -> None:
    at = page("priorities")
    before = at.dataframe[0].value
    shift = t("manager.col.shift", "de")
    assert set(before[shift]) == {"="}
    at.slider(key=widget_key(QID, "weight_registered")).set_value(0.0).run()
    assert not at.exception, at.exception
    # Remembered for this session: the exports use the same weights.
    assert remembered_choice_of(at) == Choice(year=2025, registered=0.0)
    after = at.dataframe[0].value
    assert set(after[shift]) != {"="}
    assert (
        after[t("manager.col.field", "de")].tolist()
        != before[t("manager.col.field", "de")].tolist()
    )


def test_priorities_area_selector_covers_each_district(demo_url: str) -> None:
    at = page("priorities")
    selector = at.selectbox(key="manager.priorities.area")
    assert len(selector.options) == 7  # the municipality and its six districts
    selector.set_value("05").run()
    assert not at.exception, at.exception
    assert "Bahnhofsviertel" in texts(at)


def test_priorities_suppresses_small_cells(demo_url: str) -> None:
    at = page("priorities")
    at.selectbox(key="manager.priorities.area").set_value("06").run()
    respondents = at.dataframe[0].value[t("manager.col.respondents", "de")]
    hidden = t("report.suppressed_cell", "de")
    assert all(v == hidden or int(v.replace(".", "")) >= 5 for v in respondents)


def test_priorities_shows_free_text_escaped(demo_url: str) -> None:
    at = page("priorities")
    at.segmented_control(key="manager.priorities.chart").set_value("free_text").run()
    # The page frame's download pass (views/_edge.py) is the one script a manager page has.
    shown = [h.value for h in at.get("html") if not is_download_pass_script(h.value)]
    assert shown
    assert all("<script" not in html.lower() for html in shown)


def test_priorities_in_english(demo_url: str) -> None:
    at = page("priorities", "en")
    assert t("manager.priorities.title", "en") in texts(at)
    assert t("manager.col.field", "en") in at.dataframe[0].value.columns
    assert at.dataframe[0].value[t("manager.col.priority", "en")].str.fullmatch(r"\d+\.\d\d").all()


def test_priorities_without_incidents_ranks_by_the_survey_alone(empty_url: str) -> None:
    seed_open_demo(empty_url, responses=60, incidents=False)
    at = page("priorities")
    assert t("manager.priorities.no_incidents", "de") in texts(at)
    assert at.dataframe[0].value[t("manager.col.rank", "de")].notna().all()


# --- exports ----------------------------------------------------------------------------------


def test_exports_offer_every_file(demo_url: str, tmp_path: Path) -> None:
    at = page("exports")
    keys = {b.key for b in at.download_button}
    assert {
        "manager.exports.responses_csv",
        "manager.exports.responses_xlsx",
        "manager.exports.responses_sav",
        "manager.exports.codebook_csv",
        "manager.exports.ranking_csv",
        "manager.exports.ranking_xlsx",
        "manager.exports.report_pdf",
        "manager.exports.report_html",
        "manager.exports.report_docx",
    } <= keys
    [field_text, *_rest] = at.text_area
    field_text.input("Mehr <b>Licht</b> am Bahnhof").run()
    assert not at.exception, at.exception


def test_report_and_spss_contents(demo_url: str, tmp_path: Path) -> None:
    from app import Workspace, report_html

    with municipality_store(demo_url) as store:
        workspace = Workspace(store)
        inputs = workspace.inputs("sicherheitsbefragung")
        analysis = workspace.analyse(inputs)
        first = str(analysis.ranking["field"].iloc[0])
        document = report_html(
            analysis, inputs, workspace.catalogue, "de", recommendations={first: "<b>x</b>"}
        )
    assert "Sicherheitsanalyse Musterstadt (DEMO)" in document
    assert "&lt;b&gt;x&lt;/b&gt;" in document
    from reporting import responses_sav

    path = tmp_path / "antworten.sav"
    path.write_bytes(responses_sav(inputs.responses, inputs.questionnaire, "de"))
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 800
    assert meta.variable_value_labels


def test_incident_import_used_by_the_seed_reads_back(demo_url: str) -> None:
    result = read_incidents(io.BytesIO(fixture_bytes("pks.csv")), filename="pks.csv")
    assert set(result.table["year"]) == {2023, 2024, 2025}


def test_free_text_with_markup_is_shown_escaped(empty_url: str) -> None:
    questionnaire = seed_open_demo(empty_url, responses=60, datasets=False)
    [*_others, last_text] = [v.id for v in questionnaire.variables() if v.kind == "text"]
    with municipality_store(empty_url) as store:
        for number in range(5):
            result = store.submit(
                questionnaire,
                {last_text: f"<script>alert({number})</script> & mehr Licht"},
                language="de",
                submission_token=f"token-for-escape-test-{number}",
            )
            assert result.stored
    at = page("priorities")
    at.segmented_control(key="manager.priorities.chart").set_value("free_text").run()
    # The page frame's download pass (views/_edge.py) is the one script a manager page has.
    shown = "\n".join(h.value for h in at.get("html") if not is_download_pass_script(h.value))
    assert "&lt;script&gt;alert(0)&lt;/script&gt; &amp; mehr Licht" in shown
    assert "<script" not in shown


def test_the_seeded_demo_and_real_uploads_never_mix(empty_url: str) -> None:
    from app import DEMO, DEMO_QUESTIONNAIRE_ID, Workspace
    from app import seed_demo as seed_installation_demo

    with municipality_store(empty_url) as store:
        seed_installation_demo(store)
    real = seed_open_demo(empty_url, responses=50)  # uploads "pks.csv" and "bevoelkerung.csv"
    extra = read_incidents(
        io.BytesIO(b"area;year;key;count\n14999000;2025;------;5\n"), filename="extra.csv"
    )
    with municipality_store(empty_url) as store:
        Datasets(store.engine, store.municipality).save(
            DatasetKind.INCIDENTS, extra, source="extra.csv"
        )
        workspace = Workspace(store)
        demo_inputs = Workspace(store, municipality=DEMO.ags).inputs(DEMO_QUESTIONNAIRE_ID)
        real_inputs = workspace.inputs(real.id)
    assert demo_inputs.incidents is not None
    assert real_inputs.incidents is not None
    assert "14999000" in set(real_inputs.incidents["area"].astype(str))
    assert "14999000" not in set(demo_inputs.incidents["area"].astype(str))


def test_data_page_reads_a_bka_table_with_its_derived_population(
    empty_url: str, tmp_path: Path
) -> None:
    from tests.sources.bka import write_bka_table

    incidents = pd.DataFrame(
        {
            "area": ["14713000", "14713000"],
            "area_name": ["Leipzig, Stadt", "Leipzig, Stadt"],
            "year": [2024, 2024],
            "key": ["------", "899500"],
            "count": [70_000, 1_500],
        }
    )
    population = pd.DataFrame({"area": ["14713000"], "year": [2024], "population": [620_000]})
    path = write_bka_table(tmp_path / "pks_2024_kreise.csv", incidents, population)
    at = _upload(page("data"), path.name, path.read_bytes())
    assert t("manager.data.read_ok", "de", rows=2, layout="bka") in texts(at)
    [save] = [b for b in at.button if b.label == t("manager.data.save", "de")]
    save.click().run()
    with municipality_store(empty_url) as store:
        [saved] = Datasets(store.engine, store.municipality).list()
        dataset = Datasets(store.engine, store.municipality).load(saved.id)
    assert saved.layout == "bka"
    assert dataset.derived_population is not None


def test_data_page_saves_a_population_table_with_margins(empty_url: str) -> None:
    table = (
        b"area;year;population;sex;age_group\n"
        b"99999000;2025;50000;;\n"
        b"99999000;2025;26000;1;\n"
        b"99999000;2025;24000;2;\n"
    )
    at = page("data")
    at.radio(key="manager.data.kind").set_value("population").run()
    _upload(at, "bevoelkerung.csv", table)
    assert t("manager.data.read_ok", "de", rows=1, layout="tidy") in texts(at)
    [save] = [b for b in at.button if b.label == t("manager.data.save", "de")]
    save.click().run()
    with municipality_store(empty_url) as store:
        [saved] = Datasets(store.engine, store.municipality).list()
        dataset = Datasets(store.engine, store.municipality).load(saved.id)
    assert saved.kind is DatasetKind.POPULATION
    assert dataset.margins is not None
    assert len(dataset.margins) == 2


def test_exports_use_the_weights_chosen_on_the_priorities_page(demo_url: str) -> None:
    at = AppTest.from_string("from views import exports\nexports.render()\n")
    at.default_timeout = TIMEOUT
    at.session_state[MANAGER_KEY] = Manager("anna", "local")
    at.session_state[CHOICE_KEY] = {QID: Choice(perceived=1.0, registered=0.0)}
    at.run()
    assert not at.exception, at.exception
    from app import Workspace, reweighted
    from reporting import field_label

    # The same analysis outside the page (the page's caches need a signed-in session).
    with municipality_store(demo_url) as store:
        workspace = Workspace(store)
        base = workspace.analyse(workspace.inputs(QID))
    survey_only = reweighted(base, {"perceived": 1.0, "registered": 0.0})
    catalogue = workspace.catalogue
    town = survey_only.ranking[
        (survey_only.ranking["area"] == survey_only.area) & survey_only.ranking["rank"].notna()
    ]
    expected = [
        t("manager.exports.recommendation", "de", field=field_label(catalogue, f, "de"))
        for f in town["field"]
    ]
    assert [a.label for a in at.text_area] == expected


def test_recommendations_survive_leaving_the_exports_page(demo_url: str) -> None:
    from views.exports import TEXTS_KEY

    at = page("exports")
    first = at.text_area[0]
    key = str(first.key)
    first.input("Beleuchtung am Bahnhof verbessern").run()
    kept = dict(at.session_state[TEXTS_KEY])
    assert kept[key] == "Beleuchtung am Bahnhof verbessern"
    # Back on the page later: the widget's own value is gone, the kept text comes back.
    again = AppTest.from_string("from views import exports\nexports.render()\n")
    again.default_timeout = TIMEOUT
    again.session_state[MANAGER_KEY] = Manager("anna", "local")
    again.session_state[TEXTS_KEY] = kept
    again.run()
    assert again.text_area(key=key).value == "Beleuchtung am Bahnhof verbessern"


def test_priorities_explains_what_is_missing_instead_of_failing(empty_url: str) -> None:
    seed_open_demo(empty_url, responses=60, datasets=False)
    counts = read_incidents(io.BytesIO(fixture_bytes("pks.csv")), filename="pks.csv")
    with municipality_store(empty_url) as store:
        Datasets(store.engine, store.municipality).save(
            DatasetKind.INCIDENTS, counts, source="pks.csv"
        )
    at = page("priorities")
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    # The domain message first ("no population for ..."), then the page's own hint.
    assert errors[0].startswith(t("scoring.population_missing", "de", areas="")[:20])
    assert errors[0].endswith(t("manager.hint.scoring.population_missing", "de"))
    assert "--" not in errors[0]
    assert not at.dataframe


def test_priorities_asks_for_the_municipality_when_the_data_hold_several(empty_url: str) -> None:
    seed_open_demo(empty_url, responses=200, with_area=False)
    at = page("priorities")
    errors = [e.value for e in at.error]
    assert errors
    assert errors[0].startswith(t("scoring.area_required", "de", areas="")[:30])
    assert errors[0].endswith(t("manager.hint.scoring.area_required", "de"))
    assert "--area" not in errors[0]
    at.selectbox(key=widget_key(QID, "municipality")).set_value("99999000").run()
    at.selectbox(key=widget_key(QID, "reference")).set_value("99").run()
    assert not at.exception, at.exception
    assert not at.error
    assert at.dataframe[0].value[t("manager.col.rank", "de")].tolist() == list(range(1, 9))
