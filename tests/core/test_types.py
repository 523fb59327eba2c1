from __future__ import annotations

from core import localized


def test_the_asked_language_wins() -> None:
    assert localized({"de": "Graffiti", "en": "graffiti"}, "en") == "graffiti"


def test_a_missing_or_blank_language_falls_back_to_german_then_to_any() -> None:
    assert localized({"de": "Graffiti", "en": " "}, "en") == "Graffiti"
    assert localized({"fr": "tag"}, "en") == "tag"
    assert localized({"de": "Sicherheit", "en": "safety"}, "fr", fallback="en") == "safety"


def test_nothing_to_show_gives_the_default_never_none() -> None:
    assert localized({}, "de", default="graffiti") == "graffiti"
    assert localized(None, "de") == ""
