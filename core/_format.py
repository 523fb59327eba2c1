"""Numbers as people read them: the one place that formats numbers for display.

German (the default) writes a decimal comma and a thousands dot (``1.234,5``) and a space
before the percent sign (``38 %``, DIN 5008); English writes ``1,234.5`` and ``38%``. The
pages, the report, the charts' labels, the CLI's messages and the exports meant for people
use these functions; machine-readable exports keep plain numbers.
"""

from __future__ import annotations

import math
from datetime import date

from core.i18n import DEFAULT_LANGUAGE

#: Decimal mark and thousands separator per language, in Plotly's ``separators`` order.
SEPARATORS: dict[str, str] = {"de": ",.", "en": ".,"}

#: What a missing or non-finite number is shown as.
MISSING = ""


def number_separators(lang: str) -> str:
    """Decimal mark then thousands separator of ``lang`` (``",."`` in German), for Plotly."""
    return SEPARATORS.get(lang, SEPARATORS[DEFAULT_LANGUAGE])


def format_number(value: object, digits: int, lang: str) -> str:
    """``value`` rounded to ``digits`` decimals: ``2,1`` and ``1.234,5`` in German, ``2.1`` and
    ``1,234.5`` in English; a missing or non-finite value is :data:`MISSING`."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # None and pandas' NA
        return MISSING
    if not math.isfinite(number):
        return MISSING
    text = f"{number:,.{digits}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]  # "-0,0" reads as a sign error
    separators = number_separators(lang)
    decimal, thousands = separators[0], separators[1]
    return text.replace(",", "\u0000").replace(".", decimal).replace("\u0000", thousands)


def format_integer(value: object, lang: str) -> str:
    """A count: ``4.444.108`` in German, ``4,444,108`` in English."""
    return format_number(value, 0, lang)


def format_short(value: object, lang: str) -> str:
    """A whole number without decimals, otherwise one decimal (``3``, ``2,5``): for ranks."""
    text = format_number(value, 1, lang)
    decimal = number_separators(lang)[0]
    return text[:-2] if text.endswith(f"{decimal}0") else text


def format_population(value: object, lang: str) -> str:
    """An inhabitant count as a report says it: ``3,4 Mio.`` / ``3.4 million`` from a
    million on, otherwise the whole number (``601.892``)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    if number >= 1_000_000:
        millions = format_number(number / 1_000_000, 1, lang)
        return f"{millions} Mio." if lang == "de" else f"{millions} million"
    return format_integer(number, lang)


def format_percent(share: object, digits: int, lang: str) -> str:
    """A share (0–1) as a percentage: ``38 %`` or ``12,5 %`` in German, ``38%`` in English."""
    try:
        text = format_number(100 * float(share), digits, lang)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    if not text:
        return text
    return f"{text} %" if number_separators(lang) == SEPARATORS["de"] else f"{text}%"


def format_date(value: date, lang: str) -> str:
    """A date as people write it: ``07.09.2026`` in German (DIN 5008), ``2026-09-07`` in
    English (ISO 8601, unambiguous for every English reader)."""
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()
