from __future__ import annotations

import pandas as pd
import pytest

from core import ImportResult
from storage import DatasetKind, Datasets
from tests.conftest import StoreFactory


@pytest.fixture
def datasets(store_factory: StoreFactory) -> Datasets:
    # The store's engine: the datasets table as the migrations create it.
    store = store_factory()
    return Datasets(store.engine, store.municipality)


def _incidents(year: int, count: int) -> ImportResult:
    table = pd.DataFrame(
        {
            "area": pd.array(["14713000", "01001000"], dtype="string"),
            "area_name": pd.array(["Leipzig", "Flensburg"], dtype="string"),
            "year": [year, year],
            "key": pd.array(["899500", "****00"], dtype="string"),
            "count": [count, 7],
        }
    )
    return ImportResult(table=table, layout="tidy")


def test_saved_dataset_round_trips_with_its_summary(datasets: Datasets) -> None:
    summary = datasets.save(DatasetKind.INCIDENTS, _incidents(2024, 12), source="pks 2024.csv")
    assert summary.years == (2024,)
    assert summary.row_count == 2
    listed = datasets.list()
    assert [s.source for s in listed] == ["pks 2024.csv"]
    loaded = datasets.load(summary.id)
    # Leading zeros and the literal '*' of summary keys survive the round trip.
    assert list(loaded.table["area"]) == ["14713000", "01001000"]
    assert list(loaded.table["key"]) == ["899500", "****00"]
    assert list(loaded.table["count"]) == [12, 7]


def test_combined_keeps_the_latest_upload_per_cell_and_delete_removes(datasets: Datasets) -> None:
    first = datasets.save(DatasetKind.INCIDENTS, _incidents(2024, 12), source="a.csv")
    datasets.save(DatasetKind.INCIDENTS, _incidents(2024, 15), source="b.csv")
    datasets.save(DatasetKind.INCIDENTS, _incidents(2023, 9), source="c.csv")
    combined = datasets.combined(DatasetKind.INCIDENTS)
    assert combined is not None
    assert combined.summary.years == (2023, 2024)
    cell = combined.table[(combined.table["year"] == 2024) & (combined.table["key"] == "899500")]
    assert cell["count"].tolist() == [15]
    assert datasets.delete(first.id)
    assert not datasets.delete(first.id)
    assert len(datasets.list(DatasetKind.INCIDENTS)) == 2
    assert datasets.combined(DatasetKind.POPULATION) is None
