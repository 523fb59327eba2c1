"""A database with the demo municipality for the manager pages' tests and benchmark.

The default questionnaire is published (open, under its own id) with the demo municipality's
key and reference area; the synthetic responses go in through :meth:`survey.Store.import_responses`,
the incident and population tables through the real CSV import and :class:`Datasets`.
"""

from __future__ import annotations

import io

import pandas as pd

from survey import (
    Questionnaire,
    Store,
    load_action_fields,
    load_questionnaire_text,
    read_incidents,
    read_population,
)
from survey._datasets import DatasetKind, Datasets
from survey.demo import DEMO, demo_data
from tests.conftest import DEFAULT_QUESTIONNAIRE

META_LINES = (
    "  municipality: Musterstadt (DEMO)\n"
    f'  area: "{DEMO.ags}"\n'
    f'  reference_area: "{DEMO.reference.area}"\n'
)


def demo_questionnaire_text(*, with_area: bool = True) -> str:
    """The default questionnaire, naming the demo municipality and its reference area."""
    text = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
    return text.replace("meta:\n", "meta:\n" + META_LINES, 1) if with_area else text


def publish_demo_questionnaire(store: Store, *, with_area: bool = True) -> Questionnaire:
    text = demo_questionnaire_text(with_area=with_area)
    questionnaire = load_questionnaire_text(text, DEFAULT_QUESTIONNAIRE.name)
    store.publish_questionnaire(questionnaire, text)
    return questionnaire


def csv_bytes(frame: pd.DataFrame) -> bytes:
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
    text = demo_questionnaire_text()
    questionnaire = load_questionnaire_text(text, DEFAULT_QUESTIONNAIRE.name)
    return csv_bytes(demo_data(questionnaire, load_action_fields()).incidents)
