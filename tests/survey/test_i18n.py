from __future__ import annotations

import pytest

from survey.i18n import UI_LANGUAGES, catalogue, t


def test_catalogue_loads_and_every_key_has_every_ui_language() -> None:
    messages = catalogue()
    assert messages, "the catalogue is empty"
    for key, texts in messages.items():
        for lang in UI_LANGUAGES:
            assert texts[lang].strip(), f"{key} has an empty {lang} text"


def test_german_is_the_default_and_english_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SICHERHEITSANALYSE_LANG", raising=False)
    assert t("problem.error") == "Fehler"
    assert t("problem.error", "en") == "error"


def test_unknown_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        t("no.such.key")
