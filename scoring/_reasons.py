"""One-line plain-language reasons per action field, in German and English, via ``t()``."""

from __future__ import annotations

import math

from core import format_number, t

#: Languages every reason is produced in (the ranking has ``reason`` and ``reason_en``).
REASON_LANGUAGES: tuple[str, str] = ("de", "en")


def _estimate(
    value: float | None, low: float | None, high: float | None
) -> tuple[float, float, float] | None:
    """The point estimate with its interval, or ``None`` when any of the three is missing."""
    if value is None or low is None or high is None:
        return None
    if not (math.isfinite(value) and math.isfinite(low) and math.isfinite(high)):
        return None
    return value, low, high


def _sir_digits(value: float) -> int:
    return 1 if value >= 0.095 else 2


def reason(
    *,
    label: str,
    lang: str,
    sir: float | None,
    sir_ci_low: float | None,
    sir_ci_high: float | None,
    rate: float | None,
    rate_ci_low: float | None,
    rate_ci_high: float | None,
    reference_name: str | None,
    share: float | None,
    share_ci_low: float | None,
    share_ci_high: float | None,
    suppressed: bool,
    min_cell: int,
) -> str:
    """One line such as "Graffiti: 2,1-mal so häufig wie in Sachsen (95 %-KI 2,0–2,2); 38 % der
    Befragten sehen ein ziemliches oder großes Problem (31–45 %)".

    When a component is missing the line says so and says what the rank rests on, since the
    missing component is left out of the priority, not counted as zero.
    """
    sir_estimate = _estimate(sir, sir_ci_low, sir_ci_high)
    rate_estimate = _estimate(rate, rate_ci_low, rate_ci_high)
    share_estimate = _estimate(share, share_ci_low, share_ci_high)
    has_registered = sir_estimate is not None
    has_perceived = share_estimate is not None
    if sir_estimate is not None:
        sir, sir_ci_low, sir_ci_high = sir_estimate
        digits = _sir_digits(sir)
        reference = (
            t("scoring.reason.reference_named", lang, name=reference_name)
            if reference_name
            else t("scoring.reason.reference_all", lang)
        )
        registered = t(
            "scoring.reason.registered",
            lang,
            sir=format_number(sir, digits, lang),
            low=format_number(sir_ci_low, digits, lang),
            high=format_number(sir_ci_high, digits, lang),
            reference=reference,
        )
    elif rate_estimate is not None:
        rate, rate_ci_low, rate_ci_high = rate_estimate
        registered = t(
            "scoring.reason.rate_only",
            lang,
            rate=format_number(rate, 1, lang),
            low=format_number(rate_ci_low, 1, lang),
            high=format_number(rate_ci_high, 1, lang),
        )
    else:
        registered = t("scoring.reason.no_incidents", lang)
    if share_estimate is not None:
        share, share_ci_low, share_ci_high = share_estimate
        perceived = t(
            "scoring.reason.perceived",
            lang,
            share=format_number(100 * share, 0, lang),
            low=format_number(100 * share_ci_low, 0, lang),
            high=format_number(100 * share_ci_high, 0, lang),
        )
    elif suppressed:
        perceived = t("scoring.reason.suppressed", lang, min_cell=min_cell)
    else:
        perceived = t("scoring.reason.no_survey", lang)
    if has_registered and not has_perceived:
        perceived = f"{perceived} – {t('scoring.reason.incidents_only', lang)}"
    elif has_perceived and not has_registered:
        registered = f"{registered} – {t('scoring.reason.survey_only', lang)}"
    elif not has_registered and not has_perceived:
        perceived = f"{perceived} – {t('scoring.reason.unranked', lang)}"
    return t("scoring.reason.line", lang, label=label, registered=registered, perceived=perceived)
