"""Benchmark of the PDF report: ``python -m bench.report_pdf``.

Workload (issue 10): the demo municipality (6 districts, 8 action fields, three police years,
population margins for raking) with 100,000 synthetic responses to the default questionnaire.
Prints, for the report of one questionnaire as the button and ``sicherheitsanalyse report``
make it: the analysis (:func:`scoring.analyse`, 2,000 draws), the document (survey findings
and every chapter, :func:`app.report_document`), the PDF layout (Typst) and their total; the
PDF's size and page count. Target: total under 10 s. Reading the responses from the database
is ``bench.storage_throughput``'s; here they come from memory, so the figure is the report's.
"""

from __future__ import annotations

import argparse
import io
import platform
import time

from pypdf import PdfReader

from app import (
    AnalysisInputs,
    Workspace,
    inputs_from_store,
    render_report_file,
    report_document,
    seed_demo,
)
from storage import Datasets
from survey import load_action_fields
from tests.fixtures import municipality_store

TARGET_SECONDS = 10.0


def inputs(responses: int) -> tuple[Workspace, AnalysisInputs]:
    """The demo's questionnaire, ``responses`` synthetic answers and its police and population
    tables, seeded through the real import code into an in-memory database."""
    store = municipality_store("sqlite://")
    summary = seed_demo(store, closed_copy=False, responses=responses)
    catalogue = load_action_fields()
    workspace = Workspace(store, catalogue)
    data = inputs_from_store(
        store, Datasets(store.engine, store.municipality), summary.questionnaire_id, catalogue
    )
    return workspace, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    started = time.perf_counter()
    workspace, data = inputs(args.responses)
    print(
        f"synthetic data: {len(data.responses):,} responses ({time.perf_counter() - started:.1f} s, not timed)"
    )

    t0 = time.perf_counter()
    analysis = workspace.analyse(data)
    t1 = time.perf_counter()
    document = report_document(analysis, data, workspace.catalogue, "de")
    t2 = time.perf_counter()
    pdf = render_report_file(document, "pdf")
    t3 = time.perf_counter()
    total = t3 - t0
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"analysis          {t1 - t0:6.2f} s")
    print(f"document          {t2 - t1:6.2f} s  (survey findings and chapters)")
    print(f"PDF layout        {t3 - t2:6.2f} s  ({len(pdf) / 1024:,.0f} kB, {pages} pages)")
    print(
        f"total             {total:6.2f} s  (target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
