from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from reporting import district_heatmap, quadrant_chart, rank_chart
from survey import ActionFieldCatalogue
from tests.conftest import ACTION_FIELDS


@pytest.fixture
def catalogue() -> ActionFieldCatalogue:
    data = YAML(typ="safe").load(ACTION_FIELDS.read_text(encoding="utf-8"))
    return ActionFieldCatalogue.model_validate(data)


@pytest.fixture
def ranking(catalogue: ActionFieldCatalogue, rng: np.random.Generator) -> pd.DataFrame:
    fields = catalogue.ids()
    k = len(fields)
    sir = rng.uniform(0.5, 2.5, k)
    sir[fields.index("vermuellung")] = np.nan  # no police data for littering
    share = rng.uniform(0.05, 0.6, k)
    return pd.DataFrame(
        {
            "area": "99999000",
            "field": fields,
            "rank": np.arange(1, k + 1, dtype=float),
            "rank_low": np.maximum(np.arange(1, k + 1) - 1, 1).astype(float),
            "rank_high": np.minimum(np.arange(1, k + 1) + 2, k).astype(float),
            "priority": np.linspace(0.9, 0.1, k),
            "quadrant": ["both_high", "felt_only", "registered_only", "both_low"] * (k // 4),
            "sir": sir,
            "sir_ci_low": sir * 0.8,
            "sir_ci_high": sir * 1.2,
            "share_problem": share,
            "share_ci_low": share - 0.03,
            "share_ci_high": share + 0.03,
            "reason": [f"Grund <b>{f}</b>" for f in fields],
            "reason_en": [f"Reason {f}" for f in fields],
        }
    )


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in {"script", "link"}:
            self.scripts.append(dict(attrs))


def test_quadrant_chart_lists_fields_it_cannot_place(
    ranking: pd.DataFrame, catalogue: ActionFieldCatalogue
) -> None:
    figure = quadrant_chart(ranking, catalogue, "de")
    placed = sum(len(trace.x) for trace in figure.data)
    assert placed == len(ranking) - 1
    assert "Vermüllung" in figure.layout.annotations[0].text


def test_rank_chart_has_one_bar_per_field(
    ranking: pd.DataFrame, catalogue: ActionFieldCatalogue
) -> None:
    figure = rank_chart(ranking, catalogue, "de")
    assert len(figure.data[0].y) == len(ranking)


def test_heatmap_never_shows_a_suppressed_value(catalogue: ActionFieldCatalogue) -> None:
    indicators = pd.DataFrame(
        {
            "area": ["01", "01", "02", "02"],
            "field": ["graffiti", "gewalt", "graffiti", "gewalt"],
            "share_problem": [0.4, 0.2, np.nan, 0.3],
            "suppressed": [False, False, True, False],
        }
    )
    figure = district_heatmap(indicators, catalogue, "de")
    z = np.array(figure.data[0].z, dtype=float)
    text = np.array(figure.data[0].text)
    assert np.isnan(z[1, list(figure.data[0].x).index("Graffiti und Schmierereien")])
    assert "< 5" in text
