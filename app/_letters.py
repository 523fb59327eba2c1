"""The letter kit of a code batch (the overview page and ``sicherheitsanalyse codes letters``).

The database keeps only keyed hashes of the codes, so the letters are made from the codes
file written when the batch was created (or, on the page, right after creating it). Every
code of that file is checked against the batch first: a wrong or edited file gives located
problems and no letters at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app._publishing import current_questionnaire
from core import InvalidInput, Location, Problem
from reporting import LetterKit
from storage import BatchMembership, Store
from survey import Questionnaire, normalise_code

#: The largest codes file read (a batch of a million codes is about 20 MB).
MAX_CODES_FILE_BYTES = 64 * 1024 * 1024
_URL_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class BatchLetters:
    """Everything the letters of one batch need."""

    kit: LetterKit
    batch_id: str
    stratum: str | None
    codes: tuple[str, ...]


def letter_kit(
    questionnaire: Questionnaire,
    *,
    url: str | None = None,
    deadline: date | None = None,
    lang: str | None = None,
) -> LetterKit:
    """The shared parts of the letters: ``url`` and ``deadline`` default to the
    questionnaire's ``meta.letter``; ``lang`` to its default language. :class:`InvalidInput`
    when no address is known, it is not a web address, or the language is not the survey's."""
    letter = questionnaire.meta.letter
    chosen_url = (url or letter.url or "").strip()
    where = Location(file=f"{questionnaire.id}.yaml", field="meta.letter.url")
    problems: list[Problem] = []
    if not chosen_url:
        problems.append(Problem(where, "letters.no_url"))
    elif not chosen_url.startswith(_URL_SCHEMES) or any(c.isspace() for c in chosen_url):
        problems.append(Problem(where, "letters.bad_url", {"url": chosen_url}))
    chosen_lang = lang or questionnaire.meta.default_language
    problems += questionnaire.language_problems(chosen_lang, "--lang")
    if problems:
        raise InvalidInput(problems)
    return LetterKit(
        questionnaire=questionnaire,
        url=chosen_url,
        deadline=deadline or letter.deadline,
        lang=chosen_lang,
    )


@dataclass(frozen=True)
class CodesFile:
    """The codes of a codes file and the row each stands in (the header is row 1)."""

    codes: tuple[str, ...]
    rows: tuple[int, ...]


def read_codes_file(data: bytes, filename: str) -> CodesFile:
    """The codes of a codes file (``;``-separated as written today, or ``,`` as written
    before), in file order; :class:`InvalidInput` with the row of every bad code."""
    where = Location(file=filename)
    if len(data) > MAX_CODES_FILE_BYTES:
        raise InvalidInput([Problem(where, "letters.codes_file_too_large")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput([Problem(where, "letters.codes_not_utf8")]) from None
    lines = text.splitlines()
    header = lines[0] if lines else ""
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    columns = [c.strip() for c in rows[0]] if rows else []
    if "code" not in columns:
        raise InvalidInput([Problem(Location(file=filename, row=1), "letters.no_code_column")])
    index = columns.index("code")
    codes: list[str] = []
    numbers: list[int] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        code = row[index].strip() if index < len(row) else ""
        if normalise_code(code) is None:
            problems.append(
                Problem(
                    Location(file=filename, row=number, field="code"),
                    "letters.bad_code",
                    {"value": code[:40]},
                )
            )
        else:
            codes.append(code)
            numbers.append(number)
    if not codes and not problems:
        problems.append(Problem(where, "letters.no_codes"))
    if problems:
        raise InvalidInput(problems)
    return CodesFile(tuple(codes), tuple(numbers))


def foreign_codes(
    membership: BatchMembership, rows: Sequence[int] | None, source: str | None
) -> list[Problem]:
    """A problem for every code that is not one of the batch's, located at its row in
    ``source`` (default: one code per row after the header)."""
    numbers = list(rows) if rows is not None else list(range(2, len(membership.member) + 2))
    return [
        Problem(
            Location(file=source, row=number, field="code"),
            "letters.code_not_in_batch",
            {"batch": membership.batch_id},
        )
        for number, member in zip(numbers, membership.member, strict=True)
        if not member
    ]


def batch_letters(
    store: Store,
    batch_id: str,
    codes: Sequence[str],
    *,
    rows: Sequence[int] | None = None,
    source: str | None = None,
    url: str | None = None,
    deadline: date | None = None,
    lang: str | None = None,
) -> BatchLetters:
    """The letters of batch ``batch_id`` for ``codes`` (read from the file ``source``, where
    they stand in ``rows``; default: one per row after the header).

    Every code must be one of the batch's: otherwise :class:`InvalidInput` lists each foreign
    code by its row, and nothing is made.
    """
    membership = store.batch_membership(batch_id, codes)
    problems = foreign_codes(membership, rows, source)
    if problems:
        raise InvalidInput(problems)
    kit = letter_kit(
        current_questionnaire(store, membership.questionnaire_id),
        url=url,
        deadline=deadline,
        lang=lang,
    )
    return BatchLetters(kit, batch_id, membership.stratum, tuple(codes))
