from __future__ import annotations

import datetime as dt
import io
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from core import escape_free_text, neutralise_formula
from reporting import (
    XLSX_MAX_TEXT,
    codebook_csv,
    codebook_xlsx,
    frame_csv,
    frames_xlsx,
    ranking_csv,
    ranking_table,
    ranking_xlsx,
    read_xlsx_sheets,
    responses_csv,
    responses_sav,
    responses_xlsx,
    write_responses_sav,
)
from scoring import suppress_ranking
from survey import Questionnaire, codebook
from tests.fixtures import municipality_store

LABEL = {"de": "Test", "en": "Test"}

QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "meta": {
            "id": "export_test",
            "version": "1",
            "title": {"de": "Sicherheitsbefragung Musterstadt", "en": "Safety survey"},
            "languages": ["de", "en"],
        },
        "scales": {
            "problem": {
                "options": [
                    {"code": 1, "label": {"de": "kein Problem", "en": "no problem"}},
                    {"code": 2, "label": {"de": "ein geringes Problem", "en": "minor"}},
                    {"code": 3, "label": {"de": "ein ziemliches Problem", "en": "fair"}},
                    {"code": 4, "label": {"de": "ein großes Problem", "en": "big"}},
                    {
                        "code": 9,
                        "label": {"de": "weiß nicht", "en": "don't know"},
                        "non_substantive": True,
                    },
                ]
            }
        },
        "revision": "r1",
        "sections": [
            {
                "id": "s1",
                "title": LABEL,
                "items": [
                    {
                        "kind": "single",
                        "id": "district",
                        "design": "district",
                        "label": {"de": "In welchem Ortsteil wohnen Sie?", "en": "District?"},
                        "options": [
                            {"code": "0012", "label": {"de": "Altstadt", "en": "Old town"}},
                            {"code": "0013", "label": {"de": "Neustadt", "en": "New town"}},
                        ],
                    },
                    {
                        "kind": "battery",
                        "id": "problems",
                        "label": {"de": "Wie groß sind diese Probleme?", "en": "Problems?"},
                        "scale": "problem",
                        "statements": [
                            {
                                "id": "graffiti_problem",
                                "label": {"de": "Graffiti an Hauswänden", "en": "Graffiti"},
                                "tags": [{"field": "graffiti", "role": "problem"}],
                            },
                            {
                                "id": "litter_problem",
                                "label": {"de": "Müll auf Plätzen", "en": "Litter"},
                            },
                        ],
                    },
                    {
                        "kind": "multi",
                        "id": "measures",
                        "label": {"de": "Was wünschen Sie sich?", "en": "Wishes?"},
                        "options": [
                            {"code": 1, "label": {"de": "mehr Licht", "en": "light"}},
                            {"code": 2, "label": {"de": "mehr Streife", "en": "patrols"}},
                        ],
                    },
                    {"kind": "yesno", "id": "victim", "label": {"de": "Opfer?", "en": "Victim?"}},
                    {"kind": "number", "id": "age", "label": {"de": "Alter", "en": "Age"}},
                    {
                        "kind": "number",
                        "id": "hours",
                        "integer": False,
                        "label": {"de": "Stunden draußen", "en": "Hours outside"},
                    },
                    {
                        "kind": "text",
                        "id": "remarks",
                        "long": True,
                        "max_length": 2000,
                        "label": {"de": "Anmerkungen", "en": "Remarks"},
                    },
                    {"kind": "date", "id": "moved_in", "label": {"de": "Zuzug", "en": "Moved"}},
                ],
            }
        ],
    }
)

EVIL = [
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",
]


def responses_frame() -> pd.DataFrame:
    """Three responses in the storage's codebook layout and dtypes."""
    return pd.DataFrame(
        {
            "response_id": pd.array(["a1", "b2", "c3"], dtype="string"),
            "questionnaire_id": pd.array(["export_test"] * 3, dtype="string"),
            "questionnaire_revision": pd.array(["r1"] * 3, dtype="string"),
            "submitted_on": pd.to_datetime(["2026-11-20", "2026-11-21", "2026-11-21"]).astype(
                "datetime64[s]"
            ),
            "language": pd.array(["de", "de", "en"], dtype="string"),
            "mode": pd.array(["web", "paper", "web"], dtype="string"),
            "stratum": pd.array(["nord", None, "süd"], dtype="string"),
            "district": pd.array(["0012", "0013", None], dtype="string"),
            "graffiti_problem": pd.array([4, 9, None], dtype="Int64"),
            "litter_problem": pd.array([1, 2, 3], dtype="Int64"),
            "measures__1": pd.array([1, 0, None], dtype="Int64"),
            "measures__2": pd.array([0, 1, None], dtype="Int64"),
            "victim": pd.array([1, 0, None], dtype="Int64"),
            "age": pd.array([67, 23, None], dtype="Int64"),
            "hours": pd.array([1.5, 0.25, None], dtype="Float64"),
            "remarks": pd.array(
                ["Mehr Licht; bitte! <b>„Straße“</b>", EVIL[0], None], dtype="string"
            ),
            "moved_in": pd.array(["2001-05-01", None, "2020-01-31"], dtype="string"),
        }
    )


# --- cell safety --------------------------------------------------------------------------


@pytest.mark.parametrize("value", EVIL)
def test_formula_triggers_get_an_apostrophe(value: str) -> None:
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["Mehr Licht", "1,5", "a=b", "", "'schon sicher", " =1"])
def test_harmless_text_is_unchanged(value: str) -> None:
    assert neutralise_formula(value) == value


def test_escape_free_text() -> None:
    assert escape_free_text('<script>alert("x")</script> & Co') == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
    )
    assert escape_free_text(None) == ""
    assert escape_free_text(pd.NA) == ""
    assert escape_free_text(np.nan) == ""


# --- CSV ----------------------------------------------------------------------------------


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype=str,
        keep_default_na=False,
    )


def test_csv_is_utf8_with_bom_semicolon_and_decimal_comma() -> None:
    data = responses_csv(responses_frame())
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header, first, second, third = text.splitlines()[:4]
    assert header.split(";")[:4] == [
        "response_id",
        "questionnaire_id",
        "questionnaire_revision",
        "submitted_on",
    ]
    assert ";1,5;" in first
    assert ";0,25;" in second
    assert ";2026-11-20;" in first
    assert ";0012;" in first  # string codes keep their leading zeros
    assert "süd" in third


def test_csv_round_trip_keeps_values() -> None:
    frame = responses_frame()
    back = read_csv(responses_csv(frame))
    assert list(back.columns) == list(frame.columns)
    assert back["remarks"].tolist() == ["Mehr Licht; bitte! <b>„Straße“</b>", "'" + EVIL[0], ""]
    assert back["graffiti_problem"].tolist() == ["4", "9", ""]
    numbers = pd.read_csv(
        io.BytesIO(responses_csv(frame)), sep=";", decimal=",", encoding="utf-8-sig"
    )
    assert numbers["hours"].tolist()[:2] == [1.5, 0.25]
    assert numbers["age"].tolist()[:2] == [67, 23]


def test_csv_neutralises_every_text_cell_and_header() -> None:
    frame = pd.DataFrame({"=cmd": EVIL, "n": range(len(EVIL))})
    back = read_csv(frame_csv(frame))
    assert list(back.columns) == ["'=cmd", "n"]
    assert all(cell.startswith("'") for cell in back["'=cmd"])


def test_csv_keeps_negative_numbers_as_numbers() -> None:
    frame = pd.DataFrame({"x": pd.array([-1.5, None], dtype="Float64"), "y": [-3, 4]})
    assert frame_csv(frame).decode("utf-8-sig").splitlines() == ["x;y", "-1,5;-3", ";4"]


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_round_trip_keeps_values_and_codebook() -> None:
    frame = responses_frame()
    sheets = read_xlsx_sheets(responses_xlsx(frame, QUESTIONNAIRE, "de"))
    assert list(sheets) == ["Antworten", "Codebuch"]
    header, *rows = sheets["Antworten"]
    assert list(header) == list(frame.columns)
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["graffiti_problem"] for r in by_name] == [4, 9, None]
    assert [r["hours"] for r in by_name] == [1.5, 0.25, None]
    assert [r["district"] for r in by_name] == ["0012", "0013", None]
    assert [r["measures__2"] for r in by_name] == [0, 1, None]
    assert by_name[0]["remarks"] == "Mehr Licht; bitte! <b>„Straße“</b>"
    assert by_name[1]["remarks"] == "'" + EVIL[0]
    submitted = by_name[0]["submitted_on"]
    assert isinstance(submitted, dt.datetime | dt.date)
    assert submitted.isoformat().startswith("2026-11-20")
    expected = codebook(QUESTIONNAIRE, "de")
    code_header, *code_rows = sheets["Codebuch"]
    assert code_header[:3] == ("Variable", "Item", "Frage")
    assert len(code_header) == len(expected.columns)
    # The questionnaire's variables, then the response mode (tests/reporting/test_mode_exports.py).
    assert [row[0] for row in code_rows] == [*expected["variable"].tolist(), "mode"]
    assert [row[2] for row in code_rows][:-1] == expected["question"].tolist()


def test_xlsx_never_writes_a_formula() -> None:
    frame = pd.DataFrame({"text": EVIL})
    data = responses_xlsx(frame, QUESTIONNAIRE, "en")
    workbook = load_workbook(io.BytesIO(data))  # not data_only: formulas would show as such
    sheet = workbook["Responses"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert all(str(cell.value).startswith("'") for cell in cells)
    assert "Codebook" in workbook.sheetnames


def test_xlsx_drops_characters_xml_cannot_hold() -> None:
    frame = pd.DataFrame({"text": pd.array(["a\x00b\x07c\td", None], dtype="string")})
    sheets = read_xlsx_sheets(responses_xlsx(frame, QUESTIONNAIRE))
    assert sheets["Antworten"][1] == ("abc\td",)


def test_one_respondents_noncharacter_cannot_break_the_workbook() -> None:
    """U+FFFF typed in a real browser made the whole workbook malformed XML."""
    typed = "Park\uffff bei Nacht\ufffe \U0001fffe\x85 dunkel \u20ac"
    frame = pd.DataFrame({"text": pd.array([typed], dtype="string")})
    data = responses_xlsx(frame, QUESTIONNAIRE)
    sheets = read_xlsx_sheets(data)
    assert sheets["Antworten"][1] == ("Park bei Nacht  dunkel \u20ac",)
    assert load_workbook(io.BytesIO(data)).sheetnames[0] == "Antworten"


def test_xlsx_many_rows_and_columns_keep_their_place() -> None:
    rows, columns = 12_345, 30  # several blocks of rows, column names beyond Z
    frame = pd.DataFrame(
        {f"v{j}": pd.array(np.arange(rows) * 100 + j, dtype="Int64") for j in range(columns)}
    )
    frame.loc[7, "v28"] = pd.NA
    header, *body = read_xlsx_sheets(frames_xlsx({"Daten": frame}))["Daten"]
    assert len(header) == columns
    assert len(body) == rows
    assert body[-1][29] == (rows - 1) * 100 + 29
    assert body[7][27] == 727
    assert body[7][28] is None
    assert body[7][29] == 729


def test_xlsx_cell_types_and_layout() -> None:
    frame = pd.DataFrame(
        {
            "flag": [True, False],
            "x": [1e-05, np.inf],
            "text": ["a" * (XLSX_MAX_TEXT + 10), "x & <y>"],
        }
    )
    workbook = load_workbook(io.BytesIO(frames_xlsx({"Blatt": frame})))
    sheet = workbook["Blatt"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert [c.value for c in sheet[2]] == [True, 1e-05, "a" * XLSX_MAX_TEXT]
    assert [c.value for c in sheet[3]] == [False, None, "x & <y>"]


# --- SPSS ---------------------------------------------------------------------------------


def test_spss_round_trip_keeps_labels_and_values(tmp_path: Path) -> None:
    frame = responses_frame()
    path = tmp_path / "responses.sav"
    write_responses_sav(frame, QUESTIONNAIRE, path, "de")
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert list(data.columns) == list(frame.columns)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["graffiti_problem"] == "Graffiti an Hauswänden"
    assert labels["district"] == "In welchem Ortsteil wohnen Sie?"
    assert labels["measures__1"] == "Was wünschen Sie sich? – mehr Licht"
    assert labels["submitted_on"] == "Abgabetag"
    value_labels = meta.variable_value_labels
    assert value_labels["graffiti_problem"] == {
        1: "kein Problem",
        2: "ein geringes Problem",
        3: "ein ziemliches Problem",
        4: "ein großes Problem",
        9: "weiß nicht",
    }
    assert value_labels["measures__1"] == {0: "nein", 1: "ja"}
    assert value_labels["victim"] == {0: "nein", 1: "ja"}
    assert value_labels["district"] == {"0012": "Altstadt", "0013": "Neustadt"}
    assert meta.missing_ranges["graffiti_problem"] == [{"lo": 9.0, "hi": 9.0}]
    assert meta.file_label == "Sicherheitsbefragung Musterstadt"
    assert meta.variable_measure["graffiti_problem"] == "ordinal"
    assert meta.variable_measure["age"] == "scale"
    assert meta.original_variable_types["submitted_on"].startswith("DATE")
    # values
    assert data["graffiti_problem"].tolist()[:2] == [4, 9]
    assert np.isnan(data["graffiti_problem"].iloc[2])
    assert data["hours"].tolist()[:2] == [1.5, 0.25]
    assert data["measures__2"].tolist()[:2] == [0, 1]
    assert data["district"].tolist() == ["0012", "0013", ""]
    assert data["remarks"].tolist() == ["Mehr Licht; bitte! <b>„Straße“</b>", "'" + EVIL[0], ""]
    assert data["submitted_on"].tolist() == [
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 21),
        dt.date(2026, 11, 21),
    ]
    # without user-missing values SPSS-style reading treats "weiß nicht" as missing
    plain, _ = pyreadstat.read_sav(str(path))
    assert np.isnan(plain["graffiti_problem"].iloc[1])


def test_spss_string_widths_fit_the_longest_value(tmp_path: Path) -> None:
    frame = responses_frame()
    long_text = "Straßenbeleuchtung " * 30 + "Ende"  # > 255 bytes: an SPSS very long string
    frame["remarks"] = pd.array([long_text, "kurz", None], dtype="string")
    path = tmp_path / "long.sav"
    write_responses_sav(frame, QUESTIONNAIRE, path, "en")
    data, meta = pyreadstat.read_sav(str(path))
    assert data["remarks"].iloc[0] == long_text
    width = meta.variable_storage_width["remarks"]
    assert width >= len(long_text.encode("utf-8"))
    assert meta.column_names_to_labels["graffiti_problem"] == "Graffiti"
    assert meta.variable_value_labels["victim"] == {0: "no", 1: "yes"}


def test_spss_labels_too_long_for_spss_are_cut_cleanly(tmp_path: Path) -> None:
    data = QUESTIONNAIRE.model_dump(by_alias=True)
    district = data["sections"][0]["items"][0]
    district["label"] = {"de": "Größe " * 100}
    district["options"] = [{"code": "0012", "label": {"de": "Straße " * 40}}]
    long = Questionnaire.model_validate(data)
    frame = responses_frame()[["response_id", "district"]]
    path = tmp_path / "labels.sav"
    write_responses_sav(frame, long, path, "de")
    _, meta = pyreadstat.read_sav(str(path))
    label = meta.column_names_to_labels["district"]
    assert label.endswith("…")
    assert label.startswith("Größe Größe")
    assert len(label.encode("utf-8")) <= 256
    value = meta.variable_value_labels["district"]["0012"]
    assert value.endswith("…")
    assert len(value.encode("utf-8")) <= 120


def test_spss_accepts_days_as_date_objects(tmp_path: Path) -> None:
    frame = responses_frame()
    frame["submitted_on"] = pd.Series(
        [dt.date(2026, 11, 20), None, dt.date(2026, 11, 22)], dtype=object
    )
    path = tmp_path / "dates.sav"
    write_responses_sav(frame, QUESTIONNAIRE, path)
    data, meta = pyreadstat.read_sav(str(path))
    assert data["submitted_on"].iloc[0] == dt.date(2026, 11, 20)
    assert meta.original_variable_types["submitted_on"].startswith("DATE")
    assert responses_csv(frame).decode("utf-8-sig").splitlines()[1].split(";")[3] == "2026-11-20"
    sheets = read_xlsx_sheets(responses_xlsx(frame, QUESTIONNAIRE))
    assert sheets["Antworten"][1][3] == dt.datetime(2026, 11, 20)


def test_spss_bytes(tmp_path: Path) -> None:
    data = responses_sav(responses_frame(), QUESTIONNAIRE)
    path = tmp_path / "x.sav"
    path.write_bytes(data)
    frame, _ = pyreadstat.read_sav(str(path))
    assert len(frame) == 3


def test_spss_of_no_responses(tmp_path: Path) -> None:
    path = tmp_path / "empty.sav"
    write_responses_sav(responses_frame().iloc[:0], QUESTIONNAIRE, path)
    data, meta = pyreadstat.read_sav(str(path))
    assert len(data) == 0
    assert "graffiti_problem" in meta.column_names


def test_exports_from_the_real_store(sqlite_url: str) -> None:
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(QUESTIONNAIRE, "source")
        store.submit(
            QUESTIONNAIRE,
            {
                "district": "0012",
                "graffiti_problem": 3,
                "measures": [2],
                "victim": True,
                "hours": 2.5,
                "remarks": "-1 Stern",
            },
            language="de",
            submission_token=secrets.token_hex(16),
        )
        responses = store.responses(QUESTIONNAIRE)
    text = responses_csv(responses).decode("utf-8-sig")
    assert ";2,5;" in text
    assert ";'-1 Stern;" in text
    sheets = read_xlsx_sheets(responses_xlsx(responses, QUESTIONNAIRE))
    header, row = sheets["Antworten"]
    assert dict(zip(header, row, strict=True))["measures__2"] == 1
    sav = Path(sqlite_url.split("///", 1)[1]).with_suffix(".sav")
    write_responses_sav(responses, QUESTIONNAIRE, sav)
    data, meta = pyreadstat.read_sav(str(sav))
    assert data["graffiti_problem"].tolist() == [3]
    assert meta.variable_value_labels["measures__2"] == {0: "nein", 1: "ja"}


# --- codebook -----------------------------------------------------------------------------


def test_codebook_exports_reuse_the_codebook() -> None:
    expected = codebook(QUESTIONNAIRE, "de")
    back = read_csv(codebook_csv(QUESTIONNAIRE, "de"))[:-1]  # the last row: the mode
    assert back["Variable"].tolist() == expected["variable"].tolist()
    assert back["Codes und Bedeutungen"].tolist() == expected["codes"].fillna("").tolist()
    sheets = read_xlsx_sheets(codebook_xlsx(QUESTIONNAIRE, "en"))
    assert list(sheets) == ["Codebook"]
    assert sheets["Codebook"][0][2] == "Question"
    assert len(sheets["Codebook"]) == len(expected) + 2


# --- ranking ------------------------------------------------------------------------------


def ranking_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["Musterstadt", "Musterstadt", "Altstadt"],
            "field": ["graffiti", "violence", "graffiti"],
            "rank": [1, 2, 1],
            "rank_low": [1, 1, 1],
            "rank_high": [2, 2, 2],
            "priority": [0.71, 0.4212345678, 0.5],
            "quadrant": ["both_high", None, "something_new"],
            "sir": [2.1, 1.3, np.nan],
            "share_problem": [0.38, np.nan, 0.5],
            "share_ci_low": [0.31, 0.08, 0.2],
            "share_ci_high": [0.45, 0.17, 0.8],
            "n_respondents": [120, 0, 4],
            "suppressed": [False, False, False],
            "reason": ["=Graffiti: 2,1-mal so häufig", "Gewalt", "Graffiti"],
            "reason_en": ["=Graffiti: 2.1 times", "Violence", "Graffiti"],
            "internal_column": [1, 2, 3],
        }
    )


def test_small_cells_are_suppressed() -> None:
    out = suppress_ranking(ranking_frame())
    assert out["share_problem"].isna().tolist() == [False, True, True]
    assert out["share_ci_low"].isna().tolist() == [False, False, True]
    # a field without survey items (0 respondents) has nothing to suppress
    assert out["suppressed"].tolist() == [False, False, True]
    assert out["sir"].iloc[0] == 2.1  # registered figures are not about respondents


def test_ranking_table_has_german_headers_and_labels() -> None:
    table = ranking_table(ranking_frame(), "de")
    assert list(table.columns[:8]) == [
        "Gebiet",
        "Handlungsfeld",
        "Rang",
        "Rang von (95 %)",
        "Rang bis (95 %)",
        "Priorität",
        "Einordnung",
        "Begründung",
    ]
    assert "internal_column" not in table.columns
    assert table["Einordnung"].tolist()[0] == "beides hoch"
    assert table["Einordnung"].isna().tolist()[1]
    assert table["Einordnung"].tolist()[2] == "something_new"
    assert table["Unterdrückt (< 5 Befragte)"].tolist() == ["nein", "nein", "ja"]
    assert table["Anteil „Problem“ (Befragung)"].isna().tolist() == [False, True, True]
    assert table["Priorität"].tolist()[1] == 0.4212


def test_ranking_table_in_english_uses_the_english_reason() -> None:
    table = ranking_table(ranking_frame(), "en")
    assert table["Reason"].tolist()[1] == "Violence"


def test_ranking_csv_and_xlsx() -> None:
    text = ranking_csv(ranking_frame(), "de").decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Gebiet;Handlungsfeld;Rang;")
    assert ";0,71;" in lines[1]
    assert ";'=Graffiti: 2,1-mal so häufig;" in lines[1]
    sheets = read_xlsx_sheets(ranking_xlsx(ranking_frame(), "de"))
    header, *rows = sheets["Rangfolge"]
    assert header[0] == "Gebiet"
    record = dict(zip(header, rows[2], strict=True))
    assert record["Anteil „Problem“ (Befragung)"] is None
    assert record["Befragte"] is None  # 4 respondents: the file says "suppressed" instead
    assert dict(zip(header, rows[0], strict=True))["Priorität"] == 0.71
