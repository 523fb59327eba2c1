"""Two municipalities in one database, for the isolation tests: town A (the test town with the
open demo, manager ``anna``) and town B, whose data carries markers that must never show up
anywhere town A's manager looks."""

from __future__ import annotations

import io
from dataclasses import dataclass

from ruamel.yaml import YAML

from app import csv_bytes, demo_data
from sources import read_incidents
from storage import DatasetKind, Datasets, Municipalities, PaperForm, QuestionnaireState, Store
from survey import Questionnaire, load_action_fields, load_questionnaire_text
from tests.fixtures import TEST_AGS, fixture_data, full_answers, seed_open_demo

TOWN_B = "02999002"
TOWN_B_NAME = "Bstadt"
MANAGER_B = "bernd"
#: In B's questionnaire titles and dataset names.
MARKER = "QXZ"
B_OPEN_ID = "bstadt-qxz-offen"
B_DRAFT_ID = "bstadt-qxz-entwurf"
B_ANSWER = "UNIQUE-B-ANSWER-7731"
B_DATASET = "bstadt-QXZ-pks.csv"
#: B's stored responses: six online, one paper form keyed in.
B_RESPONSES = 7


@dataclass(frozen=True)
class Towns:
    url: str
    a_questionnaire: Questionnaire
    b_questionnaire: Questionnaire
    b_batch: str
    b_codes: tuple[str, ...]
    b_dataset: str

    @property
    def markers(self) -> tuple[str, ...]:
        """What of town B must never be found in town A's pages, files and outputs."""
        return (MARKER, B_ANSWER, B_OPEN_ID, B_DRAFT_ID, self.b_batch, self.b_dataset, "Bstadt")


def b_questionnaire_text(qid: str, title: str) -> str:
    data = fixture_data("small_questionnaire.yaml")
    data["meta"].update(id=qid, title={"de": title, "en": title})
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


def seed_towns(url: str) -> Towns:
    """Town A as the manager pages' tests have it; town B with a questionnaire (open, with a
    response holding :data:`B_ANSWER`, codes, a draft and a test answer), a draft
    questionnaire and a dataset."""
    a = seed_open_demo(url, responses=60)
    with Store(url) as base:
        municipalities = Municipalities(base.engine)
        municipalities.create(TOWN_B, TOWN_B_NAME)
        municipalities.add_member(MANAGER_B, TOWN_B)
        b = base.for_municipality(TOWN_B)
        text = b_questionnaire_text(B_OPEN_ID, f"Geheimbefragung {MARKER}")
        q = load_questionnaire_text(text, f"{B_OPEN_ID}.yaml")
        b.publish_questionnaire(q, text)
        draft_text = b_questionnaire_text(B_DRAFT_ID, f"Entwurf {MARKER}")
        b.publish_questionnaire(
            load_questionnaire_text(draft_text, f"{B_DRAFT_ID}.yaml"),
            draft_text,
            initial_state=QuestionnaireState.DRAFT,
        )
        answers = {**full_answers(), "remarks": B_ANSWER}
        for i in range(6):
            assert b.submit(q, answers, language="de", submission_token=f"b-token-{i:012d}").stored
        batch = b.create_codes(B_OPEN_ID, 5, stratum=f"Ortsteil {MARKER}")
        b.save_draft(B_OPEN_ID, batch.codes[0], {"remarks": B_ANSWER}, 1)
        # Paper forms: one first keying waiting for its second, one keyed form stored.
        b.save_first_keying(q, PaperForm(batch.id, code=batch.codes[1]), answers)
        keyed = b.store_keyed(
            q,
            PaperForm(batch.id, code=batch.codes[2]),
            answers,
            language="de",
            submission_token=f"b-keyed-{0:012d}",
        )
        assert keyed.stored
        b.submit_test(q, answers, language="de")
        demo = demo_data(a, load_action_fields())
        counts = read_incidents(io.BytesIO(csv_bytes(demo.incidents)), filename=B_DATASET)
        saved = Datasets(base.engine, TOWN_B).save(DatasetKind.INCIDENTS, counts, source=B_DATASET)
    return Towns(url, a, q, batch.id, tuple(batch.codes), saved.id)


__all__ = ["TEST_AGS", "Towns", "seed_towns"]
