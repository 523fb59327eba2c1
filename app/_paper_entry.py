"""Keying in returned paper forms: the use case behind the page "Papier erfassen".

A keyer types each answer by its printed question number (:func:`survey.question_numbers`):
the option's code for a choice (``9`` for "weiß nicht", or ``?`` where the question has
exactly one such answer), several codes as ``1,3,5`` for a multi choice, ``1``/``j`` or
``0``/``n`` for yes/no, a number, a date as ``TT.MM.JJJJ``, free text as written; blank is
no answer. Each answer is read into the form's answer and checked by the question kind's one
answer check (:mod:`survey.kinds`), the same the web form and the store run; a problem names
the question number, what was typed and what is expected.

Answers to questions the skip logic hides (``show_if``) are flagged, not dropped silently:
the keyer confirms that they are left out before the form is stored.

Double entry: the first keying of a form is kept (:meth:`storage.Store.save_first_keying`)
until a second person keys the same form, identified by its access code (or a serial number
when the batch has no codes), without seeing the first. Equal keyings are stored at once;
differences are shown question by question and resolved (first, second or a corrected
value) before one response with mode ``keyed`` is stored.

No Streamlit here: the page (``views/paper_entry.py``) draws what these functions return.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd

from core import InvalidInput, Location, Problem, format_date, format_integer, t
from storage import NO_BATCH, BatchProgress, PaperForm, PendingKeying, Store, SubmitResult
from survey import (
    AnswerSpec,
    BatteryItem,
    Form,
    InfoItem,
    MultiChoiceItem,
    Questionnaire,
    Scale,
    SingleChoiceItem,
    is_blank,
    kind_named,
    kind_of,
    question_numbers,
)
from survey.kinds import as_code, as_number

#: Typed for "weiß nicht": the question's only non-substantive answer.
DONT_KNOW = "?"
#: Typed for yes and no (besides the stored codes 1 and 0).
YES_WORDS = frozenset({"1", "j", "ja", "y", "yes"})
NO_WORDS = frozenset({"0", "n", "nein", "no"})
_SEPARATORS = re.compile(r"[,;\s]+")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
#: Interpretations of free text are cut to this many characters on screen.
SHOWN_TEXT = 60


# --- the fields of a form ----------------------------------------------------------------------


@dataclass(frozen=True)
class EntryField:
    """One input of the keying form: an answer id with its printed number (``5``, or ``5a``
    for the first statement of battery 5), its question and what a keyer may type."""

    key: str
    number: str
    question: str
    spec: AnswerSpec
    #: (code as typed, label) of each option of a choice question.
    options: tuple[tuple[str, str], ...] = ()
    #: The only non-substantive code, which :data:`DONT_KNOW` stands for.
    dont_know: Any = None

    def expected(self, lang: str) -> str:
        """What the field takes, in words ("1, 2, 3 oder 9")."""
        kind = self.spec.kind
        if kind in ("single", "battery"):
            return _listed([code for code, _label in self.options], lang)
        if kind == "multi":
            codes = _listed([code for code, _label in self.options], lang)
            return t("paper_entry.expected.multi", lang, codes=codes)
        if kind in ("number", "year"):
            low, high = self.spec.minimum, self.spec.maximum
            whole = self.spec.integer or kind == "year"
            name = t(f"paper_entry.expected.{'integer' if whole else 'number'}", lang)
            if low is not None and high is not None:
                return t(
                    "paper_entry.expected.range", lang, what=name, min=_num(low), max=_num(high)
                )
            return name
        if kind == "text":
            return t("paper_entry.expected.text", lang, max=self.spec.max_length)
        return t(f"paper_entry.expected.{kind}", lang)

    def legend(self) -> str:
        """The options by code, ``1 Nord · 2 Süd`` (what the keyer may type)."""
        return " · ".join(f"{code} {label}" for code, label in self.options)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _listed(codes: Sequence[str], lang: str) -> str:
    if len(codes) <= 1:
        return "".join(codes)
    return f"{', '.join(codes[:-1])} {t('paper_entry.or', lang)} {codes[-1]}"


def _statement_number(number: int, index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return f"{number}{letters[index]}" if index < len(letters) else f"{number}.{index + 1}"


def entry_fields(questionnaire: Questionnaire, lang: str) -> list[EntryField]:
    """Every input of the keying form in questionnaire order; info items have none."""
    numbers = question_numbers(questionnaire)
    q = questionnaire
    fields: list[EntryField] = []
    for item in q.items():
        if isinstance(item, InfoItem):
            continue
        specs = {spec.key: spec for spec in kind_of(item).specs(item, q)}
        scale: Scale | None = (
            q.scale_of(item)
            if isinstance(item, SingleChoiceItem | MultiChoiceItem | BatteryItem)
            else None
        )
        options: tuple[tuple[str, str], ...] = ()
        dont_know: Any = None
        if scale is not None:
            options = tuple((str(o.code), q.text(o.label, lang)) for o in scale.options)
            missing = scale.non_substantive_codes()
            dont_know = missing[0] if len(missing) == 1 else None
        number = numbers[item.id]
        if isinstance(item, BatteryItem):
            battery = q.text(item.label, lang)
            for index, statement in enumerate(item.statements):
                fields.append(
                    EntryField(
                        key=statement.id,
                        number=_statement_number(number, index),
                        question=f"{battery} – {q.text(statement.label, lang)}",
                        spec=specs[statement.id],
                        options=options,
                        dont_know=dont_know,
                    )
                )
            continue
        fields.append(
            EntryField(
                key=item.id,
                number=str(number),
                question=q.text(item.label, lang),
                spec=specs[item.id],
                options=options,
                dont_know=dont_know,
            )
        )
    return fields


# --- reading what was typed --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldReading:
    """One typed field: the answer read from it (``None``: blank or not readable), how it
    reads back ("kein Problem") and the problem, if any."""

    field: EntryField
    typed: str
    value: Any
    shown: str
    problem: Problem | None = None


@dataclass(frozen=True)
class KeyedForm:
    """A whole typed form, read and checked."""

    readings: tuple[FieldReading, ...]
    #: The accepted, non-blank answers by answer id (answers to skipped questions included).
    answers: dict[str, Any]
    #: Answer ids answered although the skip logic hides them, in form order.
    skipped: tuple[str, ...] = ()
    #: The form's own rules broken (consent not given, a hard-required answer missing).
    rules: tuple[Problem, ...] = ()

    @property
    def problems(self) -> list[Problem]:
        return [r.problem for r in self.readings if r.problem is not None] + list(self.rules)

    @property
    def ok(self) -> bool:
        return not self.problems


def _field_problem(entry: EntryField, found: Problem | str, typed: str, lang: str) -> Problem:
    """The problem of one field, naming its question number, what was typed and what the
    field takes; ``found`` is the kind's problem or a message key of this module."""
    message = found.message(lang) if isinstance(found, Problem) else t(found, lang, value=typed)
    return Problem(
        Location(field=entry.key),
        "paper_entry.field_problem",
        {
            "number": entry.number,
            "message": message,
            "typed": typed,
            "expected": entry.expected(lang),
        },
    )


def _parse(entry: EntryField, typed: str) -> Any:
    """The answer the typed text stands for, before the kind's check (which reports what
    cannot be an answer, with the text as typed)."""
    spec = entry.spec
    kind = spec.kind
    if kind in ("single", "battery"):
        return _code(spec, typed)
    if kind == "multi":
        return [_code(spec, token) for token in _SEPARATORS.split(typed) if token]
    if kind in ("number", "year"):
        return as_number(typed)
    if kind == "yesno":
        word = typed.lower()
        return True if word in YES_WORDS else False if word in NO_WORDS else typed
    if kind == "date":
        match = _GERMAN_DATE.fullmatch(typed)
        if match:
            day, month, year = (int(part) for part in match.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return typed
        return typed
    return typed


def _code(spec: AnswerSpec, typed: str) -> Any:
    """An option code from typed text: ``3`` for code 3, a text code in any case."""
    value = as_code(typed, spec.codes)
    if value in spec.codes and type(value) in (int, str):
        return value
    folded = typed.casefold()
    return next((c for c in spec.codes if str(c).casefold() == folded), value)


def shown_value(entry: EntryField, value: Any, lang: str) -> str:
    """How an accepted answer reads back: the option's label, "ja", the date, the text."""
    if value is None:
        return ""
    labels = dict(entry.options)
    kind = entry.spec.kind
    if kind in ("single", "battery"):
        return labels.get(str(value), str(value))
    if kind == "multi":
        return ", ".join(labels.get(str(code), str(code)) for code in value)
    if kind == "yesno":
        return t(f"questionnaire.codebook.{'yes' if value else 'no'}", lang)
    if kind == "date":
        return format_date(date.fromisoformat(str(value)), lang)
    if kind in ("number", "year"):
        text = str(value)
        return text.replace(".", ",") if lang == "de" else text
    text = str(value)
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def read_field(entry: EntryField, typed: str, lang: str) -> FieldReading:
    """One typed field read and checked by its kind's answer check."""
    text = typed.strip()
    if not text:
        return FieldReading(entry, typed, None, "")
    if text == DONT_KNOW and entry.spec.kind != "text":
        if entry.dont_know is None:
            key = (
                "paper_entry.no_dont_know"
                if not entry.options
                else "paper_entry.dont_know_ambiguous"
            )
            return FieldReading(entry, typed, None, "", _field_problem(entry, key, text, lang))
        candidate: Any = [entry.dont_know] if entry.spec.kind == "multi" else entry.dont_know
    else:
        candidate = _parse(entry, text)
    checked = kind_named(entry.spec.kind).check(entry.spec, candidate, lang)
    if isinstance(checked, Problem):
        return FieldReading(entry, typed, None, "", _field_problem(entry, checked, text, lang))
    value = checked.value
    if is_blank(value):
        return FieldReading(entry, typed, None, "")
    return FieldReading(entry, typed, value, shown_value(entry, value, lang))


def skipped_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The answer ids given although the skip logic (as the web form applies it) hides them."""
    kept = Form(questionnaire).clean(answers)
    return tuple(key for key in answers if key not in kept and not is_blank(answers[key]))


def read_form(questionnaire: Questionnaire, typed: Mapping[str, str], lang: str) -> KeyedForm:
    """Every field of ``typed`` (answer id → text; missing ids are blank) read and checked."""
    readings = tuple(
        read_field(entry, typed.get(entry.key, "") or "", lang)
        for entry in entry_fields(questionnaire, lang)
    )
    answers = {r.field.key: r.value for r in readings if r.value is not None}
    # The form's own rules, as for a scanned form (Form.blocking_problems): a paper form
    # whose consent is not given, or that breaks a validate rule, is not stored either.
    # Fields with a problem of their own are left to it.
    entries = {r.field.key: r for r in readings}
    unread = {r.field.key for r in readings if r.problem is not None}
    rules = tuple(
        _field_problem(entries[p.location.field].field, p, entries[p.location.field].typed, lang)
        if p.location.field in entries
        else p
        for p in Form(questionnaire).blocking_problems(answers, lang)
        if p.location.field not in unread
    )
    return KeyedForm(readings, answers, skipped_answers(questionnaire, answers), rules)


def typed_text(entry: EntryField, value: Any) -> str:
    """An answer as a keyer would type it (to prefill a correction)."""
    if value is None:
        return ""
    kind = entry.spec.kind
    if kind == "multi":
        return ",".join(str(code) for code in value)
    if kind == "yesno":
        return "1" if value else "0"
    if kind == "date":
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    return str(value)


# --- comparing two keyings -------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One question the two keyings of a form answer differently."""

    field: EntryField
    first: Any
    second: Any

    def first_shown(self, lang: str) -> str:
        return shown_value(self.field, self.first, lang) or t("paper_entry.blank", lang)

    def second_shown(self, lang: str) -> str:
        return shown_value(self.field, self.second, lang) or t("paper_entry.blank", lang)


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, list) and isinstance(second, list):
        return sorted(map(str, first)) == sorted(map(str, second))
    if isinstance(first, str) and isinstance(second, str):
        return " ".join(first.split()) == " ".join(second.split())
    return bool(first == second) and type(first) is type(second)


def compare_keyings(
    questionnaire: Questionnaire,
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    lang: str,
) -> list[Difference]:
    """The questions whose answers differ between the two keyings, in form order (a blank
    against an answer is a difference too)."""
    return [
        Difference(entry, first.get(entry.key), second.get(entry.key))
        for entry in entry_fields(questionnaire, lang)
        if not _same(first.get(entry.key), second.get(entry.key))
    ]


class Resolution(StrEnum):
    """How one difference is resolved."""

    FIRST = "first"
    SECOND = "second"
    CORRECTED = "corrected"


def resolve_differences(
    differences: Sequence[Difference],
    second: Mapping[str, Any],
    choices: Mapping[str, Resolution | None],
    corrections: Mapping[str, str],
    lang: str,
) -> tuple[dict[str, Any], list[Problem]]:
    """The answers after resolving every difference: the second keying where both agree,
    and per difference the first, the second or the corrected value (typed like any answer
    and checked the same way). A difference without a choice is a problem naming it."""
    answers = dict(second)
    problems: list[Problem] = []
    for difference in differences:
        entry = difference.field
        choice = choices.get(entry.key)
        if choice is None:
            problems.append(
                Problem(
                    Location(field=entry.key),
                    "paper_entry.unresolved",
                    {"number": entry.number},
                )
            )
            continue
        if choice is Resolution.FIRST:
            value = difference.first
        elif choice is Resolution.SECOND:
            value = difference.second
        else:
            reading = read_field(entry, corrections.get(entry.key, ""), lang)
            if reading.problem is not None:
                problems.append(reading.problem)
                continue
            value = reading.value
        if value is None:
            answers.pop(entry.key, None)
        else:
            answers[entry.key] = value
    return answers, problems


# --- keying a form -----------------------------------------------------------------------------


class KeyingStep(StrEnum):
    """Where keying a form stands after the keyer pressed Enter."""

    #: Problems in the typed answers or with the form (its code); nothing was written.
    INVALID = "invalid"
    #: Read and checked, nothing written yet: the keyer sees how each answer reads back and
    #: keys the form with a second Enter (:attr:`KeyingOutcome.note` says what it will do).
    CHECKED = "checked"
    #: Answers to skipped questions: confirm that they are left out.
    CONFIRM_SKIPPED = "confirm_skipped"
    #: Double entry: the first keying is kept until a second person keys the form.
    FIRST_SAVED = "first_saved"
    #: The second keying differs from the first: resolve the differences.
    COMPARE = "compare"
    #: One response with mode ``keyed`` was stored.
    STORED = "stored"
    #: The store refused the response (a code used meanwhile, …); nothing was written.
    REFUSED = "refused"


@dataclass(frozen=True)
class KeyingOutcome:
    """What happened to a keyed form, for the page to show."""

    step: KeyingStep
    problems: tuple[Problem, ...] = ()
    skipped: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    #: The first keying's answers (only once the second one is complete: :attr:`COMPARE`).
    first: dict[str, Any] = field(default_factory=dict)
    #: The second keying's answers (kept in the session only, never stored).
    second: dict[str, Any] = field(default_factory=dict)
    result: SubmitResult | None = None
    #: For :attr:`KeyingStep.CHECKED`: ``single`` (the form will be stored), ``first`` (kept
    #: as the first keying) or ``second`` (compared with the first keying, which stays
    #: unseen until then).
    note: str = ""


def new_keying_token() -> str:
    """A fresh submission token: a reload or double click stores a form once."""
    return secrets.token_urlsafe(24)


def paper_form(batch_id: str, code: str = "", serial: str = "") -> PaperForm:
    """The form being keyed, from what the keyer chose and typed."""
    return PaperForm(batch_id=batch_id, code=code.strip() or None, serial=serial.strip() or None)


def _invalid(problems: Sequence[Problem]) -> KeyingOutcome:
    return KeyingOutcome(KeyingStep.INVALID, tuple(problems))


def finish_keying(
    store: Store,
    questionnaire: Questionnaire,
    form: PaperForm,
    answers: Mapping[str, Any],
    *,
    drop_skipped: bool,
    language: str,
    token: str,
) -> KeyingOutcome:
    """Store the final answers of a form as a keyed response, once answers to questions the
    skip logic hides are confirmed to be left out (:attr:`KeyingStep.CONFIRM_SKIPPED` otherwise)."""
    skipped = skipped_answers(questionnaire, answers)
    if skipped and not drop_skipped:
        return KeyingOutcome(KeyingStep.CONFIRM_SKIPPED, skipped=skipped)
    kept = Form(questionnaire).clean(answers)
    try:
        result = store.store_keyed(
            questionnaire, form, kept, language=language, submission_token=token
        )
    except InvalidInput as invalid:
        return _invalid(invalid.problems)
    return KeyingOutcome(KeyingStep.STORED if result.stored else KeyingStep.REFUSED, result=result)


def _pending(
    store: Store,
    questionnaire: Questionnaire,
    form: PaperForm,
    keyed: KeyedForm,
    *,
    double_entry: bool,
) -> tuple[PendingKeying | None, list[Problem]]:
    """The form's first keying (if one waits), or the problems that refuse the form."""
    problems = list(keyed.problems)
    if double_entry and not form.has_code and not form.has_serial:
        problems.append(Problem(Location(field="serial"), "paper_entry.serial_required"))
    if problems:
        return None, problems
    try:
        pending = store.check_paper_form(questionnaire.id, form)
    except InvalidInput as invalid:
        return None, invalid.problems
    if pending is not None and pending.revision != questionnaire.revision:
        return None, [Problem(Location(field="code"), "paper_entry.other_revision")]
    return pending, []


def check_keying(
    store: Store,
    questionnaire: Questionnaire,
    form: PaperForm,
    keyed: KeyedForm,
    *,
    double_entry: bool,
) -> KeyingOutcome:
    """The first Enter on a typed form: its answers and its code checked, nothing written.

    Says what the second Enter will do (:attr:`KeyingOutcome.note`) without showing a first
    keying's answers: the second person keys without seeing them.
    """
    pending, problems = _pending(store, questionnaire, form, keyed, double_entry=double_entry)
    if problems:
        return _invalid(problems)
    note = "second" if pending is not None else "first" if double_entry else "single"
    return KeyingOutcome(KeyingStep.CHECKED, skipped=keyed.skipped, note=note)


def key_form(
    store: Store,
    questionnaire: Questionnaire,
    form: PaperForm,
    keyed: KeyedForm,
    *,
    double_entry: bool,
    drop_skipped: bool,
    language: str,
    token: str,
    lang: str,
) -> KeyingOutcome:
    """Take one typed form: refuse it with its problems, keep it as a first keying, compare it
    with the first keying, or store it.

    A form whose code is used, unknown or another batch's is refused as the survey page
    refuses the code. With a first keying waiting for this form, this is the second keying
    (whatever ``double_entry`` says): equal keyings are stored, differences are returned
    to be resolved (:func:`resolve_differences`, then :func:`finish_keying`).
    """
    pending, problems = _pending(store, questionnaire, form, keyed, double_entry=double_entry)
    if problems:
        return _invalid(problems)
    if pending is not None:
        differences = compare_keyings(questionnaire, pending.answers, keyed.answers, lang)
        if differences:
            return KeyingOutcome(
                KeyingStep.COMPARE,
                differences=tuple(differences),
                first=dict(pending.answers),
                second=dict(keyed.answers),
            )
    elif double_entry:
        try:
            store.save_first_keying(questionnaire, form, keyed.answers)
        except InvalidInput as invalid:
            return _invalid(invalid.problems)
        return KeyingOutcome(KeyingStep.FIRST_SAVED, skipped=keyed.skipped)
    return finish_keying(
        store,
        questionnaire,
        form,
        keyed.answers,
        drop_skipped=drop_skipped,
        language=language,
        token=token,
    )


# --- progress ----------------------------------------------------------------------------------


def batch_choices(store: Store, questionnaire_id: str, *, open_access: bool) -> list[str]:
    """The batches a form can belong to; ``""`` (forms without a code) when the survey is
    open to anyone with the link."""
    ids = [b.batch_id for b in store.keying_progress(questionnaire_id) if b.batch_id != NO_BATCH]
    return [*ids, NO_BATCH] if open_access else ids


def batch_name(progress: BatchProgress | None, batch_id: str, lang: str) -> str:
    """A batch as the page names it: its id and stratum, or "ohne Zugangscode"."""
    if batch_id == NO_BATCH:
        return t("paper_entry.no_codes", lang)
    if progress is not None and progress.stratum:
        return f"{batch_id} ({progress.stratum})"
    return batch_id


def progress_table(store: Store, questionnaire_id: str, lang: str) -> pd.DataFrame:
    """Per batch: codes issued, responses stored with them (online and on paper), paper
    forms keyed and stored, first keyings waiting for their second."""
    rows = store.keying_progress(questionnaire_id)
    return pd.DataFrame(
        {
            t("paper_entry.col.batch", lang): [batch_name(r, r.batch_id, lang) for r in rows],
            t("paper_entry.col.issued", lang): [
                format_integer(r.issued, lang) if r.batch_id != NO_BATCH else "–" for r in rows
            ],
            t("paper_entry.col.used", lang): [
                format_integer(r.used, lang) if r.batch_id != NO_BATCH else "–" for r in rows
            ],
            t("paper_entry.col.keyed", lang): [format_integer(r.keyed, lang) for r in rows],
            t("paper_entry.col.pending", lang): [format_integer(r.pending, lang) for r in rows],
        }
    )
