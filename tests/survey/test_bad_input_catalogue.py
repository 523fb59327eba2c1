"""The action-field catalogue's bad input found in the audit (docs/bad-input.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import InvalidInput
from survey import check_action_fields, load_action_fields


@pytest.mark.parametrize("content", ["", "\n# nur ein Kommentar\n", "~\n"])
def test_an_empty_catalogue_says_what_a_catalogue_needs(tmp_path: Path, content: str) -> None:
    path = tmp_path / "action_fields.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        load_action_fields(path)
    [problem] = error.value.problems
    assert (problem.key, problem.location.file, problem.location.line) == (
        "badinput.empty_catalogue",
        str(path),
        1,
    )
    assert "Handlungsfeld-Katalog" in problem.render("de")
    assert "questionnaire" not in problem.render("en")
    assert check_action_fields(path)[1] == error.value.problems
