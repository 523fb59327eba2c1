"""The codebook: one row per stored variable, as analysts and SPSS users read it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from survey._model import BatteryItem, Questionnaire
from survey.kinds import kind_of_variable

#: Columns of :func:`codebook`, in order.
CODEBOOK_COLUMNS: tuple[str, ...] = (
    "variable",
    "item_id",
    "question",
    "kind",
    "codes",
    "non_substantive",
    "tags",
    "design",
)


def codebook(questionnaire: Questionnaire, lang: str | None = None) -> pd.DataFrame:
    """Every variable of ``questionnaire`` (:meth:`~survey.Questionnaire.variables`) as a row.

    Columns: ``variable`` (the stored name), ``item_id``, ``question`` (in ``lang``, default
    the questionnaire's default language; a battery statement is prefixed by its battery's
    question), ``kind``, ``codes`` (``"1=sehr sicher | 2=eher sicher …"``, substantive codes
    only), ``non_substantive`` (the codes that are stored but never scored), ``tags``
    (``"graffiti:problem, gewalt:worry"``) and ``design``.
    """
    chosen = lang or questionnaire.meta.default_language
    batteries = {i.id: i for i in questionnaire.items() if isinstance(i, BatteryItem)}
    rows: list[dict[str, str]] = []
    for variable in questionnaire.variables():
        question = questionnaire.text(variable.label, chosen)
        battery = batteries.get(variable.item_id)
        if variable.kind == "statement" and battery is not None:
            question = f"{questionnaire.text(battery.label, chosen)} – {question}"
        codes, non_substantive = kind_of_variable(variable).codebook_codes(
            questionnaire, variable, chosen
        )
        rows.append(
            {
                "variable": variable.id,
                "item_id": variable.item_id,
                "question": question,
                "kind": variable.kind,
                "codes": codes,
                "non_substantive": non_substantive,
                "tags": ", ".join(f"{tag.field}:{tag.role.value}" for tag in variable.tags),
                "design": variable.design.value if variable.design is not None else "",
            }
        )
    return pd.DataFrame(rows, columns=list(CODEBOOK_COLUMNS), dtype="string")


#: The codebook columns a new revision is compared on (besides which variables exist).
_COMPARED_COLUMNS: tuple[str, ...] = ("question", "kind", "tags", "design")


@dataclass(frozen=True)
class VariableChange:
    """One difference of a variable kept by both revisions.

    ``aspect`` is a codebook column (``question``, ``kind``, ``tags``, ``design``) or
    ``code`` for one answer code; then ``code`` names it and ``before``/``after`` are its
    labels (empty: the code was added or removed).
    """

    variable: str
    aspect: str
    before: str
    after: str
    code: str = ""


@dataclass(frozen=True)
class CodebookDiff:
    """What a new revision changes in the codebook: the columns analysts and earlier
    responses depend on."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[VariableChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def codebook_diff(
    before: Questionnaire, after: Questionnaire, lang: str | None = None
) -> CodebookDiff:
    """The variables ``after`` adds and removes, and per kept variable every changed codebook
    column and every added, removed or relabelled answer code.

    Compared on the codebook itself, in every language of either revision, so the diff says
    exactly what an analyst's codebook or SPSS labels would show differently. Texts are shown
    in ``lang`` (default ``after``'s default language); a change only in another language is
    shown in that language, marked ``[en]``.
    """
    chosen = lang or after.meta.default_language
    languages = list(dict.fromkeys([chosen, *after.meta.languages, *before.meta.languages]))
    found: dict[tuple[str, str, str], VariableChange] = {}
    kept: list[str] = []
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    for language in languages:
        old = codebook(before, language).set_index("variable")
        new = codebook(after, language).set_index("variable")
        if language == chosen:
            added = tuple(v for v in new.index if v not in old.index)
            removed = tuple(v for v in old.index if v not in new.index)
            kept = [v for v in new.index if v in old.index]
        mark = "" if language == chosen else f" [{language}]"
        old_codes, new_codes = _codes_of(before, language), _codes_of(after, language)
        for variable in kept:
            was, now = old.loc[variable], new.loc[variable]
            for column in _COMPARED_COLUMNS:
                if was[column] != now[column]:
                    found.setdefault(
                        (variable, column, ""),
                        VariableChange(
                            variable, column, f"{was[column]}{mark}", f"{now[column]}{mark}"
                        ),
                    )
            codes_before, codes_after = old_codes[variable], new_codes[variable]
            for code in dict.fromkeys([*codes_before, *codes_after]):
                if codes_before.get(code) != codes_after.get(code):
                    found.setdefault(
                        (variable, "code", code),
                        VariableChange(
                            variable,
                            "code",
                            _marked(codes_before.get(code), mark),
                            _marked(codes_after.get(code), mark),
                            code,
                        ),
                    )
    order = {variable: i for i, variable in enumerate(kept)}
    changed = sorted(found.values(), key=lambda c: order[c.variable])  # stable: column order
    return CodebookDiff(added=added, removed=removed, changed=tuple(changed))


def _marked(label: str | None, mark: str) -> str:
    return "" if label is None else f"{label}{mark}"


def _codes_of(questionnaire: Questionnaire, lang: str) -> dict[str, dict[str, str]]:
    """Per variable: answer code -> label, substantive and non-substantive codes alike."""
    return {
        variable.id: {str(o.code): questionnaire.text(o.label, lang) for o in variable.options}
        for variable in questionnaire.variables()
    }
