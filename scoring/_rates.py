"""Incident indicators: rates, SIR, empirical Bayes and funnel plots (change over time is
:func:`scoring._comparison.rate_change`).

All rates are per 100,000 inhabitants. Counts are treated as Poisson with the population as
exposure. Groups are ``year × field`` (and ``breakdown`` where the counts have one).

Areas nest: a Kreis key (``14713``) is a prefix of its Gemeinden (``14713000``) and of
districts keyed below them (``14713000-01``). Wherever areas are pooled (the default reference,
the empirical-Bayes prior, the overdispersion estimate) only non-overlapping areas are used,
so nothing is counted twice: the default reference pools the *outermost* areas (those with no
enclosing area in the input), the prior and ``phi`` the *innermost* ones (those with no
sub-area in the input). A whole municipality's population is always its own row, never the sum
of its districts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from core import InvalidInput, Location, Problem

PER = 100_000.0
#: Series with at least this many years get a GLM; shorter ones Kendall's tau / Theil–Sen.
MIN_GLM_YEARS = 5
#: Pearson dispersion above which the Poisson GLM is replaced by a negative binomial.
OVERDISPERSION_THRESHOLD = 1.5
#: Winsorising quantile for the overdispersion estimate (Spiegelhalter 2005, section 3.2).
WINSOR = 0.10
#: Fewest pooled areas for which ``phi`` is estimated.
MIN_AREAS_FOR_PHI = 3


# --- exact Poisson building blocks -------------------------------------------------------------


def garwood_interval(
    cases: np.ndarray | pd.Series, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) confidence limits for a Poisson mean.

    .. math:: \\mu_L = \\tfrac12 \\chi^2_{2x,\\,\\alpha/2}, \\qquad
              \\mu_U = \\tfrac12 \\chi^2_{2x+2,\\,1-\\alpha/2}

    with :math:`\\mu_L = 0` for :math:`x = 0`. Equals ``statsmodels.stats.rates.
    confint_poisson(x, 1, method="exact-c")``.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28, 437–442.
    """
    x = np.asarray(cases, dtype=float)
    low = np.where(x > 0, stats.gamma.ppf(alpha / 2, np.maximum(x, 1e-300)), 0.0)
    high = stats.gamma.ppf(1 - alpha / 2, x + 1)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def poisson_two_sided_p(
    observed: np.ndarray | pd.Series, expected: np.ndarray | pd.Series
) -> np.ndarray:
    """Exact two-sided p-value of ``observed`` under Poisson(``expected``).

    .. math:: p = \\min\\{1,\\; 2 \\min[P(X \\le O), P(X \\ge O)]\\}, \\quad X \\sim
              \\mathrm{Poisson}(E)

    (doubling the smaller tail; ``statsmodels`` ``test_poisson(..., method="exact-c")``).

    References
    ----------
    Breslow, N. E. & Day, N. E. (1987). Statistical Methods in Cancer Research, vol. II: The
    Design and Analysis of Cohort Studies. IARC, Lyon. Chapter 2.
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    valid = np.isfinite(e) & (e > 0) & np.isfinite(o)
    e_safe = np.where(valid, e, 1.0)
    o_safe = np.where(valid, o, 0.0)
    lower = stats.poisson.cdf(o_safe, e_safe)
    upper = stats.poisson.sf(o_safe - 1, e_safe)
    p = np.minimum(1.0, 2 * np.minimum(lower, upper))
    return np.asarray(np.where(valid, p, np.nan), dtype=float)


# --- area nesting ------------------------------------------------------------------------------


def _enclosing(areas: Iterable[str]) -> dict[str, bool]:
    """For each area: does another listed area enclose it (an all-digit key it starts with)?"""
    unique = set(areas)
    digits = {a for a in unique if a.isdigit() and len(a) >= 2}
    return {a: any(a != d and a.startswith(d) for d in digits) for a in unique}


def _has_sub_area(areas: Iterable[str]) -> dict[str, bool]:
    unique = set(areas)
    enclosed = [a for a, inside in _enclosing(unique).items() if inside]
    return {
        a: a.isdigit() and len(a) >= 2 and any(e != a and e.startswith(a) for e in enclosed)
        for a in unique
    }


# --- indicators --------------------------------------------------------------------------------


def _population_totals(population: pd.DataFrame) -> pd.DataFrame:
    """One population per area × year: the total rows (no ``sex``/``age_group``) only."""
    frame = population.copy()
    detail = [c for c in ("sex", "age_group") if c in frame.columns]
    if detail:
        frame = frame[frame[detail].isna().all(axis=1)]
    columns = ["area", "year", "population", *(["derived"] if "derived" in frame else [])]
    frame = frame[columns].assign(area=frame["area"].astype("string"))
    return frame.drop_duplicates(["area", "year"])


def _resolve_reference(frame: pd.DataFrame, reference: str) -> str:
    areas = frame["area"].astype(str)
    if (areas == reference).any():
        return reference
    if "area_name" in frame.columns:
        names = frame.loc[frame["area_name"].astype(str) == reference, "area"].astype(str)
        if names.nunique() == 1:
            return str(names.iloc[0])
    examples = ", ".join(sorted(areas.unique())[:5])
    raise InvalidInput(
        [
            Problem(
                Location(field="reference"),
                "tables.unknown_reference",
                {"reference": reference, "examples": examples},
            )
        ]
    )


def _marshall(frame: pd.DataFrame, group: list[str], pool: pd.Series) -> pd.Series:
    """Marshall's global empirical-Bayes rate per person (method of moments).

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. Applied Statistics 40(2):283–294.
    """
    n = frame["population"].where(pool)
    x = frame["cases"].where(pool)
    keys = [frame[g] for g in group]
    total_n = n.groupby(keys, dropna=False).transform("sum")
    total_x = x.groupby(keys, dropna=False).transform("sum")
    k = n.groupby(keys, dropna=False).transform("count")
    m = total_x / total_n
    raw = frame["cases"] / frame["population"]
    spread = (n * (raw - m) ** 2).groupby(keys, dropna=False).transform("sum")
    s2 = spread / total_n
    a = (s2 - m / (total_n / k)).clip(lower=0)
    shrink = a / (a + m / frame["population"])
    shrink = shrink.where(a + m / frame["population"] > 0, 0.0)
    return m + shrink * (raw - m)


def _phi(z: pd.Series, frame: pd.DataFrame, group: list[str], pool: pd.Series) -> pd.Series:
    """Spiegelhalter's multiplicative overdispersion: mean of squared winsorised z-scores."""
    pooled = z.where(pool & np.isfinite(z))
    keys = [frame[g] for g in group]
    grouped = pooled.groupby(keys, dropna=False)
    # Built-in grouped quantiles, not a Python lambda per group: the same values, faster.
    low = grouped.transform("quantile", WINSOR)
    high = grouped.transform("quantile", 1 - WINSOR)
    winsorised = pooled.clip(lower=low, upper=high)
    k = winsorised.groupby(keys, dropna=False).transform("count")
    phi = (winsorised**2).groupby(keys, dropna=False).transform("sum") / k
    return phi.where(k >= MIN_AREAS_FOR_PHI)


def incident_indicators(
    counts: pd.DataFrame,
    population: pd.DataFrame,
    *,
    reference: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rates, SIR, empirical-Bayes rates and funnel z-scores per area × year × field.

    With :math:`x` cases among :math:`n` inhabitants:

    - rate :math:`r = 10^5\\, x / n` with the exact interval :math:`10^5 [\\mu_L, \\mu_U] / n`
      (Garwood 1936, see :func:`garwood_interval`);
    - reference rate :math:`\\theta_0 = \\sum x_j / \\sum n_j` over the named ``reference`` area,
      or by default over the outermost areas of the input for that field and year;
    - expected :math:`E = n\\,\\theta_0`; :math:`\\mathrm{SIR} = x / E` with the exact interval
      :math:`[\\mu_L, \\mu_U] / E` and the exact two-sided Poisson p-value for
      :math:`\\mathrm{SIR} = 1` (Breslow & Day 1987, the reference treated as fixed);
    - Marshall's global empirical-Bayes rate over the innermost areas (the reference area
      excluded): :math:`m = \\sum x / \\sum n`, :math:`s^2 = \\sum n_i (r_i - m)^2 / \\sum n`,
      :math:`A = \\max(0, s^2 - m / \\bar n)`, :math:`C_i = A / (A + m / n_i)`,
      :math:`\\tilde r_i = m + C_i (r_i - m)` (Marshall 1991);
    - funnel z-score :math:`z = (x - E) / \\sqrt{E}`, the overdispersion
      :math:`\\hat\\phi = k^{-1} \\sum z_w^2` over the same pool with :math:`z` winsorised at the
      10 % / 90 % quantiles, and :math:`z / \\sqrt{\\hat\\phi}` where :math:`\\hat\\phi > 1`
      (Spiegelhalter 2005). ``phi`` is NaN with fewer than 3 pooled areas.

    Parameters
    ----------
    counts
        ``area, year, field, cases`` (and optionally ``breakdown``, ``area_name``), e.g. from
        :func:`scoring.field_counts`.
    population
        ``area, year, population`` (optionally ``derived``); rows with a ``sex`` or
        ``age_group`` (weighting margins) are ignored.
    reference
        An area key (or unique area name) to compare against; default: the pooled input.
    alpha
        1 − confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``counts`` with ``cases, population, rate_per_100k, rate_ci_low,
        rate_ci_high, reference_rate, expected, sir, sir_ci_low, sir_ci_high, sir_p, eb_rate,
        funnel_z, phi, funnel_z_adjusted`` (and ``population_derived``). Rows without a
        population have NaN rates.

    References
    ----------
    Garwood (1936) Biometrika 28:437–442. Breslow & Day (1987) Statistical Methods in Cancer
    Research II, IARC Sci. Publ. 82. Marshall, R. J. (1991). Mapping disease and mortality
    rates using empirical Bayes estimators. Applied Statistics (Journal of the Royal
    Statistical Society, Series C) 40(2):283–294. Spiegelhalter, D. J. (2005). Funnel plots for comparing
    institutional performance. Stat Med 24:1185–1202.
    """
    group = ["year", "field", *(["breakdown"] if "breakdown" in counts.columns else [])]
    frame = counts.copy()
    frame["area"] = frame["area"].astype("string")
    pop = _population_totals(population)
    if "population" in frame.columns:
        frame = frame.drop(columns="population")
    frame = frame.merge(pop, on=["area", "year"], how="left")
    if "derived" in frame.columns:
        frame = frame.rename(columns={"derived": "population_derived"})
        frame["population_derived"] = frame["population_derived"].fillna(False).astype(bool)
    frame["cases"] = frame["cases"].astype(float)
    frame["population"] = frame["population"].astype(float)
    has_pop = frame["population"] > 0

    x = frame["cases"].to_numpy()
    n = frame["population"].where(has_pop).to_numpy()
    low, high = garwood_interval(x, alpha)
    frame["rate_per_100k"] = PER * x / n
    frame["rate_ci_low"] = PER * low / n
    frame["rate_ci_high"] = PER * high / n

    areas = frame["area"].astype(str)
    keys = [frame[g] for g in group]
    if reference is not None:
        ref_area = _resolve_reference(frame, reference)
        in_reference = (areas == ref_area) & has_pop
    else:
        ref_area = None
        enclosed = _enclosing(areas)
        in_reference = has_pop & ~areas.map(enclosed).astype(bool)
    ref_x = frame["cases"].where(in_reference).groupby(keys, dropna=False).transform("sum")
    ref_n = frame["population"].where(in_reference).groupby(keys, dropna=False).transform("sum")
    theta = (ref_x / ref_n.where(ref_n > 0)).to_numpy()
    frame["reference_rate"] = PER * theta
    expected = n * theta
    frame["expected"] = expected
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["sir"] = x / expected
        frame["sir_ci_low"] = low / expected
        frame["sir_ci_high"] = high / expected
        frame["funnel_z"] = (x - expected) / np.sqrt(expected)
    frame["sir_p"] = poisson_two_sided_p(x, expected)

    sub = _has_sub_area(areas)
    pool = has_pop & ~areas.map(sub).astype(bool)
    if ref_area is not None:
        pool &= areas != ref_area
    frame["eb_rate"] = PER * _marshall(frame, group, pool).where(has_pop)
    phi = _phi(frame["funnel_z"], frame, group, pool)
    frame["phi"] = phi
    scale = np.sqrt(phi.where(phi > 1, 1.0).fillna(1.0))
    frame["funnel_z_adjusted"] = frame["funnel_z"] / scale
    return frame.reset_index(drop=True)


def funnel_limits(
    reference_rate: float,
    populations: Sequence[float] | np.ndarray,
    *,
    levels: Sequence[float] = (0.95, 0.998),
    phi: float | None = None,
    tau2: float | None = None,
) -> pd.DataFrame:
    """Funnel-plot control limits (rates per 100,000) over a population grid.

    Without overdispersion (``phi`` None or ≤ 1) the limits are exact Poisson quantiles,
    interpolated to be continuous (Spiegelhalter 2005, appendix A.1.1): with
    :math:`\\lambda = n\\theta_0` and :math:`r_p = F^{-1}(p)`,

    .. math:: \\alpha = \\frac{F(r_p) - p}{F(r_p) - F(r_p - 1)}, \\qquad
              \\text{limit}_p = 10^5 (r_p - \\alpha) / n.

    With ``phi > 1`` the normal approximation inflated by :math:`\\sqrt\\phi`:
    :math:`\\theta_0 \\pm z_p \\sqrt{\\phi\\, \\theta_0 / n}` (section 3.2), floored at 0.
    With ``tau2`` (the additive between-area variance of the SIR, shown by a test:
    :func:`scoring._comparison.gamma_shape`) the additive random-effects form
    :math:`\\theta_0 \\pm z_p \\sqrt{\\theta_0 / n + \\tau^2 \\theta_0^2}` (section 3.3): the limits
    no longer narrow to nothing for large areas, since areas differ beyond chance.

    Returns
    -------
    pandas.DataFrame
        ``population`` and ``lower_<level>``/``upper_<level>`` per level, e.g. ``lower_95``,
        ``upper_99_8``.

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185–1202.
    """
    n = np.asarray(populations, dtype=float)
    theta = reference_rate / PER
    out = pd.DataFrame({"population": n})
    for level in levels:
        label = f"{level * 100:g}".replace(".", "_")
        for side, p in (("lower", (1 - level) / 2), ("upper", 1 - (1 - level) / 2)):
            if tau2 is not None and tau2 > 0:
                z = stats.norm.ppf(p)
                limit = np.maximum(theta + z * np.sqrt(theta / n + tau2 * theta**2), 0.0)
            elif phi is not None and phi > 1:
                z = stats.norm.ppf(p)
                limit = np.maximum(theta + z * np.sqrt(phi * theta / n), 0.0)
            else:
                lam = n * theta
                r = stats.poisson.ppf(p, lam)
                f_r = stats.poisson.cdf(r, lam)
                f_prev = stats.poisson.cdf(r - 1, lam)
                step = np.where(
                    f_r > f_prev, (f_r - p) / np.where(f_r > f_prev, f_r - f_prev, 1), 0
                )
                limit = np.maximum(r - step, 0.0) / n
            out[f"{side}_{label}"] = PER * limit
    return out
