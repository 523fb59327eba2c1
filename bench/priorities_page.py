"""The priorities page with 100,000 stored responses: first render and a weight-slider change.

Run: ``python -m bench.priorities_page [--responses N] [--repeat R]``

A temporary SQLite database gets the demo municipality with ``N`` synthetic responses (written
as ``Store.submit`` stores them, in bulk), three years of incidents and the population margins.
Then, in this process:

1. the workspace calls the page makes, timed one by one with cold caches: reading the
   responses and datasets, ``scoring.analyse`` (2,000 simulation draws), the ranked table;
2. the page itself through Streamlit's AppTest, signed in: the first render, cold (a fresh
   store reads every response) and in a new session of a running app (the store has read the
   responses before; the analysis is computed afresh), and a weight-slider change (the
   analysis is cached; only ``scoring.rerank`` and the drawing run again).

Targets: first render < 2 s, slider change < 0.5 s. AppTest times include Streamlit's own
script-run overhead, so they are an upper bound of what a browser session waits for.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from streamlit.testing.v1 import AppTest

from app import Workspace, ranking_view, reweighted, seed_demo
from storage import DATABASE_URL_ENV_VAR
from tests.fixtures import TEST_MANAGER, municipality_store
from views._session import MANAGER_KEY, Manager
from views.priorities import widget_key

T = TypeVar("T")
FIRST_RENDER_TARGET = 2.0
RERANK_TARGET = 0.5


def _timed(label: str, call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds * 1000:9.0f} ms")
    return value, seconds


def workspace_calls(url: str) -> None:
    print("workspace calls (cold):")
    with municipality_store(url) as store:
        workspace = Workspace(store)
        _timed("data_version (cache key)", lambda: workspace.data_version("sicherheitsbefragung"))
        inputs, _ = _timed(
            "inputs: responses + datasets", lambda: workspace.inputs("sicherheitsbefragung")
        )
        analysis, _ = _timed("scoring.analyse (2,000 draws)", lambda: workspace.analyse(inputs))
        _timed(
            "ranked table",
            lambda: ranking_view(analysis, analysis.area, workspace.catalogue, "de"),
        )
        _timed(
            "rerank for a slider change",
            lambda: reweighted(analysis, {"perceived": 0.8, "registered": 0.2}),
        )


def _clear_caches(*, store: bool) -> None:
    """Forget every cached analysis; with ``store`` also the store (and its response frames)."""
    import streamlit as st

    from views import _cache, priorities

    st.cache_data.clear()
    if store:
        st.cache_resource.clear()
    else:
        for cached in (
            _cache._inputs,
            _cache._analysis,
            _cache._reranked,
            priorities._trend,
            priorities._free_text,
        ):
            cached.clear()


def page_runs(repeat: int, *, cold_store: bool) -> tuple[list[float], list[float]]:
    firsts: list[float] = []
    changes: list[float] = []
    for attempt in range(repeat):
        # A fresh session per attempt with the analysis caches cleared: a first render.
        _clear_caches(store=cold_store)
        at = AppTest.from_string("from views import priorities\npriorities.render()\n")
        at.default_timeout = 300
        at.session_state[MANAGER_KEY] = Manager(TEST_MANAGER, "local")
        start = time.perf_counter()
        at.run()
        first = time.perf_counter() - start
        assert not at.exception, at.exception
        weights = [0.2, 0.8, 0.35]
        slider_seconds = []
        for weight in weights:
            start = time.perf_counter()
            at.slider(key=widget_key("sicherheitsbefragung", "weight_registered")).set_value(
                weight
            ).run()
            slider_seconds.append(time.perf_counter() - start)
            assert not at.exception, at.exception
        change = statistics.median(slider_seconds)
        print(
            f"  attempt {attempt + 1}: first render {first * 1000:7.0f} ms, "
            f"slider change {change * 1000:6.0f} ms (median of {len(weights)})"
        )
        firsts.append(first)
        changes.append(change)
    return firsts, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-priorities-") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        start = time.perf_counter()
        with municipality_store(url) as store:
            seed_demo(store, closed_copy=False, responses=args.responses)
        print(f"seeded {args.responses:,} responses in {time.perf_counter() - start:.1f} s")
        os.environ[DATABASE_URL_ENV_VAR] = url
        # Warm the imports (pandas, plotly, scipy) once, as a running server has them.
        AppTest.from_string("import views.priorities\n").run(timeout=300)
        workspace_calls(url)
        print("priorities page through AppTest, cold (fresh store: all responses read):")
        firsts, changes = page_runs(args.repeat, cold_store=True)
        print("priorities page through AppTest, a new session (the store has read them before):")
        warm_firsts, warm_changes = page_runs(args.repeat, cold_store=False)
    first, change = statistics.median(firsts), statistics.median(changes + warm_changes)
    warm = statistics.median(warm_firsts)
    print(
        f"first render, cold: {first:.2f} s (target < {FIRST_RENDER_TARGET} s) "
        f"{'OK' if first < FIRST_RENDER_TARGET else 'MISSED'}"
    )
    print(
        f"first render, new session: {warm:.2f} s (target < {FIRST_RENDER_TARGET} s) "
        f"{'OK' if warm < FIRST_RENDER_TARGET else 'MISSED'}"
    )
    print(
        f"slider change: {change:.2f} s (target < {RERANK_TARGET} s) "
        f"{'OK' if change < RERANK_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
