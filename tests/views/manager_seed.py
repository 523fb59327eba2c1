"""A database with the demo municipality for the manager pages' tests and benchmark.

The default questionnaire is published with the demo municipality's key and reference area;
synthetic responses are written as the rows :meth:`survey.Store.submit` writes (answers in the
codebook layout as JSON), in one multi-row INSERT so that 100,000 take seconds; the synthetic
incident and population tables go through the real CSV import and :class:`Datasets`.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import date

import numpy as np
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
from survey._schema import responses_table
from survey.demo import DEMO, demo_data
from tests.conftest import DEFAULT_QUESTIONNAIRE

META_LINES = (
    "  municipality: Musterstadt (DEMO)\n"
    f'  area: "{DEMO.ags}"\n'
    f'  reference_area: "{DEMO.reference.area}"\n'
)


def demo_questionnaire_text() -> str:
    """The default questionnaire, naming the demo municipality and its reference area."""
    text = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
    return text.replace("meta:\n", "meta:\n" + META_LINES, 1)


def publish_demo_questionnaire(store: Store) -> Questionnaire:
    text = demo_questionnaire_text()
    questionnaire = load_questionnaire_text(text, DEFAULT_QUESTIONNAIRE.name)
    store.publish_questionnaire(questionnaire, text)
    return questionnaire


def _json_value(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def insert_responses(store: Store, questionnaire: Questionnaire, frame: pd.DataFrame) -> None:
    """Write codebook-layout rows as stored responses (what ``submit`` stores, in bulk)."""
    variables = [v.id for v in questionnaire.variables() if v.id in frame.columns]
    answers = frame[variables].astype(object).where(frame[variables].notna(), None)
    submitted = pd.to_datetime(frame["submitted_on"]).dt.date
    rows = []
    for position, record in enumerate(answers.itertuples(index=False, name=None)):
        stored = {
            k: _json_value(v) for k, v in zip(variables, record, strict=True) if v is not None
        }
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "questionnaire_id": questionnaire.id,
                "questionnaire_revision": questionnaire.revision,
                "submitted_on": submitted.iloc[position],
                "language": str(frame["language"].iloc[position]),
                "mode": "web",
                "stratum": None,
                "answers": json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
            }
        )
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(responses_table.insert(), rows[start : start + 10_000])


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(sep=";", index=False).encode("utf-8")


def seed_demo(
    url: str, *, responses: int | None = None, datasets: bool = True, incidents: bool = True
) -> Questionnaire:
    """Publish the demo questionnaire with ``responses`` synthetic answers and its datasets."""
    demo = DEMO if responses is None else DEMO.model_copy(update={"responses": responses})
    with Store(url) as store:
        questionnaire = publish_demo_questionnaire(store)
        data = demo_data(questionnaire, load_action_fields(), demo=demo)
        insert_responses(store, questionnaire, data.responses)
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
