"""The codebook: one row per stored variable with codes, labels, tags and design markers."""

from __future__ import annotations

from survey import CODEBOOK_COLUMNS, codebook, load_questionnaire, load_questionnaire_text
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.survey.test_loader import VALID


def test_one_row_per_variable_in_codebook_order() -> None:
    questionnaire = load_questionnaire_text(VALID)
    table = codebook(questionnaire, "de")
    assert tuple(table.columns) == CODEBOOK_COLUMNS
    assert table["variable"].tolist() == [
        "district",
        "age",
        "measures__1",
        "measures__2",
        "measures__9",
        "avoid",
        "since",
        "why",
        "worry_theft",
        "worry_fire",
    ]


def test_codes_labels_tags_and_design() -> None:
    table = codebook(load_questionnaire_text(VALID), "de").set_index("variable")
    assert table.loc["district", "codes"] == "0012=Nord | 0013=Yes"
    assert table.loc["district", "design"] == "district"
    assert table.loc["worry_theft", "codes"] == "1=nein | 2=ja"
    assert table.loc["worry_theft", "non_substantive"] == "9=weiß nicht"
    assert table.loc["worry_theft", "question"] == "Sorgen – Diebstahl"
    assert table.loc["worry_theft", "tags"] == "diebstahl:worry"
    assert table.loc["measures__2", "kind"] == "multi_option"
    assert table.loc["measures__2", "codes"] == "0=nicht ausgewählt | 1=ausgewählt"
    assert table.loc["measures__2", "tags"] == "graffiti:measure_wish"
    assert table.loc["avoid", "codes"] == "1=ja | 0=nein"
    assert table.loc["age", "codes"] == ""


def test_english_texts() -> None:
    table = codebook(load_questionnaire_text(VALID), "en").set_index("variable")
    assert table.loc["worry_theft", "question"] == "Worries – Theft"
    assert table.loc["measures__2", "question"] == "Measures – yes"
    assert table.loc["avoid", "codes"] == "1=yes | 0=no"


def test_the_default_questionnaire_tags_every_action_field_as_a_problem() -> None:
    table = codebook(load_questionnaire(DEFAULT_QUESTIONNAIRE))
    tags = ",".join(table["tags"])
    for field in ("graffiti", "sachbeschaedigung", "vermuellung", "gewalt", "extremismus"):
        assert f"{field}:problem" in tags
    assert set(table["design"]) >= {"district", "sex", "age_group"}
