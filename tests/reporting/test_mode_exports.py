"""The response mode as a design variable in the exports: the ``mode`` column of CSV and XLSX,
SPSS value labels ("online", "Papier (erfasst)" …) and its row in the codebook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from reporting import codebook_csv, read_xlsx_sheets, responses_csv, responses_xlsx
from reporting._exports import write_responses_sav
from survey import MODES, mode_labels
from tests.reporting.test_exports import QUESTIONNAIRE, read_csv, responses_frame

LABELS_DE = {
    "web": "online",
    "paper": "Papier (Import)",
    "keyed": "Papier (erfasst)",
    "scanned": "Papier (gescannt)",
}


def frame_with_every_mode() -> pd.DataFrame:
    frame = pd.concat([responses_frame(), responses_frame().iloc[:1]], ignore_index=True)
    frame["mode"] = pd.array(["web", "keyed", "scanned", "paper"], dtype="string")
    return frame


def test_every_mode_has_a_label_in_both_languages() -> None:
    assert MODES == ("web", "paper", "keyed", "scanned")
    assert mode_labels("de") == LABELS_DE
    assert mode_labels("en")["keyed"] == "paper (keyed)"
    assert all(len(mode.encode()) <= 8 for mode in MODES)  # SPSS short strings


@pytest.mark.parametrize("lang", ["de", "en"])
def test_spss_carries_the_mode_with_value_labels(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "responses.sav"
    write_responses_sav(frame_with_every_mode(), QUESTIONNAIRE, path, lang)
    data, meta = pyreadstat.read_sav(str(path))
    assert data["mode"].tolist() == ["web", "keyed", "scanned", "paper"]
    assert meta.variable_value_labels["mode"] == mode_labels(lang)
    labelled, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
    if lang == "de":
        assert labelled["mode"].tolist() == [
            "online",
            "Papier (erfasst)",
            "Papier (gescannt)",
            "Papier (Import)",
        ]


def test_csv_and_xlsx_carry_the_mode_and_the_codebook_explains_it() -> None:
    frame = frame_with_every_mode()
    back = read_csv(responses_csv(frame))
    assert back["mode"].tolist() == ["web", "keyed", "scanned", "paper"]
    sheets = read_xlsx_sheets(responses_xlsx(frame, QUESTIONNAIRE, "de"))
    header, *rows = sheets["Antworten"]
    assert [row[header.index("mode")] for row in rows] == ["web", "keyed", "scanned", "paper"]
    *_variables, mode_row = sheets["Codebuch"]
    assert mode_row[0] == "mode"
    codes = " | ".join(f"{code}={label}" for code, label in LABELS_DE.items())
    assert codes in mode_row
    assert "mode" in mode_row[1:]  # the design column names it
    codebook = read_csv(codebook_csv(QUESTIONNAIRE, "en"))
    assert codebook.iloc[-1]["Variable"] == "mode"
    assert "keyed=paper (keyed)" in " ".join(map(str, codebook.iloc[-1].tolist()))
