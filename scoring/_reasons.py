"""One-line plain-language reasons per action field, in German and English, via ``t()``.

A reason names the reference and its population, the excess cases, whether few cases pulled
the estimate toward the reference, what is unclear, and what the rank rests on when a component
is missing — so a prevention manager can read it aloud in the KPR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core import format_integer, format_number, format_population, t

#: Languages every reason is produced in (the ranking has ``reason`` and ``reason_en``).
REASON_LANGUAGES: tuple[str, str] = ("de", "en")
#: Below this weight of the area's own data the reason says that few cases pulled the estimate
#: toward the reference (the shrunken estimate is then mostly the reference level).
SHRINKAGE_NOTE_BELOW = 0.5


@dataclass(frozen=True)
class RegisteredFigures:
    """The registered side of one row, as the reason quotes it (NaN where missing)."""

    cases: float
    expected: float
    sir: float
    sir_low: float
    sir_high: float
    excess: float
    excess_low: float
    excess_high: float
    sir_shrunk: float
    weight: float
    state: str | None
    rate: float
    rate_low: float
    rate_high: float


@dataclass(frozen=True)
class Reference:
    """What the registered side is compared with, for the reason's words."""

    name: str | None
    #: The area lies inside the named reference: "im übrigen Sachsen".
    rest_of: bool
    population: float


@dataclass(frozen=True)
class PerceivedFigures:
    """The survey side of one row (NaN where missing)."""

    share: float
    share_low: float
    share_high: float
    state: str | None
    threshold: float
    suppressed: bool
    no_substantive: bool
    #: What ``threshold`` is: ``"threshold"`` (the default level), ``"wave"`` (an earlier
    #: survey, ``reference_label`` its title) or ``"table"`` (a given table, its file name).
    reference_source: str = "threshold"
    reference_label: str = ""


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _sir_digits(value: float) -> int:
    return 1 if value >= 0.095 else 2


def _reference_words(reference: Reference, lang: str) -> str:
    population = (
        format_population(reference.population, lang) if math.isfinite(reference.population) else ""
    )
    if reference.name:
        key = (
            "scoring.reason.reference_rest"
            if reference.rest_of
            else "scoring.reason.reference_named"
        )
        return t(key, lang, name=reference.name, population=population)
    return t("scoring.reason.reference_pool", lang, population=population)


def registered_words(figures: RegisteredFigures, reference: Reference, lang: str) -> str:
    """The registered half of a reason."""
    if not _finite(figures.sir, figures.sir_low, figures.sir_high):
        if _finite(figures.rate, figures.rate_low, figures.rate_high):
            return t(
                "scoring.reason.rate_only",
                lang,
                rate=format_number(figures.rate, 1, lang),
                low=format_number(figures.rate_low, 1, lang),
                high=format_number(figures.rate_high, 1, lang),
            )
        return t("scoring.reason.no_incidents", lang)
    digits = _sir_digits(figures.sir)
    known_population = math.isfinite(reference.population)
    parts = [
        t(
            "scoring.reason.registered_population"
            if known_population
            else "scoring.reason.registered",
            lang,
            sir=format_number(figures.sir, digits, lang),
            low=format_number(figures.sir_low, digits, lang),
            high=format_number(figures.sir_high, digits, lang),
            reference=_reference_words(reference, lang),
            population=format_population(reference.population, lang),
        )
    ]
    if _finite(figures.excess, figures.excess_low, figures.excess_high):
        key = "scoring.reason.excess_more" if figures.excess >= 0 else "scoring.reason.excess_fewer"
        parts.append(
            t(
                key,
                lang,
                count=round(abs(figures.excess)),
                cases=format_integer(abs(figures.excess), lang),
                low=format_integer(figures.excess_low, lang),
                high=format_integer(figures.excess_high, lang),
            )
        )
    if math.isfinite(figures.weight) and figures.weight < SHRINKAGE_NOTE_BELOW:
        parts.append(
            t(
                "scoring.reason.shrunk",
                lang,
                cases=format_integer(figures.cases, lang),
                expected=format_number(figures.expected, 1, lang),
                shrunk=format_number(figures.sir_shrunk, _sir_digits(figures.sir_shrunk), lang),
            )
        )
    if figures.state == "unclear":
        parts.append(t("scoring.reason.registered_unclear", lang))
    return ", ".join(parts)


def perceived_words(figures: PerceivedFigures, lang: str, min_cell: int) -> str:
    """The survey half of a reason."""
    if _finite(figures.share, figures.share_low, figures.share_high):
        words = t(
            "scoring.reason.perceived",
            lang,
            share=format_number(100 * figures.share, 0, lang),
            low=format_number(100 * figures.share_low, 0, lang),
            high=format_number(100 * figures.share_high, 0, lang),
        )
        if figures.state == "unclear":
            words += ", " + t(
                "scoring.reason.perceived_unclear",
                lang,
                threshold=format_number(100 * figures.threshold, 0, lang),
            )
        return f"{words}, {compared_with(figures, lang)}"
    if figures.suppressed:
        return t("scoring.reason.suppressed", lang, min_cell=min_cell)
    if figures.no_substantive:
        return t("scoring.reason.no_substantive", lang)
    return t("scoring.reason.no_survey", lang)


def compared_with(figures: PerceivedFigures, lang: str) -> str:
    """Which perceived reference the share was compared with: "verglichen mit der Befragung
    „Sicherheitsbefragung 2024“ (31 %)" or "verglichen mit dem Richtwert 25 %"."""
    share = format_number(100 * figures.threshold, 0, lang)
    source = figures.reference_source if figures.reference_source in ("wave", "table") else None
    if source is None:
        return t("scoring.reason.compared_threshold", lang, share=share)
    return t(f"scoring.reason.compared_{source}", lang, label=figures.reference_label, share=share)


def reason(
    *,
    label: str,
    lang: str,
    registered: RegisteredFigures,
    reference: Reference,
    perceived: PerceivedFigures,
    min_cell: int,
) -> str:
    """One line such as "Graffiti: 2,1-mal so häufig wie im übrigen Sachsen (3,4 Mio. Einw.;
    95 %-KI 2,0–2,2), 1.227 Fälle mehr als erwartet (1.100–1.350); 38 % der Befragten sehen
    ein ziemliches oder großes Problem (31–45 %)".

    A missing component is scored neutral (neither raising nor lowering the rank); the line
    says so.
    """
    registered_text = registered_words(registered, reference, lang)
    perceived_text = perceived_words(perceived, lang, min_cell)
    has_registered = _finite(registered.sir)
    has_perceived = _finite(perceived.share)
    if has_registered and not has_perceived:
        perceived_text = f"{perceived_text} – {t('scoring.reason.perceived_neutral', lang)}"
    elif has_perceived and not has_registered:
        registered_text = f"{registered_text} – {t('scoring.reason.registered_neutral', lang)}"
    return t(
        "scoring.reason.line",
        lang,
        label=label,
        registered=registered_text,
        perceived=perceived_text,
    )


def unranked_reason(
    registered: RegisteredFigures, perceived: PerceivedFigures, lang: str, min_cell: int
) -> str | None:
    """Why a field has no rank (neither component), or ``None`` when it has one."""
    if _finite(registered.sir) or _finite(perceived.share):
        return None
    return t(
        "scoring.reason.unranked_because",
        lang,
        registered=registered_words(registered, Reference(None, False, math.nan), lang),
        perceived=perceived_words(perceived, lang, min_cell),
    )
