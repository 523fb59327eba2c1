"""The codebook: one row per stored variable, as analysts and SPSS users read it."""

from __future__ import annotations

import pandas as pd

from core import t
from survey._model import BatteryItem, Option, Questionnaire, Variable

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
_SEPARATOR = " | "


def _value_labels(questionnaire: Questionnaire, options: list[Option], lang: str) -> str:
    return _SEPARATOR.join(f"{o.code}={questionnaire.text(o.label, lang)}" for o in options)


def _codes(questionnaire: Questionnaire, variable: Variable, lang: str) -> tuple[str, str]:
    """Value labels of the substantive and of the non-substantive codes."""
    if variable.kind == "multi_option":
        selected = t("questionnaire.codebook.selected", lang)
        not_selected = t("questionnaire.codebook.not_selected", lang)
        return f"0={not_selected}{_SEPARATOR}1={selected}", ""
    if variable.kind == "yesno":
        yes, no = t("questionnaire.codebook.yes", lang), t("questionnaire.codebook.no", lang)
        return f"1={yes}{_SEPARATOR}0={no}", ""
    substantive = [o for o in variable.options if not o.non_substantive]
    other = [o for o in variable.options if o.non_substantive]
    return (
        _value_labels(questionnaire, substantive, lang),
        _value_labels(questionnaire, other, lang),
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
        codes, non_substantive = _codes(questionnaire, variable, chosen)
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
