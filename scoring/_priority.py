"""Priority per action field: normalised components, their weighted combination, the 2×2
discrepancy class, rank uncertainty by simulation and sensitivity to the weights.

All functions work on arrays shaped ``(areas, fields)`` or ``(areas, fields, draws)``; fields
are ranked within each area.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Default weights of the two components (documented in docs/method.md).
DEFAULT_WEIGHTS: Mapping[str, float] = {"perceived": 0.5, "registered": 0.5}
COMPONENTS: tuple[str, str] = ("perceived", "registered")

#: Dirichlet concentration of the weight sensitivity analysis: with 0.5/0.5 defaults each
#: weight varies with a standard deviation of about 0.11 (0.5·0.5/(20+1))^½.
SENSITIVITY_CONCENTRATION = 20.0
SENSITIVITY_DRAWS = 1000


class Quadrant(StrEnum):
    """The 2×2 discrepancy class of a field, and "unclear" where an interval straddles its
    threshold (the data cannot say which side the field is on)."""

    BOTH_HIGH = "both_high"
    FELT_ONLY = "felt_only"
    REGISTERED_ONLY = "registered_only"
    BOTH_LOW = "both_low"
    UNCLEAR = "unclear"


#: Without a perceived reference (an earlier wave, pooled municipalities), a field counts as
#: felt high when reliably more than a quarter of the residents see a rather big or big
#: problem in it: the lower limit of the share's interval lies above 25 %. Documented in
#: docs/method.md; the manager can set another threshold.
PERCEIVED_THRESHOLD = 0.25


@dataclass(frozen=True)
class PerceivedReference:
    """A perceived reference per action field: the share of residents seeing a problem that
    the survey's share is compared with instead of :data:`PERCEIVED_THRESHOLD`.

    ``source`` says where the shares come from, for the reasons and the report: ``"wave"``
    (an earlier survey wave, ``label`` its title) or ``"table"`` (a table the manager gave,
    ``label`` its file name). Fields without a share keep the threshold. The shares are taken
    as given (without their own sampling uncertainty; docs/method.md).
    """

    shares: tuple[tuple[str, float], ...]
    source: str
    label: str

    @classmethod
    def of(cls, shares: Mapping[str, float], source: str, label: str) -> PerceivedReference:
        """A reference from a ``field → share`` mapping (hashable, so pages can cache on it)."""
        return cls(tuple(sorted((str(k), float(v)) for k, v in shares.items())), source, label)

    def share_map(self) -> dict[str, float]:
        """``field → share`` (0–1)."""
        return dict(self.shares)


#: A missing component is neutral: scored 0.5 (the reference level), with draws from a wide
#: prior so that the rank interval shows what is not known (see docs/method.md).
NEUTRAL_SCORE = 0.5
#: Pseudo-respondents of the prior of a missing share (Beta around the threshold).
MISSING_SHARE_PRIOR_N = 4.0


@dataclass(frozen=True)
class RankSummary:
    """Median rank and the equal-tailed rank interval per (area, field); ``NaN`` if unranked."""

    median: FloatArray
    low: FloatArray
    high: FloatArray


def normalise_weights(weights: Mapping[str, float] | None) -> FloatArray:
    """Component weights as an array ``[perceived, registered]`` that sums to 1.

    Unknown component names, negative weights or an all-zero vector raise ``ValueError``.
    """
    chosen = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = set(chosen) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown priority components: {sorted(unknown)}")
    vector = np.array([float(chosen.get(name, 0.0)) for name in COMPONENTS])
    if np.any(vector < 0) or not np.isfinite(vector).all() or vector.sum() <= 0:
        raise ValueError("priority weights must be non-negative and not all zero")
    return np.asarray(vector / vector.sum(), dtype=np.float64)


#: Shares are clipped to this distance from 0 and 1 before taking odds.
SHARE_CLIP = 1e-3


def perceived_score(share: ArrayLike, reference: ArrayLike) -> FloatArray:
    r"""The perceived component on the 0–1 scale: the odds ratio of the share against its
    reference share, mapped like the SIR.

    .. math:: \mathrm{OR} = \frac{p/(1-p)}{p_0/(1-p_0)}, \qquad
              s = \frac{\mathrm{OR}}{1 + \mathrm{OR}}

    where :math:`p_0` is the field's perceived reference (an earlier wave, pooled
    municipalities) or :data:`PERCEIVED_THRESHOLD`. A field at its reference scores 0.5, one
    with twice the odds 0.667, so both components share one scale; and the score depends only
    on the field's own share and reference, never on which other fields are analysed. Shares
    are clipped to ``[0.001, 0.999]``; ``NaN`` stays ``NaN``.
    """
    p = np.clip(np.asarray(share, dtype=np.float64), SHARE_CLIP, 1.0 - SHARE_CLIP)
    q = np.clip(np.asarray(reference, dtype=np.float64), SHARE_CLIP, 1.0 - SHARE_CLIP)
    odds_ratio = (p / (1.0 - p)) / (q / (1.0 - q))
    return np.asarray(odds_ratio / (1.0 + odds_ratio), dtype=np.float64)


def registered_score(sir: ArrayLike) -> FloatArray:
    r"""The registered component on the 0–1 scale: :math:`r = \mathrm{SIR} / (1 + \mathrm{SIR})`.

    This is the logistic function of :math:`\log \mathrm{SIR}`: symmetric on the log scale
    (SIR 2 → 0.667, SIR ½ → 0.333), 0.5 at the reference level, bounded and independent of the
    other fields analysed, so adding a field never changes another field's score.
    """
    s = np.asarray(sir, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(s / (1.0 + s), dtype=np.float64)


def combine(perceived: ArrayLike, registered: ArrayLike, weights: ArrayLike) -> FloatArray:
    r"""Weighted mean of the available components.

    .. math:: P = \frac{\sum_k w_k s_k [s_k\ \text{known}]}{\sum_k w_k [s_k\ \text{known}]}

    A missing component is left out and the weights of the others renormalised: it is never
    counted as zero. ``NaN`` when no component is known (or all known ones weigh zero).
    ``weights`` is ``[w_perceived, w_registered]``, or an array of such pairs broadcast against
    the scores along a new leading axis.
    """
    p = np.asarray(perceived, dtype=np.float64)
    r = np.asarray(registered, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    w_p = w[..., 0].reshape(w.shape[:-1] + (1,) * p.ndim)
    w_r = w[..., 1].reshape(w.shape[:-1] + (1,) * r.ndim)
    known_p, known_r = np.isfinite(p), np.isfinite(r)
    numerator = w_p * np.where(known_p, p, 0.0) + w_r * np.where(known_r, r, 0.0)
    denominator = w_p * known_p + w_r * known_r
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.where(denominator > 0, numerator / denominator, np.nan), dtype=np.float64
        )


def rank_fields(priority: ArrayLike, *, axis: int = 1) -> FloatArray:
    """Rank 1 = highest priority along ``axis`` (the fields); ties share the best rank.

    Rank = 1 + the number of fields with a strictly higher priority, so the result does not
    depend on the order of the fields. Fields with ``NaN`` priority get ``NaN`` and do not
    count.
    """
    values = np.moveaxis(np.asarray(priority, dtype=np.float64), axis, -1)
    known = np.isfinite(values)
    filled = np.where(known, values, -np.inf)
    higher = (filled[..., None, :] > filled[..., :, None]) & known[..., None, :]
    ranks = 1.0 + higher.sum(axis=-1)
    ranks = np.where(known, ranks, np.nan)
    return np.moveaxis(ranks, -1, axis)


def quadrants(
    felt_state: NDArray[np.object_], registered_state: NDArray[np.object_]
) -> NDArray[np.object_]:
    """The 2×2 class per (area, field) from the two components' states (``high``,
    ``not_high``, ``unclear``; see :func:`scoring._comparison.three_state`).

    ``unclear`` where either state is unclear; ``None`` where a component is missing (the
    reason then says which one and why).
    """
    table = {
        ("high", "high"): Quadrant.BOTH_HIGH,
        ("high", "not_high"): Quadrant.FELT_ONLY,
        ("not_high", "high"): Quadrant.REGISTERED_ONLY,
        ("not_high", "not_high"): Quadrant.BOTH_LOW,
    }
    out = np.full(felt_state.shape, None, dtype=object)
    for index in np.ndindex(felt_state.shape):
        felt, registered = felt_state[index], registered_state[index]
        if not isinstance(felt, str) or not isinstance(registered, str):
            continue
        out[index] = str(table.get((felt, registered), Quadrant.UNCLEAR))
    return out


def with_neutral(score: ArrayLike) -> FloatArray:
    """A component with its missing cells set to :data:`NEUTRAL_SCORE`: a missing component
    neither boosts nor sinks the present one."""
    values = np.asarray(score, dtype=np.float64)
    return np.asarray(np.where(np.isfinite(values), values, NEUTRAL_SCORE), dtype=np.float64)


def rank_summary(priority_draws: ArrayLike, *, alpha: float = 0.05) -> RankSummary:
    """Median rank and ``1 - alpha`` rank interval from priority draws ``(areas, fields, S)``.

    Each draw is ranked within its area (:func:`rank_fields`); quantiles use the inverted
    empirical CDF, so the limits are ranks that occurred.
    """
    ranks = rank_fields(priority_draws, axis=1)
    known = np.isfinite(ranks).all(axis=-1)
    filled = np.where(np.isfinite(ranks), ranks, 0.0)
    quantiles = np.quantile(filled, [0.5, alpha / 2, 1 - alpha / 2], axis=-1, method="inverted_cdf")
    median, low, high = (np.where(known, q, np.nan) for q in quantiles)
    return RankSummary(median, low, high)


def weight_sensitivity(
    perceived: ArrayLike,
    registered: ArrayLike,
    weights: ArrayLike,
    rng: np.random.Generator,
    *,
    draws: int = SENSITIVITY_DRAWS,
    concentration: float = SENSITIVITY_CONCENTRATION,
) -> FloatArray:
    r"""Mean absolute rank shift per (area, field) over plausible component weights.

    Weights are drawn from :math:`\mathrm{Dirichlet}(c\,\mathbf{w})` around the chosen weights
    :math:`\mathbf{w}` (mean :math:`\mathbf{w}`, concentration :math:`c`); each draw re-ranks
    the point estimates, and the result is :math:`\frac1M\sum_m |r_m - r_0|`. A small value
    means the field's place does not hinge on the choice of weights.

    References
    ----------
    Saltelli et al. (2008), *Global Sensitivity Analysis: The Primer*, Wiley, ch. 1;
    OECD/JRC (2008), *Handbook on Constructing Composite Indicators*, step 7.
    """
    base_weights = np.asarray(weights, dtype=np.float64)
    p = np.asarray(perceived, dtype=np.float64)
    r = np.asarray(registered, dtype=np.float64)
    base = rank_fields(combine(p, r, base_weights), axis=1)
    alpha = np.maximum(concentration * base_weights, 1e-3)
    sampled = rng.dirichlet(alpha, size=draws)  # (M, 2)
    ranks = rank_fields(combine(p, r, sampled), axis=2)  # (M, areas, fields)
    with np.errstate(invalid="ignore"):
        shift = np.abs(ranks - base[None, ...]).mean(axis=0)
    return np.asarray(shift, dtype=np.float64)
