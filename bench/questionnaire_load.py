"""Benchmark: load and validate the default questionnaire.

Run ``python -m bench.questionnaire_load [--runs N]``. Each run reads the file, parses the
YAML, checks shape and cross-references and compiles every expression (the action-field
catalogue is loaded once before, as in a running app). Prints median and p95 in ms and exits
1 when the median is not under the 100 ms budget of issue 2.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

from survey import check_questionnaire, load_action_fields, load_questionnaire

DEFAULT_QUESTIONNAIRE = (
    Path(__file__).resolve().parent.parent / "questionnaires" / "sicherheitsbefragung.yaml"
)
BUDGET_MS = 100.0


def measure(path: Path, runs: int) -> list[float]:
    """Wall-clock milliseconds of ``runs`` loads of ``path``."""
    load_action_fields()
    load_questionnaire(path)  # warm-up: imports, pydantic schemas, catalogue cache
    timings: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        load_questionnaire(path)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--file", type=Path, default=DEFAULT_QUESTIONNAIRE)
    args = parser.parse_args(argv)
    result = check_questionnaire(args.file)
    if not result.ok or result.questionnaire is None:
        print(f"{args.file} does not load cleanly; fix it first", file=sys.stderr)
        return 1
    timings = sorted(measure(args.file, args.runs))
    median = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    lines = args.file.read_text(encoding="utf-8").count("\n")
    print(
        f"questionnaire_load: {args.file.name} ({lines} lines, "
        f"{len(result.questionnaire.variables())} variables), {args.runs} runs, "
        f"Python {platform.python_version()} on {platform.machine()}"
    )
    print(f"median {median:.1f} ms, p95 {p95:.1f} ms, min {timings[0]:.1f} ms")
    ok = median < BUDGET_MS
    print(f"{'OK' if ok else 'TOO SLOW'}: median {'<' if ok else '>='} {BUDGET_MS:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
