"""Paper questionnaires end to end without a browser: print a batch's forms, fill them in
as synthetic scans, read them back, review and store them with mode ``scanned``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app import (
    ScannedForm,
    ScanResult,
    form_answers,
    print_forms,
    scan_forms,
    store_scanned_forms,
)
from app._synthetic_scans import Degradation, degrade, fill_form, images_pdf, rasterise
from core import InvalidInput
from reporting import paper_layout
from storage import Store
from survey import load_questionnaire
from tests.conftest import DEFAULT_QUESTIONNAIRE, StoreFactory

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)


def _published(store: Store) -> None:
    store.publish_questionnaire(QUESTIONNAIRE, DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))


def _scan(pdf: bytes, rng: np.random.Generator, dpi: int = 150) -> tuple[bytes, Any]:
    layout = paper_layout(QUESTIONNAIRE, "de")
    pages = rasterise(pdf, dpi)
    filled = fill_form(pages, layout, dpi, rng)
    spoilt = [
        degrade(p, dpi, Degradation(angle=float(rng.uniform(-2, 2)), blur=0.1, noise=8), rng)
        for p in filled.pages
    ]
    return images_pdf(spoilt, dpi), filled


def _decisions(form: ScannedForm, filled: Any) -> dict[str, Any]:
    """What a reviewer decides: the truth for each box, the written text for each field."""
    out: dict[str, Any] = {}
    for review in form.reviews:
        if review.reason == "written":
            out[review.answer_id] = filled.written.get(review.answer_id)
        else:
            layout = form.layout
            ticked = [
                m.value
                for m in layout.marks
                if m.answer_id == review.answer_id and filled.ticked(m.key)
            ]
            out[review.answer_id] = ticked if review.kind == "multi" else (ticked or [None])[0]
    return out


def test_print_scan_review_store(store_factory: StoreFactory, rng: np.random.Generator) -> None:
    store = store_factory()
    _published(store)
    batch = store.create_codes(QUESTIONNAIRE.id, 2)
    forms = print_forms(store, batch.id, batch.codes[:1], lang="de")
    scan, filled = _scan(forms.pdf, rng)
    result = scan_forms(store, QUESTIONNAIRE.id, [("scan.pdf", scan)])
    assert result.problems == []
    assert [f.code for f in result.forms] == [batch.codes[0]]
    form = result.forms[0]
    # Nothing is stored while a review is open.
    if form.reviews:
        with pytest.raises(InvalidInput) as refused:
            store_scanned_forms(store, QUESTIONNAIRE.id, result.forms, {})
        assert {p.key for p in refused.value.problems} >= {"paper.unreviewed"}
        assert len(store.responses(QUESTIONNAIRE)) == 0
    decisions = {form.code: _decisions(form, filled)}
    answers, _problems = form_answers(QUESTIONNAIRE, form, decisions[form.code])
    stored = store_scanned_forms(store, QUESTIONNAIRE.id, result.forms, decisions)
    assert stored.stored == 1
    frame = store.responses(QUESTIONNAIRE)
    assert list(frame["mode"]) == ["scanned"]
    row = frame.iloc[0]
    for key, value in answers.items():
        if isinstance(value, bool):
            assert row[key] == int(value)
        elif isinstance(value, list):
            for code in value:
                assert row[f"{key}__{code}"] == 1
        else:
            assert str(row[key]) == str(value)
    # The same form (its code now used) is refused exactly as online.
    with pytest.raises(InvalidInput) as again:
        store_scanned_forms(store, QUESTIONNAIRE.id, result.forms, decisions)
    assert "paper.code_used" in {p.key for p in again.value.problems}
    assert len(store.responses(QUESTIONNAIRE)) == 1


def _one_scanned_form(
    store: Store, rng: np.random.Generator
) -> tuple[str, ScanResult, dict[str, dict[str, Any]]]:
    """A published questionnaire, one code, its form scanned and reviewed."""
    _published(store)
    batch = store.create_codes(QUESTIONNAIRE.id, 1)
    code = batch.codes[0]
    scan, filled = _scan(print_forms(store, batch.id, [code], lang="de").pdf, rng)
    result = scan_forms(store, QUESTIONNAIRE.id, [("scan.pdf", scan)])
    return code, result, {code: _decisions(result.forms[0], filled)}


def test_a_code_used_online_refuses_the_paper_form(
    store_factory: StoreFactory, rng: np.random.Generator
) -> None:
    store = store_factory()
    code, result, decisions = _one_scanned_form(store, rng)
    online = store.submit(
        QUESTIONNAIRE, {"consent": True}, language="de", submission_token="t" * 32, code=code
    )
    assert online.stored
    with pytest.raises(InvalidInput) as refused:
        store_scanned_forms(store, QUESTIONNAIRE.id, result.forms, decisions)
    assert [p.key for p in refused.value.problems] == ["paper.code_used"]
    assert list(store.responses(QUESTIONNAIRE)["mode"]) == ["web"]


def test_a_foreign_code_is_refused_and_a_closed_survey_still_takes_its_paper_forms(
    store_factory: StoreFactory, rng: np.random.Generator
) -> None:
    store = store_factory()
    code, result, decisions = _one_scanned_form(store, rng)
    batch_id = store.code_batches(QUESTIONNAIRE.id)[0].id
    with pytest.raises(InvalidInput) as foreign:
        print_forms(store, batch_id, [code, "K7QM-P3XA-9TFD"], lang="de")
    assert [(p.key, p.location.row) for p in foreign.value.problems] == [
        ("letters.code_not_in_batch", 3)
    ]
    # Paper forms come back by post after the survey closed: taken, as keyed forms are, and
    # counted in the batch's progress like them (one path for keyed and scanned forms).
    store.set_state(QUESTIONNAIRE.id, "closed")
    stored = store_scanned_forms(store, QUESTIONNAIRE.id, result.forms, decisions)
    assert stored.stored == 1
    assert list(store.responses(QUESTIONNAIRE)["mode"]) == ["scanned"]
    [progress] = [p for p in store.keying_progress(QUESTIONNAIRE.id) if p.batch_id == batch_id]
    assert progress.keyed == 1
