"""Privacy audit (docs/privacy.md): a district with fewer than 5 respondents shows no survey
figure in any published table, chart or export, end to end from the analysis."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from app import heatmap_indicators
from core import MIN_CELL_SIZE
from reporting import (
    district_heatmap,
    quadrant_chart,
    rank_chart,
    ranking_csv,
    ranking_xlsx,
)
from scoring import Analysis, analyse
from tests.scoring._scoring_data import (
    DISTRICT_AREAS,
    LAND,
    MUNICIPALITY,
    small_catalogue,
    small_incidents,
    small_population,
    small_questionnaire,
    small_responses,
)

SMALL = DISTRICT_AREAS["03"]


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    rng = np.random.default_rng(20261124)
    responses = small_responses(2000, rng)
    responses.loc[responses["district"] == "03", "district"] = "02"
    responses.loc[: MIN_CELL_SIZE - 2, "district"] = "03"  # 4 respondents
    return analyse(
        small_questionnaire(),
        responses,
        catalogue=small_catalogue(),
        incidents=small_incidents(rng),
        population=small_population(),
        area=MUNICIPALITY,
        reference=LAND,
        draws=200,
        rng=np.random.default_rng(7),
    )


def _small_rows(analysis: Analysis) -> pd.DataFrame:
    ranking = analysis.ranking
    rows = ranking[(ranking["area"] == SMALL) & ranking["suppressed"].astype(bool)]
    assert len(rows), "the fixture must produce suppressed cells"
    return rows


def test_the_analysis_keeps_no_share_for_a_small_district(analysis: Analysis) -> None:
    rows = _small_rows(analysis)
    for column in ("share_problem", "share_ci_low", "share_ci_high"):
        assert rows[column].isna().all(), column
    assert rows["quadrant"].isna().all()  # "felt" needs a share


@pytest.mark.parametrize("lang", ["de", "en"])
def test_ranking_csv_and_xlsx_blank_every_survey_cell_of_a_small_district(
    analysis: Analysis, lang: str
) -> None:
    csv = pd.read_csv(
        io.BytesIO(ranking_csv(analysis.ranking, lang)), sep=";", dtype=str, encoding="utf-8-sig"
    )
    book = openpyxl.load_workbook(io.BytesIO(ranking_xlsx(analysis.ranking, lang)))
    sheet = book.worksheets[0]
    values = list(sheet.values)
    xlsx = pd.DataFrame(values[1:], columns=[str(c) for c in values[0]]).astype("string")
    for table in (csv, xlsx):
        area = table.columns[0]
        small = table[table[area].astype(str) == SMALL]
        suppressed = small[small.columns[-2]].astype(str).str.lower().isin({"ja", "yes"})
        assert suppressed.any()
        survey_columns = [
            c
            for c in table.columns
            if any(w in c for w in ("Anteil", "Share", "Befragte")) and "<" not in c
        ]
        survey_columns += [c for c in table.columns if c in ("Respondents", "Effective n")]
        assert survey_columns
        hidden = small.loc[suppressed, survey_columns]
        assert hidden.isna().all().all() or (hidden.fillna("") == "").all().all(), hidden


def test_charts_place_no_suppressed_cell(analysis: Analysis) -> None:
    catalogue = small_catalogue()
    small = analysis.ranking[analysis.ranking["area"] == SMALL]
    quadrant = quadrant_chart(small, catalogue, "de")
    placed = sum(len(trace.y) for trace in quadrant.data if trace.y is not None)
    assert placed == int(small["share_problem"].notna().sum())
    rank = rank_chart(small, catalogue, "de")
    assert all("share" not in str(trace.hovertext) for trace in rank.data)
    heat = district_heatmap(heatmap_indicators(analysis), catalogue, "de")
    z = np.array(heat.data[0].z, dtype=float)
    text = np.array(heat.data[0].text)
    row = [str(y) for y in heat.data[0].y].index(
        next(str(y) for y in heat.data[0].y if "03" in str(y))
    )
    assert "< 5" in set(text[row])
    assert np.isnan(z[row][text[row] == "< 5"]).all()


# --- complementary suppression of the published ranking, attacked by differences ---------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scoring import PUBLISHED_RANKING_COLUMNS, suppress_ranking  # noqa: E402


def _published_ranking(parts: list[tuple[int, int]]) -> pd.DataFrame:
    """One field: the town row (its total) and one row per district, as analyse() gives them."""
    town_n = sum(n for n, _ in parts) + 7  # respondents without a district count in the town
    town_y = sum(y for _, y in parts) + 3
    rows = [("T", None, town_n, town_y)] + [
        (f"T-{i:02d}", f"{i:02d}", n, y) for i, (n, y) in enumerate(parts)
    ]
    frame = pd.DataFrame(rows, columns=["area", "district", "n_respondents", "positives"])
    frame["field"] = "graffiti"
    frame["year"] = 2025
    frame["share_problem"] = (frame["positives"] / frame["n_respondents"]).where(
        frame["n_respondents"] > 0
    )
    frame["share_ci_low"] = frame["share_problem"] * 0.8
    frame["share_ci_high"] = frame["share_problem"] * 1.2
    frame["n_eff"] = frame["n_respondents"].astype(float)
    frame["felt_state"] = "unclear"
    frame["suppressed"] = False
    return frame.drop(columns="positives")


district_tables = st.lists(
    st.integers(0, 15).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    min_size=2,
    max_size=7,
)


@settings(max_examples=300, deadline=None)
@given(district_tables)
def test_no_published_ranking_lets_a_hidden_district_be_recovered(
    parts: list[tuple[int, int]],
) -> None:
    """What an attacker sees in the published ranking (the export, the CLI file, the page):
    the town row and every shown district. No hidden district's respondents or answers may
    follow from the town minus the shown districts."""
    published = suppress_ranking(_published_ranking(parts), blank_counts=True)
    districts = published[published["district"].notna()]
    hidden = districts["n_respondents"].isna()
    small = [0 < n < MIN_CELL_SIZE for n, _ in parts]
    assert all(h for h, s in zip(hidden, small, strict=True) if s), "every small district hidden"
    town = published[published["district"].isna()].iloc[0]
    if pd.isna(town["n_respondents"]) or not hidden.any():
        return
    assert hidden.sum() >= 2, "a single hidden district is the town minus the others"
    hidden_n = [n for (n, _), h in zip(parts, hidden, strict=True) if h]
    hidden_y = [y for (_, y), h in zip(parts, hidden, strict=True) if h]
    assert sum(hidden_n) >= MIN_CELL_SIZE
    assert sum(hidden_n) > len(hidden_n)  # not all single respondents
    assert 0 < sum(hidden_y) < sum(hidden_n)  # nobody's answer follows from the total
    for column in ("share_problem", "share_ci_low", "share_ci_high", "n_eff", "felt_state"):
        assert districts.loc[hidden, column].isna().all()
    assert set(PUBLISHED_RANKING_COLUMNS) & set(published.columns)
