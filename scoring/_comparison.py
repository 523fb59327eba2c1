r"""Comparing an area's registered cases with a reference: rate ratios against the *rest* of
the reference, small-area shrinkage, overdispersion and change over time.

The surveyed area is never part of its own comparison. A town inside its Land is compared with
the Land *minus* the town (:func:`rate_ratio`), by the exact conditional test: given the
:math:`T = O + R` cases of the town and the rest together, the town's share of them is
binomial with the town's share of the population under equal rates. The same test compares a
year with the years before (:func:`rate_change`).

Small areas: a village with 0 arsons where 0.06 were expected says almost nothing about its
arson rate. :func:`poisson_gamma` shrinks each SIR towards 1 (the reference level) with a
gamma prior whose strength :func:`gamma_shape` estimates from the spread of the reference's
areas (their negative-binomial dispersion), so an area's estimate rests on its own cases only
as far as they carry information. Where too few areas are there to estimate it, a documented
prior (:data:`FALLBACK_GAMMA_SHAPE`) is used, and the caller is told.

Every estimate has an interval; :func:`three_state` turns an interval and a threshold into
*high*, *not high* or *unclear*, so nothing is called low or high that the data cannot carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from scoring._intervals import wilson_interval

FloatArray = NDArray[np.float64]

#: Fewest reference areas (with an expected count > 0) from which the gamma prior's shape
#: is estimated; below this the fallback prior is used.
MIN_AREAS_FOR_SHAPE = 5
#: Prior shape used when the reference has too few areas: SIR ~ Gamma(2, 2), a 95 % prior
#: range of about 0.12–2.8 around the reference level. Registered rates of the Saxon Kreise
#: in the PKS 2022 vary with a coefficient of variation of about 0.4 (all offences) to well
#: over 0.7 (single offence groups), so this prior lets an area differ from its reference by
#: the factors actually seen while keeping a village's 0 or 3 cases from dominating.
FALLBACK_GAMMA_SHAPE = 2.0
#: Significance level of the overdispersion test; dispersion is used only when it is shown.
DISPERSION_TEST_LEVEL = 0.05
#: Years from which a change over time gets a quasi-Poisson trend (fewer: rate ratios only).
MIN_YEARS_FOR_TREND = 4


class State(StrEnum):
    """Whether a component is high, with its uncertainty."""

    HIGH = "high"
    NOT_HIGH = "not_high"
    UNCLEAR = "unclear"


def three_state(low: ArrayLike, high: ArrayLike, threshold: ArrayLike) -> NDArray[np.object_]:
    """*high* where the whole interval lies above ``threshold``, *not high* where it lies at or
    below it, *unclear* where it straddles it; ``None`` where the interval is unknown.

    Parameters
    ----------
    low, high
        Interval limits (same shape).
    threshold
        The level that counts as high (1 for an SIR, the comparison share for a survey share),
        broadcast against the limits.
    """
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    level = np.broadcast_to(np.asarray(threshold, dtype=np.float64), lo.shape)
    out = np.full(lo.shape, None, dtype=object)
    known = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(level)
    out[known & (lo > level)] = str(State.HIGH)
    out[known & (hi <= level)] = str(State.NOT_HIGH)
    out[known & (lo <= level) & (hi > level)] = str(State.UNCLEAR)
    return out


@dataclass(frozen=True)
class RateRatio:
    """An area's rate against a comparison rate, with the excess cases it implies.

    All fields are arrays of the inputs' broadcast shape.
    """

    #: :math:`(O/n) / (R/m)`; ``inf`` where the comparison has no cases.
    ratio: FloatArray
    ratio_low: FloatArray
    ratio_high: FloatArray
    #: Exact two-sided p-value of the conditional binomial test of equal rates.
    p_value: FloatArray
    #: Cases expected at the comparison rate, :math:`E = n R / m`.
    expected: FloatArray
    #: Excess cases :math:`O - E`, with the interval :math:`E(\mathrm{RR}_L - 1)` to
    #: :math:`E(\mathrm{RR}_U - 1)`.
    excess: FloatArray
    excess_low: FloatArray
    excess_high: FloatArray


def _odds(p: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(p >= 1.0, np.inf, p / (1.0 - p)), dtype=np.float64)


def rate_ratio(
    cases: ArrayLike,
    population: ArrayLike,
    other_cases: ArrayLike,
    other_population: ArrayLike,
    *,
    alpha: float = 0.05,
) -> RateRatio:
    r"""Rate ratio of ``cases``/``population`` against ``other_cases``/``other_population``
    by the conditional binomial method (the comparison is *another* population: for a town
    inside its Land, pass the Land minus the town).

    Given :math:`T = O + R`, under equal rates :math:`O \mid T \sim \mathrm{Bin}(T, \pi_0)`
    with :math:`\pi_0 = n / (n + m)`. With :math:`\hat\pi = O/T`,

    .. math:: \mathrm{RR} = \frac{O/n}{R/m} = \frac{\hat\pi}{1-\hat\pi}\cdot\frac{m}{n},

    and the interval maps the score (Wilson) interval of :math:`\pi` the same way (equal to
    ``statsmodels.stats.rates.confint_poisson_2indep(method="score")``). The p-value is the
    exact conditional test, doubling the smaller binomial tail. Excess cases
    :math:`O - E` with :math:`E = nR/m` and the interval :math:`E(\mathrm{RR}_{L,U} - 1)`.

    Cells with no population, or with no cases on either side, get ``NaN``.

    References
    ----------
    Breslow, N. E. & Day, N. E. (1987). *Statistical Methods in Cancer Research II*, IARC
    Sci. Publ. 82, ch. 2.3 (conditional test of two Poisson rates).
    Gu, K., Ng, H. K. T., Tang, M. L. & Schucany, W. R. (2008). Testing the ratio of two
    Poisson rates. *Biometrical Journal* 50(2):283–298. https://doi.org/10.1002/bimj.200710403

    See Also
    --------
    rate_change : the same comparison of the latest year with the years before.
    """
    o = np.asarray(cases, dtype=np.float64)
    n = np.asarray(population, dtype=np.float64)
    r = np.asarray(other_cases, dtype=np.float64)
    m = np.asarray(other_population, dtype=np.float64)
    o, n, r, m = np.broadcast_arrays(o, n, r, m)
    total = o + r
    valid = (n > 0) & (m > 0) & np.isfinite(o) & np.isfinite(r) & (o >= 0) & (r >= 0)
    valid &= total > 0
    safe_total = np.where(valid, total, 1.0)
    scale = np.where(valid, m / np.where(n > 0, n, 1.0), np.nan)
    pi_hat = np.where(valid, o, 0.0) / safe_total
    low_pi, high_pi = wilson_interval(np.where(valid, o, 0.0), safe_total, alpha=alpha)
    ratio = _odds(pi_hat) * scale
    ratio_low = _odds(low_pi) * scale
    ratio_high = _odds(high_pi) * scale
    pi0 = np.where(valid, n / np.where(valid, n + m, 1.0), 0.5)
    k = np.where(valid, o, 0.0)
    lower_tail = stats.binom.cdf(k, safe_total, pi0)
    upper_tail = stats.binom.sf(k - 1, safe_total, pi0)
    p_value = np.minimum(1.0, 2.0 * np.minimum(lower_tail, upper_tail))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = n * r / m
    nan = np.full(o.shape, np.nan)
    expected = np.where(valid, expected, nan)
    with np.errstate(invalid="ignore"):
        excess_low = expected * (ratio_low - 1.0)
        excess_high = expected * (ratio_high - 1.0)
    return RateRatio(
        ratio=np.where(valid, ratio, nan),
        ratio_low=np.where(valid, ratio_low, nan),
        ratio_high=np.where(valid, ratio_high, nan),
        p_value=np.where(valid, p_value, nan),
        expected=expected,
        excess=np.where(valid, o - expected, nan),
        excess_low=np.where(valid, excess_low, nan),
        excess_high=np.where(valid, excess_high, nan),
    )


@dataclass(frozen=True)
class Dispersion:
    """Between-area heterogeneity of registered counts around their expected values."""

    #: Pearson dispersion :math:`X^2/(k-1)`; NaN with fewer than 2 areas.
    phi: float
    #: p-value of :math:`X^2` against :math:`\chi^2_{k-1}` (no overdispersion).
    p_value: float
    #: Areas that entered the estimate.
    areas: int
    #: Shape :math:`\alpha` of the gamma prior of the SIR (``inf``: no heterogeneity shown).
    shape: float
    #: ``"estimated"`` (from the areas), ``"none"`` (tested, not shown: no shrinkage needed
    #: beyond the Poisson noise) or ``"fallback"`` (too few areas: :data:`FALLBACK_GAMMA_SHAPE`).
    source: str
    #: Additive between-area variance :math:`\hat\tau^2` of the SIR (Spiegelhalter 2005, §3.3).
    tau2: float


def gamma_shape(observed: ArrayLike, expected: ArrayLike) -> Dispersion:
    r"""How much the areas of a reference differ beyond chance, as the shape of a gamma prior
    on their SIR (mean 1).

    With :math:`O_i \sim \mathrm{Poisson}(E_i\theta_i)` and :math:`\theta_i \sim
    \mathrm{Gamma}(\alpha, \alpha)` the counts are negative binomial with
    :math:`\mathrm{Var}(O_i) = E_i + E_i^2/\alpha`. First the Pearson statistic around the
    pooled centre, :math:`X^2 = \sum_i (O_i - \hat E_i)^2 / \hat E_i` with
    :math:`\hat E_i = E_i \sum O / \sum E`, is tested against :math:`\chi^2_{k-1}`; only if
    overdispersion is shown (:data:`DISPERSION_TEST_LEVEL`) is :math:`\alpha` estimated by
    maximising the negative-binomial likelihood, otherwise :math:`\alpha = \infty` (no
    heterogeneity beyond Poisson). With fewer than :data:`MIN_AREAS_FOR_SHAPE` areas the
    documented :data:`FALLBACK_GAMMA_SHAPE` is used. The additive
    :math:`\hat\tau^2 = \max\{0, (X^2 - (k-1)) / (\sum w_i - \sum w_i^2 / \sum w_i)\}` with
    :math:`w_i = E_i` (the inverse Poisson variance of the SIR) is returned for funnel plots.

    References
    ----------
    Clayton, D. & Kaldor, J. (1987). Empirical Bayes estimates of age-standardized relative
    risks for use in disease mapping. *Biometrics* 43(3):671–681. https://doi.org/10.2307/2532003
    Spiegelhalter, D. J. (2005). Handling over-dispersion of performance indicators.
    *Quality and Safety in Health Care* 14(5):347–351. https://doi.org/10.1136/qshc.2005.013755

    See Also
    --------
    poisson_gamma : the posterior SIR under this prior.
    """
    o = np.asarray(observed, dtype=np.float64).ravel()
    e = np.asarray(expected, dtype=np.float64).ravel()
    keep = np.isfinite(o) & np.isfinite(e) & (e > 0) & (o >= 0)
    o, e = o[keep], e[keep]
    k = int(o.size)
    if k < 2 or o.sum() <= 0:
        return Dispersion(math.nan, math.nan, k, FALLBACK_GAMMA_SHAPE, "fallback", math.nan)
    centred = e * o.sum() / e.sum()
    chi2 = float(np.sum((o - centred) ** 2 / centred))
    phi = chi2 / (k - 1)
    p_value = float(stats.chi2.sf(chi2, k - 1))
    weights = centred
    denominator = float(weights.sum() - np.sum(weights**2) / weights.sum())
    tau2 = max(0.0, (chi2 - (k - 1)) / denominator) if denominator > 0 else math.nan
    if k < MIN_AREAS_FOR_SHAPE:
        return Dispersion(phi, p_value, k, FALLBACK_GAMMA_SHAPE, "fallback", tau2)
    if p_value >= DISPERSION_TEST_LEVEL:
        return Dispersion(phi, p_value, k, math.inf, "none", tau2)
    return Dispersion(phi, p_value, k, _negative_binomial_shape(o, centred), "estimated", tau2)


def _negative_binomial_shape(observed: FloatArray, mean: FloatArray) -> float:
    """Maximum-likelihood shape of a negative binomial with known means (profile in log α)."""

    def negative_log_likelihood(log_shape: float) -> float:
        a = math.exp(log_shape)
        return -float(np.sum(stats.nbinom.logpmf(observed, a, a / (a + mean))))

    fit = optimize.minimize_scalar(negative_log_likelihood, bounds=(-8.0, 12.0), method="bounded")
    return float(math.exp(fit.x))


@dataclass(frozen=True)
class Shrunken:
    """Posterior SIR per area under a gamma prior centred on the reference level."""

    mean: FloatArray
    low: FloatArray
    high: FloatArray
    #: Weight of the area's own data, :math:`E/(\alpha + E)`: near 0, the estimate is mostly
    #: the reference level (few expected cases); near 1, mostly the area's own SIR.
    weight: FloatArray
    #: Posterior gamma parameters, for draws in the rank simulation.
    shape: FloatArray
    rate: FloatArray


def poisson_gamma(
    observed: ArrayLike, expected: ArrayLike, prior_shape: float, *, alpha: float = 0.05
) -> Shrunken:
    r"""Posterior of each area's SIR :math:`\theta` under :math:`\theta \sim
    \mathrm{Gamma}(a, a)` (mean 1: the reference level) and :math:`O \sim
    \mathrm{Poisson}(E\theta)`:

    .. math:: \theta \mid O \sim \mathrm{Gamma}(a + O,\ a + E), \qquad
              \mathrm{E}[\theta \mid O] = \frac{a + O}{a + E}
              = w\,\frac{O}{E} + (1 - w)\cdot 1, \quad w = \frac{E}{a + E},

    with the equal-tailed ``1 - alpha`` posterior interval. ``prior_shape = inf`` means no
    heterogeneity beyond chance: every area then sits at the reference level unless its own
    exact Poisson interval says otherwise, so the exact Garwood interval of :math:`O/E` is
    returned instead (weight 1). Cells with a missing or non-positive ``expected`` are NaN.

    References
    ----------
    Clayton, D. & Kaldor, J. (1987). *Biometrics* 43(3):671–681. https://doi.org/10.2307/2532003

    See Also
    --------
    gamma_shape : estimates ``prior_shape`` from the reference's areas.
    """
    o = np.asarray(observed, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    o, e = np.broadcast_arrays(o, e)
    known = np.isfinite(o) & np.isfinite(e) & (e > 0) & (o >= 0)
    o_safe = np.where(known, o, 0.0)
    e_safe = np.where(known, e, 1.0)
    nan = np.full(o.shape, np.nan)
    if math.isinf(prior_shape):
        low = np.where(o_safe > 0, stats.gamma.ppf(alpha / 2, np.maximum(o_safe, 1e-300)), 0.0)
        high = stats.gamma.ppf(1 - alpha / 2, o_safe + 1)
        mean = o_safe / e_safe
        return Shrunken(
            mean=np.where(known, mean, nan),
            low=np.where(known, low / e_safe, nan),
            high=np.where(known, high / e_safe, nan),
            weight=np.where(known, 1.0, nan),
            shape=np.where(known, o_safe + 0.5, nan),
            rate=np.where(known, e_safe, nan),
        )
    shape = prior_shape + o_safe
    rate = prior_shape + e_safe
    low = stats.gamma.ppf(alpha / 2, shape) / rate
    high = stats.gamma.ppf(1 - alpha / 2, shape) / rate
    return Shrunken(
        mean=np.where(known, shape / rate, nan),
        low=np.where(known, low, nan),
        high=np.where(known, high, nan),
        weight=np.where(known, e_safe / rate, nan),
        shape=np.where(known, shape, nan),
        rate=np.where(known, rate, nan),
    )


@dataclass(frozen=True)
class Change:
    """Change of an area's rate: the latest year against the years before."""

    latest_year: int
    earlier_years: tuple[int, ...]
    #: Rate ratio latest / earlier (pooled), with its interval and exact p-value.
    ratio: float
    ratio_low: float
    ratio_high: float
    p_value: float
    #: ``"rate_ratio"`` (2–3 years) or ``"quasi_poisson"`` (a yearly trend from
    #: :data:`MIN_YEARS_FOR_TREND` years on: then ``yearly_pct`` and its interval are set).
    method: str
    yearly_pct: float
    yearly_low: float
    yearly_high: float
    yearly_p: float


def rate_change(
    years: ArrayLike, cases: ArrayLike, population: ArrayLike, *, alpha: float = 0.05
) -> Change | None:
    r"""How an area's rate changed: the latest year against the pooled earlier years
    (:func:`rate_ratio`), and from :data:`MIN_YEARS_FOR_TREND` years on a log-linear
    quasi-Poisson trend

    .. math:: \log \mathrm{E}[O_t] = \log n_t + \beta_0 + \beta_1 t, \qquad
              \mathrm{Var}(O_t) = \phi\,\mathrm{E}[O_t],

    with :math:`\hat\phi = \max(1, X^2/(T-2))` and a *t* interval on :math:`T - 2` residual
    degrees of freedom: :math:`100(e^{\beta_1 \pm t\,\mathrm{se}} - 1)` % per year. With
    fewer years no yearly figure is given: two or three points carry no trend. ``None`` when
    there are fewer than two years with a population.

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed., ch. 6 and
    §4.5 (quasi-likelihood). https://doi.org/10.1007/978-1-4899-3242-6

    See Also
    --------
    rate_ratio : the comparison behind the latest-year ratio.
    """
    t = np.asarray(years, dtype=np.float64)
    x = np.asarray(cases, dtype=np.float64)
    n = np.asarray(population, dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(x) & np.isfinite(n) & (n > 0) & (x >= 0)
    t, x, n = t[keep], x[keep], n[keep]
    if np.unique(t).size < 2:
        return None
    order = np.argsort(t)
    t, x, n = t[order], x[order], n[order]
    latest = t == t.max()
    ratio = rate_ratio(x[latest].sum(), n[latest].sum(), x[~latest].sum(), n[~latest].sum())
    nan = math.nan
    yearly = (nan, nan, nan, nan)
    method = "rate_ratio"
    if np.unique(t).size >= MIN_YEARS_FOR_TREND and x.sum() > 0:
        yearly = _quasi_poisson_trend(t, x, n, alpha)
        method = "quasi_poisson"
    return Change(
        latest_year=int(t.max()),
        earlier_years=tuple(int(y) for y in np.unique(t[~latest])),
        ratio=float(ratio.ratio),
        ratio_low=float(ratio.ratio_low),
        ratio_high=float(ratio.ratio_high),
        p_value=float(ratio.p_value),
        method=method,
        yearly_pct=yearly[0],
        yearly_low=yearly[1],
        yearly_high=yearly[2],
        yearly_p=yearly[3],
    )


def _quasi_poisson_trend(
    years: FloatArray, cases: FloatArray, population: FloatArray, alpha: float
) -> tuple[float, float, float, float]:
    import statsmodels.api as sm

    exog = sm.add_constant(years - years.mean())
    fit = sm.GLM(cases, exog, family=sm.families.Poisson(), offset=np.log(population)).fit()
    df = int(fit.df_resid)
    if df < 1:
        return (math.nan,) * 4
    dispersion = max(1.0, float(fit.pearson_chi2) / df)
    beta = float(fit.params[1])
    se = float(fit.bse[1]) * math.sqrt(dispersion)
    quantile = float(stats.t.ppf(1 - alpha / 2, df))
    p_value = float(2 * stats.t.sf(abs(beta / se), df)) if se > 0 else math.nan
    return (
        100 * math.expm1(beta),
        100 * math.expm1(beta - quantile * se),
        100 * math.expm1(beta + quantile * se),
        p_value,
    )
