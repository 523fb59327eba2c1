"""The printed question numbers: the one numbering shared by the web form, the paper
questionnaire and the data entry of returned paper forms.

What gets a number: every item a resident answers, in questionnaire order over all pages
(sections), counting from 1. Info items (instructions, data-protection notes, explanations)
get none: nobody answers them and a keyer never types anything for them. Questions that
skip logic (``show_if``) may hide still get their number, so a number never changes while a
respondent answers and is the same on paper, where every question is printed. A battery
(matrix question) is one question with one number; its statements share that number (the
data entry shows them as ``5a``, ``5b`` …). A multi-choice question is one number too.
"""

from __future__ import annotations

from survey._model import BatteryItem, InfoItem, Questionnaire


def question_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    """The printed number of every answered question, by answer id.

    Parameters
    ----------
    questionnaire
        A loaded questionnaire.

    Returns
    -------
    dict[str, int]
        Item id → number (1, 2, … in questionnaire order, info items left out), and for a
        battery each statement id → its battery's number as well. Insertion order is the
        questionnaire's order.

    Examples
    --------
    Items ``consent`` (info), ``district`` (single), ``problems`` (battery with statements
    ``p_graffiti`` and ``p_litter``) and ``age`` (number) are numbered
    ``{"district": 1, "problems": 2, "p_graffiti": 2, "p_litter": 2, "age": 3}``.
    """
    numbers: dict[str, int] = {}
    answered = (item for item in questionnaire.items() if not isinstance(item, InfoItem))
    for number, item in enumerate(answered, start=1):
        numbers[item.id] = number
        if isinstance(item, BatteryItem):
            numbers.update((statement.id, number) for statement in item.statements)
    return numbers
