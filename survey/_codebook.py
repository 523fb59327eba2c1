"""The codebook: one row per stored variable, as analysts and SPSS users read it."""

from __future__ import annotations

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
