"""The one message catalogue for every user-facing string.

Messages live in ``core/locales/*.yaml``, one file per area of the product (``common``,
``questionnaire``, ``form``, ``scoring``, ``manager`` ...), each mapping a dotted key to its
text per language::

    form.next:
      de: Weiter
      en: Next

All files are merged into a single catalogue; a key may be defined in one file only.
German is the default language; English is the second. Placeholders use ``str.format``
syntax (``{name}``).

A message that counts something has plural forms: its text per language is a mapping of
``one`` and ``other``, and the caller passes ``count`` (also usable as ``{count}``)::

    form.code_wait:
      de:
        one: Bitte warten Sie {count} Sekunde.
        other: Bitte warten Sie {count} Sekunden.

German and English both use ``one`` for exactly 1 and ``other`` for every other number.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

DEFAULT_LANGUAGE = "de"
UI_LANGUAGES: tuple[str, ...] = ("de", "en")
LANGUAGE_ENV_VAR = "SICHERHEITSANALYSE_LANG"
LOCALES_DIR = Path(__file__).parent / "locales"


class CatalogueError(Exception):
    """The message catalogue itself is broken (duplicate key, missing language)."""


#: A message's text in one language: plain, or plural forms by category.
Text = str | Mapping[str, str]
PLURAL_CATEGORIES: tuple[str, ...] = ("one", "other")


def _text(path: Path, key: str, value: object) -> Text:
    if isinstance(value, dict):
        if set(value) != set(PLURAL_CATEGORIES):
            raise CatalogueError(
                f"{path.name}: key {key!r} has plural forms {sorted(value)}, "
                f"expected exactly {list(PLURAL_CATEGORIES)}"
            )
        return {str(category): str(text) for category, text in value.items()}
    return str(value)


@cache
def catalogue() -> Mapping[str, Mapping[str, Text]]:
    """Load and merge every locale file; raise :class:`CatalogueError` on conflicts."""
    yaml = YAML(typ="safe")
    merged: dict[str, dict[str, Text]] = {}
    origin: dict[str, str] = {}
    for path in sorted(LOCALES_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise CatalogueError(f"{path.name}: expected a mapping of message keys")
        for key, texts in data.items():
            if key in merged:
                raise CatalogueError(
                    f"{path.name}: key {key!r} is already defined in {origin[key]}"
                )
            if not isinstance(texts, dict) or not all(lang in texts for lang in UI_LANGUAGES):
                raise CatalogueError(f"{path.name}: key {key!r} needs a text for {UI_LANGUAGES}")
            merged[str(key)] = {
                str(lang): _text(path, str(key), text) for lang, text in texts.items()
            }
            origin[str(key)] = path.name
    return merged


def current_language() -> str:
    """The language chosen by ``SICHERHEITSANALYSE_LANG``, German by default."""
    lang = os.environ.get(LANGUAGE_ENV_VAR, DEFAULT_LANGUAGE)
    return lang if lang in UI_LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Translate ``key`` into ``lang`` (default: :func:`current_language`) and fill ``params``.

    A message with plural forms needs ``count``; the form is ``one`` for exactly 1 and
    ``other`` otherwise. An unknown key is a programming error and raises ``KeyError``, so
    tests catch it.
    """
    texts = catalogue()[key]
    chosen = lang if lang in UI_LANGUAGES else current_language()
    text = texts.get(chosen) or texts[DEFAULT_LANGUAGE]
    if not isinstance(text, str):
        count = params["count"]  # a plural message without a count is a programming error
        text = text["one" if count == 1 else "other"]
    return text.format(**params) if params else text
