"""The Befragungsergebnisse page through AppTest, signed in, against real SQLite databases: the
demo municipality (800 responses, incidents, population) and a survey of 6 responses."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import t
from storage import DATABASE_URL_ENV_VAR
from tests.fixtures import seed_open_demo
from tests.views.test_manager_pages import demo_url
from tests.views.test_manager_pages import page as manager_page

__all__ = ["demo_url"]  # the demo database fixture, shared with the other manager pages


@pytest.fixture
def tiny_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    seed_open_demo(url, responses=6)
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    return url


def page(lang: str = "de") -> AppTest:
    """A signed-in manager's session on Befragungsergebnisse."""
    return manager_page("findings", lang)


def texts(at: AppTest) -> str:
    parts = [e.value for e in [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption]]
    parts += [e.value for e in [*at.error, *at.warning, *at.success, *at.info]]
    return "\n".join(str(p) for p in parts)


def cells(at: AppTest) -> list[str]:
    """Every cell and header of every table on the page, as shown."""
    out: list[str] = []
    for frame in at.dataframe:
        table = frame.value
        out += [str(c) for c in table.columns]
        out += [str(v) for v in table.astype(str).to_numpy().ravel()]
    return out


def assert_no_missing_shown(at: AppTest) -> None:
    shown = [*cells(at), *texts(at).split()]
    for word in ("None", "nan", "NaN", "<NA>"):
        assert word not in shown, word


def charts(at: AppTest) -> list[dict[str, object]]:
    import json

    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_demo_shows_every_section_with_charts_and_tables(demo_url: str) -> None:
    at = page()
    shown = texts(at)
    assert t("findings.title", "de") in shown
    assert t("findings.banner.not_analysable", "de").split(" –")[0] not in shown
    for key in (
        "findings.topic.unsafe_night.title",
        "findings.topic.worry.title",
        "findings.topic.victimisation.title",
        "findings.topic.reported.title",
        "findings.dark.title",
        "findings.topic.dissatisfied.title",
        "findings.topic.low_trust.title",
        "findings.topic.measure.title",
        "findings.section.places",
        "findings.section.groups",
        "findings.section.free_text",
    ):
        assert t(key, "de") in shown, key
    assert at.metric[0].value == "800"
    assert at.metric[2].value == t("findings.metric.weighted", "de")
    # One chart per topic with a published share, and none of them empty.
    figures = charts(at)
    assert len(figures) == 10  # nine topics and the dark-figure ratios
    for figure in figures:
        assert figure["data"][0]["x"], figure  # type: ignore[index]
    assert_no_missing_shown(at)
    # The dark-figure table has a ratio for a field with police counts and enough victims.
    dark = next(
        f.value for f in at.dataframe if t("findings.dark.col.ratio", "de") in f.value.columns
    )
    assert dark[t("findings.dark.col.ratio", "de")].str.contains(r"\d,\d \(").any()
    # A table header carries its explanation as a tooltip.
    glossary = t("findings.section.glossary", "de")
    assert any(e.label == glossary for e in at.expander)


def test_demo_district_filter_shows_one_district(demo_url: str) -> None:
    at = page()
    town = charts(at)[0]["data"][0]["x"]  # type: ignore[index]
    box = at.selectbox(key="findings.district")
    assert box.options[0] == t("findings.whole_town", "de")
    box.select_index(1).run()
    assert not at.exception
    district = charts(at)[0]["data"][0]["x"]  # type: ignore[index]
    assert district != town
    assert t("findings.dark.town_only", "de") in texts(at)
    assert_no_missing_shown(at)


def test_demo_page_in_english(demo_url: str) -> None:
    at = page("en")
    assert t("findings.title", "en") in texts(at)
    assert t("findings.topic.unsafe_night.title", "en") in texts(at)


def test_six_responses_give_a_banner_and_sentences_instead_of_empty_charts(tiny_url: str) -> None:
    at = page()
    assert any(str(e.value).startswith("Befragung nicht auswertbar – n = 6") for e in at.error)
    assert at.metric[0].value == "6"
    # Every chart drawn has bars; every other topic says why there is none.
    for figure in charts(at):
        assert figure["data"][0]["x"], figure  # type: ignore[index]
    reasons = {
        t("findings.empty.suppressed", "de"),
        t("findings.empty.no_substantive", "de"),
        t("findings.empty.no_answers", "de"),
        t("findings.empty.not_asked", "de"),
    }
    drawn = len(charts(at))
    explained = sum(1 for e in at.info if e.value in reasons)
    assert drawn + explained == 9
    assert explained > 0
    assert_no_missing_shown(at)
    # No share of fewer than 5 respondents: every respondents cell is >= 5 or "< 5".
    for frame in at.dataframe:
        column = t("findings.col.respondents", "de")
        if column in frame.value.columns:
            for value in frame.value[column]:
                assert value == "< 5" or int(value.replace(".", "")) not in range(1, 5)


def test_the_page_shows_responses_by_mode(tiny_url: str) -> None:
    at = page()
    assert t("modes.title", "de") in texts(at)
    table = next(f.value for f in at.dataframe if t("modes.col.mode", "de") in f.value.columns)
    # The 6 demo responses came online: one cell, shown (6 is not small).
    assert table.to_numpy().tolist() == [["online", "6", "100,0 %"]]
