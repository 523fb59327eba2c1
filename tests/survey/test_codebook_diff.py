"""The codebook diff a manager sees before publishing a changed revision."""

from __future__ import annotations

from pathlib import Path

from survey import VariableChange, codebook_diff, load_questionnaire_text

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "kleinstadt.yaml").read_text(
    encoding="utf-8"
)


def test_nothing_in_the_codebook_changed() -> None:
    before = load_questionnaire_text(FIXTURE)
    after = load_questionnaire_text(FIXTURE.replace("bitte machen Sie mit.", "machen Sie mit!"))
    assert codebook_diff(before, after).empty


def test_added_removed_and_changed_variables_and_codes() -> None:
    before = load_questionnaire_text(FIXTURE)
    edited = (
        FIXTURE.replace("id: years_lived", "id: years_here")
        .replace("          - {code: 2, label: {de: eher sicher, en: fairly safe}}\n", "")
        .replace("de: eher unsicher, en:", "de: ziemlich unsicher, en:")
        .replace("{de: Anmerkungen, en: Remarks}", "{de: Ihre Anmerkungen, en: Remarks}")
    )
    edited = edited.replace(
        "          - {code: 3, label: {de: ziemlich unsicher, en: fairly unsafe}}\n",
        "          - {code: 3, label: {de: ziemlich unsicher, en: fairly unsafe}}\n"
        "          - {code: 9, label: {de: weiß nicht, en: don't know}, non_substantive: true}\n",
    )
    diff = codebook_diff(before, load_questionnaire_text(edited))
    assert diff.added == ("years_here",)
    assert diff.removed == ("years_lived",)
    assert diff.changed == (
        VariableChange("safe_night", "code", "eher sicher", "", "2"),
        VariableChange("safe_night", "code", "eher unsicher", "ziemlich unsicher", "3"),
        VariableChange("safe_night", "code", "", "weiß nicht", "9"),
        VariableChange("remarks", "question", "Anmerkungen", "Ihre Anmerkungen"),
    )
