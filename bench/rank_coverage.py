"""Simulation check: do the rank intervals cover the true ranks under overdispersed counts and
small samples?

``python -m bench.rank_coverage [--replications 400]`` draws many small towns whose true
perceived shares and true registered rates are known, with police counts overdispersed across
the reference's areas (a gamma spread of the SIR, shape 4) and surveys of 30 to 120 residents;
runs the same steps as :func:`scoring.analyse` on them (rest-of-reference comparison,
dispersion test and Poisson–gamma shrinkage, Wilson/Beta survey draws, a neutral missing
component, the rank simulation) and counts how often each field's 95 % rank interval contains
its true rank. Target: coverage of at least 0.9 per field and overall. Prints the figures and
exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np

from scoring import (
    PERCEIVED_THRESHOLD,
    combine,
    normalise_weights,
    perceived_score,
    rank_fields,
    rank_summary,
    registered_score,
)
from scoring._comparison import gamma_shape, poisson_gamma, rate_ratio
from scoring._intervals import beta_draws

FIELDS = 8
AREAS = 13  # the reference's other areas (e.g. the Kreise of a Land)
SHAPE = 4.0  # true between-area spread of the SIR (overdispersion)
DRAWS = 1000
TARGET = 0.9


def one_town(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True ranks, and the rank interval limits, of one simulated town's fields."""
    base_rate = rng.uniform(20, 600, size=FIELDS) / 1e5  # cases per inhabitant, per field
    town_population = rng.choice([3_000.0, 10_000.0, 40_000.0])
    area_population = rng.uniform(100_000, 500_000, size=AREAS)
    theta_areas = rng.gamma(SHAPE, 1 / SHAPE, size=(AREAS, FIELDS))
    theta_town = rng.gamma(SHAPE, 1 / SHAPE, size=FIELDS)
    share_true = rng.uniform(0.05, 0.6, size=FIELDS)
    n = int(rng.integers(30, 121))
    # the observed data
    area_cases = rng.poisson(area_population[:, None] * base_rate * theta_areas)
    town_cases = rng.poisson(town_population * base_rate * theta_town)
    answers = rng.binomial(n, share_true)
    share = answers / n
    # the registered side: rest of the reference, dispersion, shrinkage
    rest_cases = area_cases.sum(axis=0)
    rest_population = area_population.sum()
    ratio = rate_ratio(town_cases, town_population, rest_cases, rest_population)
    posterior_shape = np.empty(FIELDS)
    posterior_rate = np.empty(FIELDS)
    shrunk = np.empty(FIELDS)
    for f in range(FIELDS):
        rate = area_cases[:, f].sum() / area_population.sum()
        spread = gamma_shape(area_cases[:, f], area_population * rate)
        post = poisson_gamma(town_cases[f], float(ratio.expected[f]), spread.shape)
        shrunk[f] = float(post.mean)
        posterior_shape[f] = float(post.shape)
        posterior_rate[f] = float(post.rate)
    # one field without survey item, one without police data: neutral, widened
    missing_survey, missing_police = 0, 1
    perceived = perceived_score(share, PERCEIVED_THRESHOLD)
    perceived[missing_survey] = 0.5
    registered = registered_score(shrunk)
    registered[missing_police] = 0.5
    share_draws = beta_draws(share[None, :], np.full((1, FIELDS), float(n)), DRAWS, rng)[0]
    share_draws[missing_survey] = rng.beta(
        4 * PERCEIVED_THRESHOLD, 4 * (1 - PERCEIVED_THRESHOLD), DRAWS
    )
    perceived_draws = perceived_score(share_draws, PERCEIVED_THRESHOLD)
    sir_draws = (
        rng.standard_gamma(posterior_shape[:, None] * np.ones(DRAWS)) / posterior_rate[:, None]
    )
    sir_draws[missing_police] = rng.gamma(2.0, 1 / 2.0, DRAWS)
    registered_draws = registered_score(sir_draws)
    weights = normalise_weights(None)
    summary = rank_summary(combine(perceived_draws[None], registered_draws[None], weights))
    # the truth: the true share and the true SIR of the town, where the data would show them
    true_perceived = perceived_score(share_true, PERCEIVED_THRESHOLD)
    true_perceived[missing_survey] = perceived[missing_survey]
    true_registered = registered_score(theta_town)
    true_registered[missing_police] = registered[missing_police]
    true_rank = rank_fields(combine(true_perceived[None], true_registered[None], weights))[0]
    return true_rank, summary.low[0], summary.high[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"python {platform.python_version()}, {platform.machine()}")
    started = time.perf_counter()
    covered = np.zeros(FIELDS)
    widths = []
    for _ in range(args.replications):
        truth, low, high = one_town(rng)
        covered += (low <= truth) & (truth <= high)
        widths.append(float(np.mean(high - low)))
    coverage = covered / args.replications
    overall = float(coverage.mean())
    print(
        f"{args.replications} towns × {FIELDS} fields, {AREAS} reference areas with "
        f"gamma spread (shape {SHAPE}), 30–120 respondents, {DRAWS} draws"
    )
    print("coverage per field: " + " ".join(f"{c:.3f}" for c in coverage))
    print(f"coverage overall:   {overall:.3f} (target ≥ {TARGET})")
    print(f"mean interval width: {np.mean(widths):.2f} ranks")
    print(f"time: {time.perf_counter() - started:.1f} s")
    if overall < TARGET or coverage.min() < TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
