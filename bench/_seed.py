"""A database with the demo municipality, for the manager pages' tests and benchmark.

The default questionnaire is published (open, under its own id) naming the demo
municipality's key and reference area; the synthetic responses go in through
:meth:`storage.Store.import_responses`, the incident and population tables through the real
CSV import and :class:`storage._datasets.Datasets`. (``sicherheitsanalyse setup`` seeds the
installation's demo differently: a closed copy under its own id, see
:func:`app._installation.seed_demo`.)
"""

from __future__ import annotations

import io

import pandas as pd

from app import DEMO, DEMO_BASE_QUESTIONNAIRE, demo_data, demo_questionnaire_text
from sources import read_incidents, read_population
from storage import DatasetKind, Datasets, Store
from survey import Questionnaire, load_action_fields, load_questionnaire_text


def publish_demo_questionnaire(store: Store, *, with_area: bool = True) -> Questionnaire:
    """Publish the default questionnaire, naming the demo municipality if ``with_area``."""
    text = DEMO_BASE_QUESTIONNAIRE.read_text(encoding="utf-8")
    if with_area:
        text = demo_questionnaire_text(text)
    questionnaire = load_questionnaire_text(text, DEMO_BASE_QUESTIONNAIRE.name)
    store.publish_questionnaire(questionnaire, text)
    return questionnaire


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as an upload would come: semicolon-separated UTF-8 CSV."""
    return frame.to_csv(sep=";", index=False).encode("utf-8")


def seed_demo(
    url: str,
    *,
    responses: int | None = None,
    datasets: bool = True,
    incidents: bool = True,
    with_area: bool = True,
) -> Questionnaire:
    """Publish the demo questionnaire with ``responses`` synthetic answers and its datasets.

    ``with_area=False`` leaves out the municipality's key and reference area (the manager
    then chooses them on the priorities page).
    """
    demo = DEMO if responses is None else DEMO.model_copy(update={"responses": responses})
    with Store(url) as store:
        questionnaire = publish_demo_questionnaire(store, with_area=with_area)
        data = demo_data(questionnaire, load_action_fields(), demo=demo)
        store.import_responses(questionnaire, data.responses, mode="web")
        if datasets:
            saved = Datasets(store.engine)
            people = read_population(
                io.BytesIO(csv_bytes(data.population)), filename="bevoelkerung.csv"
            )
            saved.save(DatasetKind.POPULATION, people, source="bevoelkerung.csv")
            if incidents:
                counts = read_incidents(io.BytesIO(csv_bytes(data.incidents)), filename="pks.csv")
                saved.save(DatasetKind.INCIDENTS, counts, source="pks.csv")
    return questionnaire


def demo_incidents_csv() -> bytes:
    """The demo municipality's incident counts as a tidy CSV (for upload tests)."""
    text = demo_questionnaire_text(DEMO_BASE_QUESTIONNAIRE.read_text(encoding="utf-8"))
    questionnaire = load_questionnaire_text(text, DEMO_BASE_QUESTIONNAIRE.name)
    return csv_bytes(demo_data(questionnaire, load_action_fields()).incidents)
