"""Characters no XML document may hold, typed into a text answer (issue #12): one respondent's
U+FFFF made the whole XLSX export malformed. They are removed where the answer is checked:
on the form page, on submit, in a paper import and in a draft — on both databases."""

from __future__ import annotations

import io
import secrets

import pandas as pd
import pytest
from openpyxl import load_workbook

from reporting import responses_xlsx
from storage import Store
from survey import Form
from tests.conftest import StoreFactory
from tests.fixtures import SOURCE_TEXT, full_answers, small_questionnaire

#: What a browser delivered in the audit, with a control, a C1 control and a lone surrogate.
TYPED = "Park\uffff bei\x00 Nacht\ufffe \U0001fffe\x85dunkel\ud800 \u20ac"
CLEAN = "Park bei Nacht dunkel \u20ac"


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    opened = store_factory()
    opened.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    return opened


def _remarks(store: Store) -> list[str]:
    return store.responses(small_questionnaire())["remarks"].dropna().tolist()


def test_the_form_page_accepts_the_answer_without_a_problem() -> None:
    form = Form(small_questionnaire())
    page = next(i for i, s in enumerate(form.questionnaire.sections) if s.id == "s2")
    answers = {**full_answers(), "remarks": TYPED}
    problems = [p for p in form.check_page(page, answers, "de").problems if p.location.field]
    assert [p for p in problems if p.location.field == "remarks"] == []


def test_a_submitted_answer_is_stored_without_them_and_the_workbook_opens(store: Store) -> None:
    result = store.submit(
        small_questionnaire(),
        {**full_answers(), "remarks": TYPED},
        language="de",
        submission_token=secrets.token_urlsafe(16),
    )
    assert result.stored
    assert _remarks(store) == [CLEAN]
    data = responses_xlsx(store.responses(small_questionnaire()), small_questionnaire())
    workbook = load_workbook(io.BytesIO(data))  # malformed XML raised here before
    assert CLEAN in [cell.value for row in workbook.worksheets[0].iter_rows() for cell in row]


def test_a_paper_import_stores_the_cell_without_them(store: Store) -> None:
    # A decoded file cannot hold a lone surrogate (UTF-8 refuses it); everything else can.
    in_file = TYPED.replace("\ud800", "")
    frame = pd.DataFrame({"remarks": [in_file]})
    assert store.import_responses(small_questionnaire(), frame, source="papier.csv") == 1
    assert _remarks(store) == [CLEAN]


def test_a_draft_keeps_the_text_without_them(store: Store) -> None:
    store.set_access("befragung", "code")
    [code] = store.create_codes("befragung", 1).codes
    store.save_draft("befragung", code, {"remarks": TYPED}, 1)
    draft = store.load_draft("befragung", code)
    assert draft is not None
    assert draft.answers["remarks"] == CLEAN
