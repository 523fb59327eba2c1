"""How a response reached the survey: its mode, a design variable of every response.

The mode is stored with each response (the ``mode`` column of the codebook layout, one of
the :data:`~survey.RESPONSE_META_COLUMNS`) so that mode effects can be analysed: the exports
carry it with value labels, the codebook lists it and the report counts responses by mode.
One home for the codes and their labels, so storage, exports and report agree.
"""

from __future__ import annotations

from core import t

#: The column of the codebook layout that holds the mode.
MODE_COLUMN = "mode"
#: Every mode in the order exports and tables list them: ``web`` (answered online),
#: ``paper`` (paper questionnaires imported as a codebook-layout table), ``keyed`` (a paper
#: form keyed in on the "Papier erfassen" page) and ``scanned`` (a paper form read by the
#: scanner). Each code fits SPSS's short strings (at most 8 bytes).
MODES: tuple[str, ...] = ("web", "paper", "keyed", "scanned")
#: The modes of an answer given on paper.
PAPER_MODES: tuple[str, ...] = ("paper", "keyed", "scanned")


def mode_label(mode: str, lang: str | None = None) -> str:
    """The label of a mode in ``lang`` ("online", "Papier (erfasst)" …); an unknown mode
    (a value from outside) is shown as it is."""
    return t(f"survey.mode.{mode}", lang) if mode in MODES else mode


def mode_labels(lang: str | None = None) -> dict[str, str]:
    """Every mode code with its label, in :data:`MODES` order (the SPSS value labels)."""
    return {mode: mode_label(mode, lang) for mode in MODES}
