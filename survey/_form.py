"""The survey form as pure logic: page flow, skip logic, validation, code throttling.

The Streamlit pages (``views/survey_page.py``) only draw widgets and keep state; every rule
about what is shown, what must be answered and what is stored lives here, so it is tested
without a browser.

The answers dict is the one described in :mod:`survey._model`: item id / battery statement id
mapped to a code (single choice, statement), a list of codes (multi choice), a number, a str,
a bool (yes/no) or an ISO date str. A blank answer is absent, ``None``, ``""`` or ``[]``.

Skip logic (``show_if``) only refers to earlier items (the loader guarantees it), so one pass
in questionnaire order decides visibility; a hidden item's answer is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import Location, Problem, t
from survey._model import (
    BatteryItem,
    InfoItem,
    Item,
    MultiChoiceItem,
    Questionnaire,
    Section,
    SingleChoiceItem,
    Statement,
)
from survey._numbering import question_numbers
from survey.expressions import Expression, ReferenceInfo, compile_expression
from survey.kinds import AnswerSpec, kind_named, kind_of

Answers = Mapping[str, Any]

#: Wrong access codes a session may enter before it is slowed down.
FREE_CODE_ATTEMPTS = 3
#: The longest wait, in seconds, between two code attempts of one session.
MAX_CODE_WAIT_SECONDS = 60.0
#: An info item with this id on the first page is the questionnaire's data-protection notice:
#: the survey page shows it once, on its own screen before the first page, instead of the
#: app's generic notice, and leaves it out of the page it stands on.
PRIVACY_ITEM_ID = "privacy"


def is_blank(value: Any) -> bool:
    """Whether ``value`` counts as "not answered"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) == 0
    return False


def reference_infos(questionnaire: Questionnaire) -> dict[str, ReferenceInfo]:
    """What an expression may reference: every answerable item and battery statement."""
    known: dict[str, ReferenceInfo] = {}
    for item in questionnaire.items():
        scale = (
            questionnaire.scale_of(item)
            if isinstance(item, SingleChoiceItem | MultiChoiceItem | BatteryItem)
            else None
        )
        kind = kind_of(item)
        info = kind.reference_info(item, scale)
        if info is not None:
            known.update((key, info) for key in kind.answer_ids(item))
    return known


@dataclass(frozen=True)
class PageCheck:
    """The outcome of pressing "next" (or "submit") on one page.

    ``problems`` are shown next to their items: errors block, warnings are the soft-required
    questions. ``asked`` is the updated set of soft-required ids already asked about.
    """

    problems: tuple[Problem, ...]
    may_continue: bool
    asked: frozenset[str]

    def for_field(self, field: str) -> list[Problem]:
        return [p for p in self.problems if p.location.field == field]

    @property
    def skipped(self) -> tuple[str, ...]:
        """The fields of the soft-required questions this check asks about, in page order."""
        return tuple(p.location.field or "" for p in self.problems if p.severity == "warning")


class Form:
    """The rules of one questionnaire's form; build once per questionnaire and reuse."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questionnaire = questionnaire
        self._known = reference_infos(questionnaire)
        self._specs: dict[str, AnswerSpec] = {
            spec.key: spec
            for item in questionnaire.items()
            for spec in kind_of(item).specs(item, questionnaire)
        }
        self._numbers = question_numbers(questionnaire)
        self._show_if: dict[str, Expression] = {}
        self._validate: dict[str, list[Expression]] = {}
        for section in questionnaire.sections:
            self._compile_show_if(f"section:{section.id}", section.show_if)
            for item in section.items:
                self._compile_show_if(item.id, item.show_if)
                if isinstance(item, BatteryItem):
                    for statement in item.statements:
                        self._compile_show_if(statement.id, statement.show_if)
                if not isinstance(item, InfoItem) and item.validate_:
                    self._validate[item.id] = [
                        self._compile(rule.expr, self._known.get(item.id))
                        for rule in item.validate_
                    ]
        self._shown_after = frozenset(
            name for expression in self._show_if.values() for name in expression.references()
        )

    def steers_visibility(self, item: Item) -> bool:
        """Whether a ``show_if`` reads an answer of ``item`` (its own or a statement's): then
        a change to it may show or hide other items or pages (and so change the progress and
        which page is the last); a change to any other answer changes nothing but the item
        and, once a page was checked, that page's problems."""
        ids = {item.id, *(s.id for s in getattr(item, "statements", []))}
        return not self._shown_after.isdisjoint(ids)

    def _compile_show_if(self, key: str, source: str | None) -> None:
        if source is not None:
            self._show_if[key] = self._compile(source, None)

    def _compile(self, source: str, self_type: ReferenceInfo | None) -> Expression:
        expression, problems = compile_expression(source, self._known, self_type=self_type)
        if expression is None:
            # The loader rejects such questionnaires; reaching this is a programming error.
            raise ValueError(f"expression {source!r} does not compile: {problems}")
        return expression

    # --- numbers and the privacy notice ------------------------------------------------------

    def question_number(self, answer_id: str) -> int | None:
        """The printed number of the question that asks ``answer_id`` (an item or a battery
        statement, which shares its battery's number); ``None`` for info items.

        Questions are numbered 1, 2, ... in questionnaire order over all pages, hidden
        follow-up questions included, so a number never changes while a respondent answers
        and is the same as on the paper questionnaire.
        """
        return self._numbers.get(answer_id)

    def skipped_numbers(self, fields: Iterable[str]) -> list[int]:
        """The question numbers of ``fields``, once each, ascending (a battery counts once)."""
        numbers = {self.question_number(field) for field in fields}
        return sorted(n for n in numbers if n is not None)

    def soft_prompt(self, fields: Iterable[str], lang: str) -> str | None:
        """One question for all soft-required blanks of a page, naming them by number.

        A respondent on a phone sees one short message above the buttons instead of one box
        per skipped item that repeats the whole question; the numbers are printed before each
        question, so "Frage 3 und 5" is easy to find.
        """
        numbers = [str(n) for n in self.skipped_numbers(fields)]
        if not numbers:
            return None
        listed = numbers[0]
        if len(numbers) > 1:
            listed = f"{', '.join(numbers[:-1])} {t('form.and', lang)} {numbers[-1]}"
        return t("form.skipped_questions", lang, count=len(numbers), numbers=listed)

    def privacy_notice(self) -> InfoItem | None:
        """The questionnaire's own data-protection notice (see :data:`PRIVACY_ITEM_ID`)."""
        sections = self.questionnaire.sections
        for item in sections[0].items if sections else []:
            if isinstance(item, InfoItem) and item.id == PRIVACY_ITEM_ID:
                return item
        return None

    # --- visibility -------------------------------------------------------------------------

    def _shown(self, key: str, answers: Answers) -> bool:
        expression = self._show_if.get(key)
        return expression is None or expression.evaluate(answers) is True

    def section_visible(self, section: Section, answers: Answers) -> bool:
        return self._shown(f"section:{section.id}", answers)

    def item_visible(self, item: Item, answers: Answers) -> bool:
        return self._shown(item.id, answers)

    def visible_items(self, section: Section, answers: Answers) -> list[Item]:
        return [item for item in section.items if self.item_visible(item, answers)]

    def visible_statements(self, battery: BatteryItem, answers: Answers) -> list[Statement]:
        return [s for s in battery.statements if self._shown(s.id, answers)]

    def visible_pages(self, answers: Answers) -> list[int]:
        """Indexes into ``questionnaire.sections`` of the pages the respondent sees."""
        return [
            index
            for index, section in enumerate(self.questionnaire.sections)
            if self.section_visible(section, answers)
        ]

    def next_page(self, current: int, answers: Answers) -> int | None:
        """The next visible page after ``current``, or ``None`` on the last page."""
        return next((i for i in self.visible_pages(answers) if i > current), None)

    def previous_page(self, current: int, answers: Answers) -> int | None:
        """The previous visible page before ``current``, or ``None`` on the first page."""
        return next((i for i in reversed(self.visible_pages(answers)) if i < current), None)

    def progress(self, current: int, answers: Answers) -> tuple[int, int]:
        """``(position, total)``: page ``position`` (1-based) of ``total`` visible pages."""
        pages = self.visible_pages(answers)
        position = sum(1 for i in pages if i <= current)
        return max(position, 1), max(len(pages), 1)

    def clean(self, answers: Answers) -> dict[str, Any]:
        """``answers`` without hidden, unknown and blank answers: what is stored.

        One pass in questionnaire order suffices because ``show_if`` only refers to earlier
        items, whose answers are already settled when a later item is decided.
        """
        kept: dict[str, Any] = {}
        for section in self.questionnaire.sections:
            if not self.section_visible(section, kept):
                continue
            for item in section.items:
                if isinstance(item, InfoItem) or not self.item_visible(item, kept):
                    continue
                ids = (
                    [s.id for s in self.visible_statements(item, kept)]
                    if isinstance(item, BatteryItem)
                    else [item.id]
                )
                for answer_id in ids:
                    value = answers.get(answer_id)
                    if not is_blank(value):
                        kept[answer_id] = value.strip() if isinstance(value, str) else value
        return kept

    # --- validation -------------------------------------------------------------------------

    def check_page(
        self,
        page: int,
        answers: Answers,
        lang: str,
        asked: Iterable[str] = frozenset(),
    ) -> PageCheck:
        """Check page ``page`` before leaving it forwards.

        Hard-required blanks and failed ``validate`` rules are errors. A soft-required blank
        is asked about once: the first time it is a warning that blocks, afterwards it passes.
        """
        asked_before = frozenset(asked)
        section = self.questionnaire.sections[page]
        problems = self._section_problems(section, self.clean(answers), lang)
        errors = [p for p in problems if p.severity == "error"]
        new_soft = [
            p
            for p in problems
            if p.severity == "warning" and (p.location.field or "") not in asked_before
        ]
        asked_now = asked_before | {p.location.field or "" for p in new_soft}
        return PageCheck(
            problems=tuple(errors + new_soft),
            may_continue=not errors and not new_soft,
            asked=asked_now,
        )

    def first_page_with_errors(self, answers: Answers, lang: str) -> int | None:
        """The first visible page with a blocking error, checked again before submitting."""
        cleaned = self.clean(answers)
        for page in self.visible_pages(cleaned):
            section = self.questionnaire.sections[page]
            if any(p.severity == "error" for p in self._section_problems(section, cleaned, lang)):
                return page
        return None

    def blocking_problems(self, answers: Answers, lang: str) -> list[Problem]:
        """The errors that refuse a whole form (a hard-required answer missing, a
        ``validate`` rule broken, e.g. consent not given), on every visible page of the
        cleaned ``answers``: what a paper form, keyed or scanned, is checked against at once."""
        cleaned = self.clean(answers)
        return [
            problem
            for page in self.visible_pages(cleaned)
            for problem in self._section_problems(self.questionnaire.sections[page], cleaned, lang)
            if problem.severity == "error"
        ]

    def _section_problems(self, section: Section, answers: Answers, lang: str) -> list[Problem]:
        problems: list[Problem] = []
        for item in self.visible_items(section, answers):
            if not isinstance(item, InfoItem):
                problems.extend(self.item_problems(item, answers, lang))
        return problems

    def item_problems(self, item: Item, answers: Answers, lang: str) -> list[Problem]:
        """Everything wrong with one visible item's answer, each located at its field.

        ``answers`` should be :meth:`clean`-ed, so hidden answers do not count.
        """
        if isinstance(item, InfoItem):
            return []
        q = self.questionnaire
        if isinstance(item, BatteryItem):
            problems: list[Problem] = []
            for statement in self.visible_statements(item, answers):
                value = answers.get(statement.id)
                if is_blank(value):
                    problems.extend(
                        self._required_problems(item, statement.id, statement.label, lang)
                    )
                else:
                    problems.extend(self._value_problems(statement.id, value, lang))
            return problems
        value = answers.get(item.id)
        if is_blank(value):
            return self._required_problems(item, item.id, item.label, lang)
        problems = self._value_problems(item.id, value, lang)
        if problems:
            return problems
        for rule, expression in zip(item.validate_, self._validate.get(item.id, []), strict=True):
            if expression.evaluate(answers, value) is not True:
                problems.append(
                    _problem(item.id, "form.rule_failed", message=q.text(rule.message, lang))
                )
        return problems

    def _required_problems(
        self, item: Item, field: str, label: Mapping[str, str], lang: str
    ) -> list[Problem]:
        required = getattr(item, "required", None)
        if required == "hard":
            return [_problem(field, "form.required_hard")]
        if required == "soft":
            text = self.questionnaire.text(dict(label), lang)
            return [_problem(field, "form.required_soft", severity="warning", label=text)]
        return []

    def _value_problems(self, key: str, value: Any, lang: str) -> list[Problem]:
        """The kind's answer check, the same the store and the paper import run."""
        spec = self._specs[key]
        checked = kind_named(spec.kind).check(spec, value, lang)
        return [checked] if isinstance(checked, Problem) else []


def _problem(field: str, key: str, severity: str = "error", **params: Any) -> Problem:
    return Problem(
        Location(field=field),
        key,
        params,
        severity="warning" if severity == "warning" else "error",
    )


def code_retry_wait(failures: int, seconds_since_last_failure: float) -> float:
    """Seconds a session must still wait before its next access-code attempt.

    The first :data:`FREE_CODE_ATTEMPTS` wrong codes cost nothing (typos happen); after that
    the pause doubles with every further wrong code, ``2 ** (failures - FREE_CODE_ATTEMPTS)``
    seconds, up to :data:`MAX_CODE_WAIT_SECONDS`. Guessing a 50-bit code is hopeless anyway;
    the pause keeps one session from hammering the database.
    """
    if failures < FREE_CODE_ATTEMPTS:
        return 0.0
    delay = min(MAX_CODE_WAIT_SECONDS, 2.0 ** (failures - FREE_CODE_ATTEMPTS + 1))
    return max(0.0, delay - max(0.0, seconds_since_last_failure))
