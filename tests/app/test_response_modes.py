"""Responses by mode ("Rücklauf nach Erhebungsweg", app/_response_modes.py): counts per mode
with core's privacy rule, in the report's method chapter."""

from __future__ import annotations

import secrets
from pathlib import Path

import pandas as pd
import pytest

from app import Workspace, mode_table, report_document, responses_by_mode
from core import t
from reporting import Table
from storage import NO_BATCH, PaperForm, Store
from tests.app.test_report import QUESTIONNAIRE
from tests.fixtures import seed_open_demo

HIDDEN = t("modes.hidden", "de")


def responses(**counts: int) -> pd.DataFrame:
    modes = [mode for mode, count in counts.items() for _ in range(count)]
    return pd.DataFrame({"mode": pd.array(modes, dtype="string")})


def test_modes_are_counted_in_their_order_with_labels_and_shares() -> None:
    rows = responses_by_mode(responses(keyed=20, web=60, scanned=0, paper=20), "de")
    assert [(r.mode, r.label, r.count, r.share) for r in rows] == [
        ("web", "online", "60", "60,0 %"),
        ("paper", "Papier (Import)", "20", "20,0 %"),
        ("keyed", "Papier (erfasst)", "20", "20,0 %"),
    ]
    table = mode_table(responses(web=6), "en")
    assert table.columns.tolist() == ["Mode", "Responses", "Share"]
    assert table.iloc[0].tolist() == ["online", "6", "100.0%"]


def test_small_cells_are_suppressed_so_that_the_total_does_not_reveal_them() -> None:
    # 3 keyed forms beside 800 online: hiding only the 3 would leave them in 803 − 800.
    rows = responses_by_mode(responses(web=800, keyed=3), "de")
    assert [(r.count, r.share, r.hidden) for r in rows] == [(HIDDEN, HIDDEN, True)] * 2
    # Two small cells protect each other once together they hold 5 or more; 800 is shown.
    rows = responses_by_mode(responses(web=800, keyed=7, scanned=2), "de")
    assert [(r.mode, r.count) for r in rows] == [
        ("web", "800"),
        ("keyed", HIDDEN),
        ("scanned", HIDDEN),
    ]
    assert all(r.count == HIDDEN or int(r.count.replace(".", "")) >= 5 for r in rows)


def test_no_responses_or_no_mode_column_give_no_rows() -> None:
    assert responses_by_mode(pd.DataFrame({"mode": pd.array([], dtype="string")}), "de") == []
    assert responses_by_mode(pd.DataFrame({"age": [1, 2]}), "de") == []


@pytest.mark.parametrize(("keyed", "shown"), [(6, "6"), (2, HIDDEN)])
def test_the_report_shows_responses_by_mode(tmp_path: Path, keyed: int, shown: str) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    questionnaire = seed_open_demo(url, responses=40)
    with Store(url) as store:
        for _ in range(keyed):
            result = store.store_keyed(
                questionnaire,
                PaperForm(NO_BATCH),
                {},
                language="de",
                submission_token=secrets.token_urlsafe(16),
            )
            assert result.stored
        workspace = Workspace(store)
        inputs = workspace.inputs(QUESTIONNAIRE)
        document = report_document(
            workspace.analyse(inputs, draws=200), inputs, workspace.catalogue, "de"
        )
    method = next(s for s in document.sections if s.title == t("document.ch.method", "de"))
    [table] = [
        b for b in method.blocks if isinstance(b, Table) and b.caption == t("modes.title", "de")
    ]
    assert table.header == ("Erhebungsweg", "Antworten", "Anteil")
    rows = {row[0]: row[1] for row in table.rows}
    assert rows["Papier (erfasst)"] == shown
    assert rows["online"] == ("40" if keyed >= 5 else HIDDEN)
