from __future__ import annotations

from pathlib import Path

import pytest

from core import UI_LANGUAGES, catalogue, t


def test_catalogue_loads_and_every_key_has_every_ui_language() -> None:
    messages = catalogue()
    assert messages, "the catalogue is empty"
    for key, texts in messages.items():
        for lang in UI_LANGUAGES:
            forms = texts[lang] if isinstance(texts[lang], dict) else {"": texts[lang]}
            for form in forms.values():
                assert form.strip(), f"{key} has an empty {lang} text"


def test_a_counted_message_says_one_second_and_two_seconds() -> None:
    assert t("form.code_wait", "de", count=1).startswith(
        "Zu viele falsche Versuche. Bitte warten Sie 1 Sekunde "
    )
    assert "2 Sekunden" in t("form.code_wait", "de", count=2)
    assert "1 second " in t("form.code_wait", "en", count=1)
    assert "0 seconds" in t("form.code_wait", "en", count=0)


def test_plural_forms_must_be_exactly_one_and_other(tmp_path: Path) -> None:
    from core.i18n import CatalogueError, _text

    with pytest.raises(CatalogueError):
        _text(tmp_path / "x.yaml", "k", {"one": "a", "few": "b"})


def test_german_is_the_default_and_english_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SICHERHEITSANALYSE_LANG", raising=False)
    assert t("problem.error") == "Fehler"
    assert t("problem.error", "en") == "error"


def test_unknown_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        t("no.such.key")


def test_a_problem_renders_as_one_line_with_where_severity_field_and_message() -> None:
    from core import Location, Problem

    in_file = Problem(
        Location(file="q.yaml", line=12, column=5, field="sections[0].id"), "problem.error"
    )
    assert in_file.render("en") == "q.yaml:12:5: error: sections[0].id: error"
    in_table = Problem(Location(file="pks.csv", row=7, field="count"), "problem.error")
    assert in_table.render("de") == "pks.csv: Zeile 7: Fehler: count: Fehler"
    assert in_table.render("en") == "pks.csv: row 7: error: count: error"
