"""Interval and posterior helpers shared by the survey indicators and the rank simulation."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]

#: Jeffreys-type pseudo count added to successes and failures (Beta) and to cases (Gamma).
PRIOR_PSEUDO_COUNT = 0.5


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, *, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    r"""Wilson score interval for a proportion, vectorised, with a possibly fractional ``n``.

    With :math:`\hat p = x/n` and :math:`z = \Phi^{-1}(1-\alpha/2)`:

    .. math::

        \frac{\hat p + z^2/(2n) \pm z\sqrt{\hat p(1-\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    For weighted survey data pass ``successes = share * n_eff`` and ``n = n_eff`` (Kish's
    effective sample size), the usual design-effect adjustment (Kish 1965, ch. 8.2).
    Cells with ``n <= 0`` give ``NaN``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22, 209–212. Agresti & Coull (1998), Am. Stat. 52, 119–126.
    """
    x = np.asarray(successes, dtype=np.float64)
    size = np.asarray(n, dtype=np.float64)
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / size
        denominator = 1.0 + z * z / size
        centre = (p + z * z / (2.0 * size)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / size + z * z / (4.0 * size * size)) / denominator
    valid = size > 0
    low = np.where(valid, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def beta_draws(
    share: ArrayLike, n_eff: ArrayLike, draws: int, rng: np.random.Generator
) -> FloatArray:
    r"""Posterior draws of proportions: :math:`p \sim \mathrm{Beta}(x + 0.5,\ n - x + 0.5)`.

    ``x = share * n_eff`` and ``n = n_eff``; the Jeffreys prior Beta(½, ½) keeps shares of 0 or
    1 inside (0, 1). Returns an array of shape ``shape(share) + (draws,)``; entries whose share
    is ``NaN`` stay ``NaN``.

    References
    ----------
    Gelman et al. (2013), *Bayesian Data Analysis*, 3rd ed., ch. 2.4 (Jeffreys prior).
    """
    p = np.asarray(share, dtype=np.float64)
    size = np.asarray(n_eff, dtype=np.float64)
    known = np.isfinite(p) & np.isfinite(size) & (size > 0)
    x = np.where(known, p * size, 0.0)
    failures = np.where(known, size - x, 0.0)
    a = np.broadcast_to((x + PRIOR_PSEUDO_COUNT)[..., None], (*p.shape, draws))
    b = np.broadcast_to((failures + PRIOR_PSEUDO_COUNT)[..., None], (*p.shape, draws))
    out = rng.beta(a, b)
    out[~known] = np.nan
    return out


def gamma_rate_draws(
    cases: ArrayLike, exposure: ArrayLike, draws: int, rng: np.random.Generator
) -> FloatArray:
    r"""Posterior draws of a Poisson rate: :math:`\lambda \sim \mathrm{Gamma}(c + 0.5,\ 1)/E`.

    With ``exposure = expected`` cases this gives draws of the SIR; with ``exposure =
    population / 100000`` draws of the rate per 100,000. Entries with missing cases or a
    non-positive exposure stay ``NaN``. Shape: ``shape(cases) + (draws,)``.

    References
    ----------
    Breslow & Day (1987), *Statistical Methods in Cancer Research II*, ch. 2; Jeffreys prior
    for the Poisson mean.
    """
    c = np.asarray(cases, dtype=np.float64)
    e = np.asarray(exposure, dtype=np.float64)
    known = np.isfinite(c) & np.isfinite(e) & (e > 0) & (c >= 0)
    shape = np.where(known, c, 0.0) + PRIOR_PSEUDO_COUNT
    gamma = rng.standard_gamma(np.broadcast_to(shape[..., None], (*c.shape, draws)))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = gamma / np.where(known, e, 1.0)[..., None]
    out[~known] = np.nan
    return out
