"""Benchmark of the whole scoring pipeline: ``python -m bench.scoring_pipeline``.

Workload (issue 4, item 7): synthetic responses to the default questionnaire with its district
scale widened to 20 districts, 40 item columns plus the district, 8 action fields, incident
counts for the municipality, its 20 districts and a reference Land, population margins for
raking, and 2,000 simulation draws. Prints the time of :func:`scoring.analyse` at 10k, 100k
and 1M responses, the floor (one pandas group-by count over the same 1M responses × 41
columns), the ratio to it, the peak memory (tracemalloc) and the time of a :func:`scoring.rerank`.
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from app import synthetic_responses
from scoring import analyse, rerank
from survey import (
    ActionFieldCatalogue,
    Option,
    Questionnaire,
    Role,
    Scale,
    Variable,
    load_action_fields,
    load_questionnaire,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONNAIRE = ROOT / "questionnaires" / "sicherheitsbefragung.yaml"
MUNICIPALITY = "99999000"
LAND = "99"
N_DISTRICTS = 20
ITEMS = 40
DRAWS = 2000
SIZES = (10_000, 100_000, 1_000_000)


def questionnaire_with_districts(n_districts: int) -> Questionnaire:
    """The default questionnaire with ``n_districts`` districts coded "01", "02", ..."""
    base = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    districts = Scale(
        options=[
            Option(code=f"{i:02d}", label={"de": f"Bezirk {i}", "en": f"District {i}"})
            for i in range(1, n_districts + 1)
        ]
    )
    return base.model_copy(update={"scales": {**base.scales, "districts": districts}})


def benchmark_variables(questionnaire: Questionnaire, items: int) -> list[Variable]:
    """The design items, the night item, then tagged items (problem, worry, victimisation,
    satisfaction) up to ``items`` variables besides the district."""
    variables = questionnaire.variables()
    chosen = [v for v in variables if v.design is not None and v.design.value != "district"]
    chosen += [v for v in variables if v.id == "safe_night"]
    for role in (Role.PROBLEM, Role.WORRY, Role.VICTIMISATION, Role.SATISFACTION):
        chosen += [v for v in variables if any(tag.role == role for tag in v.tags)]
    chosen += [v for v in variables if v.scale is not None and v.design is None]
    unique = list({v.id: v for v in reversed(chosen)}.values())[::-1]
    return unique[:items]


def benchmark_responses(
    questionnaire: Questionnaire, n: int, rng: np.random.Generator, items: int
) -> pd.DataFrame:
    """``n`` synthetic responses (:func:`app._synthetic.synthetic_responses`, the codebook
    layout as storage returns it: nullable integer codes), the district plus ``items`` items."""
    columns = ["district", *(v.id for v in benchmark_variables(questionnaire, items))]
    return synthetic_responses(questionnaire, n, rng)[columns]


def incident_tables(
    catalogue: ActionFieldCatalogue, rng: np.random.Generator, n_districts: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy counts and population (with sex × age margins) for the Land, city and districts."""
    keys = sorted({k for f in catalogue.fields for k in (*f.pks_keys, *f.source_keys)})
    districts = [f"{i:02d}" for i in range(1, n_districts + 1)]
    residents = {d: int(rng.integers(3_000, 30_000)) for d in districts}
    rows = []
    for key in keys:
        rate = 50.0 + 400.0 * rng.random()
        by_district = {
            d: int(rng.poisson(rate * p / 1e5 * rng.uniform(0.5, 2))) for d, p in residents.items()
        }
        rows += [(d, 2025, key, c) for d, c in by_district.items()]
        rows.append((MUNICIPALITY, 2025, key, sum(by_district.values())))
        rows.append((LAND, 2025, key, int(rng.poisson(rate * 40.0))))
    incidents = pd.DataFrame(rows, columns=["area", "year", "key", "count"])
    damage, graffiti = incidents["key"] == "674000", incidents["key"] == "899500"
    incidents.loc[damage, "count"] += incidents.loc[graffiti, "count"].to_numpy()
    total = sum(residents.values())
    population: list[tuple[str, int, str | None, str | None, float]] = [
        (d, 2025, None, None, p) for d, p in residents.items()
    ]
    population += [(MUNICIPALITY, 2025, None, None, total), (LAND, 2025, None, None, 4_000_000)]
    population += [
        (MUNICIPALITY, 2025, str(s), str(a), total * share)
        for s in (1, 2)
        for a, share in zip((1, 2, 3, 4), (0.05, 0.15, 0.17, 0.13), strict=True)
    ]
    frame = pd.DataFrame(population, columns=["area", "year", "sex", "age_group", "population"])
    return incidents, frame


def run_once(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    catalogue: ActionFieldCatalogue,
    incidents: pd.DataFrame,
    population: pd.DataFrame,
) -> tuple[float, object]:
    start = time.perf_counter()
    analysis = analyse(
        questionnaire,
        responses,
        catalogue=catalogue,
        incidents=incidents,
        population=population,
        area=MUNICIPALITY,
        reference=LAND,
        draws=DRAWS,
        rng=np.random.default_rng(1),
    )
    return time.perf_counter() - start, analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many runs.")
    args = parser.parse_args()
    rng = np.random.default_rng(20261124)
    questionnaire = questionnaire_with_districts(N_DISTRICTS)
    catalogue = load_action_fields()
    incidents, population = incident_tables(catalogue, rng, N_DISTRICTS)
    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.system()}, python {platform.python_version()}"
    )
    print(
        f"workload: {ITEMS} items + district, {N_DISTRICTS} districts, {len(catalogue.fields)} fields, {DRAWS} draws"
    )
    largest = max(args.sizes)
    start = time.perf_counter()
    responses = benchmark_responses(questionnaire, largest, rng, ITEMS)
    print(f"generated {len(responses):,} responses in {time.perf_counter() - start:.1f} s")
    analysis: object = None
    pipeline = 0.0
    floors: list[float] = []
    for size in sorted(args.sizes):
        subset = responses.iloc[:size]
        run_once(questionnaire, subset.iloc[:1000], catalogue, incidents, population)  # warm-up
        timings = []
        for _ in range(args.repeat):
            gc.collect()
            elapsed, analysis = run_once(questionnaire, subset, catalogue, incidents, population)
            timings.append(elapsed)
            if size == largest:
                # The floor alternates with the pipeline, so both see the same load.
                gc.collect()
                start = time.perf_counter()
                responses.groupby("district").count()
                floors.append(time.perf_counter() - start)
        pipeline = min(timings)
        print(f"analyse  n={size:>9,}: {pipeline:6.2f} s  (best of {args.repeat})")
    floor = min(floors)
    print(
        f"floor    n={largest:>9,}: {floor:6.2f} s  (one group-by count over {responses.shape[1]} columns, best of {args.repeat}, alternating with the largest analyse)"
    )
    print(f"ratio to floor: {pipeline / floor:.1f}x  ({pipeline:.3f} s / {floor:.3f} s)")
    gc.collect()
    tracemalloc.start()
    run_once(questionnaire, responses, catalogue, incidents, population)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory of analyse (tracemalloc) n={largest:,}: {peak / 2**20:,.0f} MiB")
    reranks = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        rerank(analysis, {"perceived": 0.7, "registered": 0.3})  # type: ignore[arg-type]
        reranks.append(time.perf_counter() - start)
    print(f"rerank: {min(reranks):.3f} s")
    print(
        f"peak RSS of the process (getrusage): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
