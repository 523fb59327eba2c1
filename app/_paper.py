"""Paper questionnaires as use cases (the overview and scans pages and ``sicherheitsanalyse
paper``): printing the forms of a code batch, reading scanned forms, and storing the reviewed
forms through the same path as an online response.

The database keeps only keyed hashes of the access codes, so the forms are printed from the
codes of a batch right after creating it, or from the codes file written then (as the
letters are). Stored forms go through :meth:`storage.Store.submit` one by one with mode
``scanned``: the kinds' answer checks, the skip logic (answers to questions the form said to
skip are dropped, as online) and the single use of every code are exactly the online form's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app._letters import foreign_codes, read_codes_file
from app._publishing import current_questionnaire
from app._scanning import Review, ScannedForm, ScanResult, read_scans
from core import InvalidInput, Location, Problem
from reporting import PageMark, PaperLayout, answer_choices, paper_layout, paper_pdf, short_revision
from storage import CodeStatus, PaperForm, QuestionnaireState, Store
from survey import Form, Questionnaire, kind_named, kind_of, normalise_code

#: The mode stored with every response read from a scanned form.
SCANNED_MODE = "scanned"


@dataclass(frozen=True)
class PaperForms:
    """The printed forms of one batch."""

    batch_id: str
    questionnaire_id: str
    pdf: bytes
    count: int


def print_forms(
    store: Store,
    batch_id: str,
    codes: Sequence[str],
    *,
    lang: str,
    large_print: bool = False,
    rows: Sequence[int] | None = None,
    source: str | None = None,
) -> PaperForms:
    """The paper questionnaire once per code of batch ``batch_id``, in the order given.

    Every code must be one of the batch's (:class:`InvalidInput` names each foreign code by
    its row in ``source``), and ``lang`` one of the questionnaire's languages.
    """
    membership = store.batch_membership(batch_id, codes)
    problems = foreign_codes(membership, rows, source)
    questionnaire = current_questionnaire(store, membership.questionnaire_id)
    problems += questionnaire.language_problems(lang, "language")
    if problems:
        raise InvalidInput(problems)
    pdf = paper_pdf(questionnaire, list(codes), lang, large_print=large_print)
    return PaperForms(batch_id, questionnaire.id, pdf, len(codes))


def print_forms_from_file(
    store: Store,
    batch_id: str,
    data: bytes,
    filename: str,
    *,
    lang: str,
    large_print: bool = False,
) -> PaperForms:
    """:func:`print_forms` for the codes in a codes file (as written when the batch was made)."""
    read = read_codes_file(data, filename)
    return print_forms(
        store,
        batch_id,
        read.codes,
        lang=lang,
        large_print=large_print,
        rows=read.rows,
        source=filename,
    )


def layout_for(questionnaire: Questionnaire) -> Callable[[PageMark], PaperLayout | Problem]:
    """What the scanner asks for each located page: the layout its mark names, or why the
    page does not belong to ``questionnaire``'s current revision."""

    def resolve(mark: PageMark) -> PaperLayout | Problem:
        if mark.questionnaire_id != questionnaire.id:
            return Problem(
                Location(),
                "paper.scan.other_questionnaire",
                {"found": mark.questionnaire_id, "expected": questionnaire.id},
            )
        if mark.revision != short_revision(questionnaire.revision):
            return Problem(
                Location(),
                "paper.scan.other_revision",
                {"found": mark.revision, "expected": short_revision(questionnaire.revision)},
            )
        if mark.lang not in questionnaire.meta.languages:
            return Problem(Location(), "paper.scan.no_mark")
        return paper_layout(questionnaire, mark.lang, large_print=mark.large_print)

    return resolve


def scan_forms(
    store: Store, questionnaire_id: str, files: Sequence[tuple[str, bytes]]
) -> ScanResult:
    """Every form in the scan files (PDF, PNG, JPEG, TIFF) of the questionnaire's current
    revision: the sure answers and what a person must review, or located problems and no
    forms."""
    questionnaire = current_questionnaire(store, questionnaire_id)
    return read_scans(files, layout_for(questionnaire))


def _form_place(form: ScannedForm) -> str:
    return f"{form.sources[0][0]} (Code {form.code})"


def _typed(questionnaire: Questionnaire, answer_id: str, kind: str, text: Any) -> Any:
    """A reviewer's typed text as the answer the kind checks (a German date becomes ISO)."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    if not text:
        return None
    if kind == "date" and text.count(".") == 2:
        day, month, year = (part.strip() for part in text.split("."))
        if day.isdigit() and month.isdigit() and year.isdigit():
            text = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    item = questionnaire.item(answer_id)
    spec = kind_of(item).specs(item, questionnaire)[0]
    return kind_named(spec.kind).read_cell(spec, text)


def form_answers(
    questionnaire: Questionnaire, form: ScannedForm, decisions: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """The answers of a reviewed form as they are stored, and what is wrong with them:
    a review left open, an answer the kind's check refuses, a required answer missing.

    ``decisions`` holds per answer id of every :class:`Review` the person's answer: a value
    (``None`` for no answer), a list of values for several ticks, or typed text."""
    where = _form_place(form)
    problems: list[Problem] = []
    answers = dict(form.answers)
    for review in form.reviews:
        if review.answer_id not in decisions:
            problems.append(
                Problem(
                    Location(file=where, field=review.answer_id),
                    "paper.unreviewed",
                    {"number": review.number},
                )
            )
            continue
        value = _typed(questionnaire, review.answer_id, review.kind, decisions[review.answer_id])
        if value is not None and value != []:
            answers[review.answer_id] = value
        else:
            answers.pop(review.answer_id, None)
    rules = Form(questionnaire)
    kept = rules.clean(answers)
    problems += [
        Problem(Location(file=where, field=p.location.field), p.key, p.params)
        for p in rules.blocking_problems(kept, form.lang)
    ]
    return kept, problems


@dataclass(frozen=True)
class StoredForms:
    stored: int
    #: Forms the store refused while storing (a code used meanwhile), one problem each.
    refused: tuple[Problem, ...]


def store_scanned_forms(
    store: Store,
    questionnaire_id: str,
    forms: Sequence[ScannedForm],
    decisions: Mapping[str, Mapping[str, Any]],
) -> StoredForms:
    """Store reviewed scanned forms as responses with mode ``scanned``.

    ``decisions`` maps each form's code to its reviewed answers (:func:`form_answers`).
    Everything is checked first: every review decided, every answer accepted by its kind's
    check, every code one of the questionnaire's and unused (a used code is refused exactly
    as online), no code twice, the questionnaire published (paper forms come back after the
    survey closed; they are taken then, as keyed forms are). Any problem raises
    :class:`InvalidInput` with all of them and nothing is stored. Then each form is stored
    through the data entry's path (:meth:`storage.Store.store_keyed`): its code marked used
    and the batch's count of paper forms raised in the same transaction.
    """
    questionnaire = current_questionnaire(store, questionnaire_id)
    problems: list[Problem] = []
    record = store.questionnaire(questionnaire_id)
    if record is None or record.state is QuestionnaireState.DRAFT:
        problems.append(Problem(Location(field=questionnaire_id), "paper.not_open"))
    ready: list[tuple[ScannedForm, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for form in forms:
        where = Location(file=_form_place(form))
        if form.layout.revision != questionnaire.revision:
            expected = short_revision(questionnaire.revision)
            found_revision = short_revision(form.layout.revision)
            problems.append(
                Problem(
                    where,
                    "paper.scan.other_revision",
                    {"found": found_revision, "expected": expected},
                )
            )
            continue
        answers, found = form_answers(questionnaire, form, decisions.get(form.code, {}))
        problems += found
        normalised = normalise_code(form.code)
        if normalised is None or normalised in seen:
            problems.append(Problem(where, "paper.code_twice", {"code": form.code}))
            continue
        seen.add(normalised)
        status = store.check_code(questionnaire_id, form.code)
        batch = store.code_batch(questionnaire_id, form.code)
        if status is not CodeStatus.VALID or batch is None:
            problems.append(Problem(where, f"paper.code_{status.value}", {"code": form.code}))
            continue
        ready.append((form, batch, answers))
    if problems:
        raise InvalidInput(problems)
    stored = 0
    refused: list[Problem] = []
    for form, batch, answers in ready:
        result = store.store_keyed(
            questionnaire,
            PaperForm(batch, code=form.code),
            answers,
            language=form.lang,
            submission_token=secrets.token_hex(16),
            mode=SCANNED_MODE,
        )
        if result.stored:
            stored += 1
        else:
            refused.append(
                Problem(
                    Location(file=_form_place(form)),
                    f"storage.submit.{result.status.value}",
                )
            )
    return StoredForms(stored, tuple(refused))


# --- the review table of the command line ----------------------------------------------------

#: The columns of the review file ``paper scan`` writes; a person fills in ``answer``.
REVIEW_COLUMNS: tuple[str, ...] = (
    "code",
    "question",
    "answer_id",
    "kind",
    "reason",
    "choices",
    "read",
    "image",
    "answer",
)
#: What a reviewer writes for "no answer".
NO_ANSWER = "-"


def value_text(value: Any) -> str:
    """A choice value as the review file writes it (yes/no as 1/0, like the codebook)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def review_image_name(form: ScannedForm, review: Review) -> str:
    return f"{normalise_code(form.code) or 'form'}-{review.number}-{review.answer_id}.png"


def review_rows(
    questionnaire: Questionnaire, forms: Sequence[ScannedForm], lang: str
) -> list[dict[str, str]]:
    """One row per open review of every form, for the review file."""
    rows = []
    for form in forms:
        for review in form.reviews:
            choices = ""
            if review.values:
                item_labels = _choice_labels(questionnaire, review.answer_id, lang)
                choices = " | ".join(
                    f"{value_text(v)}={item_labels.get(value_text(v), value_text(v))}"
                    for v in review.values
                )
            guess = review.guess
            read = (
                ",".join(value_text(v) for v in guess)
                if isinstance(guess, list)
                else ("" if guess is None else value_text(guess))
            )
            rows.append(
                {
                    "code": form.code,
                    "question": str(review.number),
                    "answer_id": review.answer_id,
                    "kind": review.kind,
                    "reason": review.reason,
                    "choices": choices,
                    "read": read,
                    "image": review_image_name(form, review),
                    "answer": "",
                }
            )
    return rows


def answer_labels(questionnaire: Questionnaire, answer_id: str, lang: str) -> dict[Any, str]:
    """The printed label of each value of a choice answer (an item or battery statement)."""
    return dict(answer_choices(questionnaire, answer_id, lang))


def _choice_labels(questionnaire: Questionnaire, answer_id: str, lang: str) -> dict[str, str]:
    return {value_text(v): label for v, label in answer_choices(questionnaire, answer_id, lang)}


def decisions_from_rows(
    forms: Sequence[ScannedForm], rows: Sequence[Mapping[str, str]], source: str
) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The reviewers' answers in a filled-in review file: per code, per answer id the value.

    An empty ``answer`` leaves the review open; :data:`NO_ANSWER` means no answer; a choice
    answer must be one of its ``choices`` (several, comma-separated, for ``multi``)."""
    reviews = {(f.code, r.answer_id): r for f in forms for r in f.reviews}
    decisions: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=2):
        key = (row.get("code", "").strip(), row.get("answer_id", "").strip())
        text = (row.get("answer") or "").strip()
        review = reviews.get(key)
        where = Location(file=source, row=number, field="answer")
        if review is None:
            problems.append(
                Problem(where, "paper.review.unknown_row", {"code": key[0], "answer": key[1]})
            )
            continue
        if not text:
            continue
        if text == NO_ANSWER:
            decisions.setdefault(key[0], {})[key[1]] = None
            continue
        if not review.values:
            decisions.setdefault(key[0], {})[key[1]] = text
            continue
        by_text = {value_text(v): v for v in review.values}
        parts = [p.strip() for p in text.split(",")] if review.kind == "multi" else [text]
        unknown = [p for p in parts if p not in by_text]
        if unknown:
            problems.append(
                Problem(
                    where,
                    "paper.review.bad_choice",
                    {"value": text, "expected": ", ".join(by_text)},
                )
            )
            continue
        chosen = [by_text[p] for p in parts]
        decisions.setdefault(key[0], {})[key[1]] = chosen if review.kind == "multi" else chosen[0]
    return decisions, problems
