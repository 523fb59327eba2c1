"""The analysis caches the manager pages share: inputs, analysis, re-ranking and the choice.

One home for them, so a page imports this module (and ``app`` and below), never another page.
The analysis is computed once per questionnaire, data version and choice of area, reference
and year (``st.cache_resource``); moving a weight slider only re-ranks the cached analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import AnalysisInputs, Workspace, reweighted
from core import InvalidInput, Problem
from scoring import DEFAULT_WEIGHTS, Analysis, PerceivedReference
from views._session import data_version, workspace

#: The "automatic" choice of an area or reference (the questionnaire's own, or the only one).
AUTO = ""
CHOICE_KEY = "manager.choice"


@st.cache_resource(show_spinner=False, max_entries=4)
def _inputs(key: str, questionnaire_id: str, version: str, _ws: Workspace) -> AnalysisInputs:
    return _ws.inputs(questionnaire_id)


def cached_inputs(questionnaire_id: str, ws: Workspace | None = None) -> AnalysisInputs:
    """The questionnaire, responses and datasets, read again only when they changed.

    ``ws``: the workspace a page bound for a deferred download (see
    :func:`views._session.data_version`); default: the session's."""
    ws = ws or workspace()
    return _inputs(ws.cache_key, questionnaire_id, data_version(questionnaire_id, ws), ws)


@st.cache_resource(show_spinner=False, max_entries=16)
def _analysis(
    key: str,
    questionnaire_id: str,
    version: str,
    area: str,
    reference: str,
    year: int | None,
    compared_with: PerceivedReference | None,
    _ws: Workspace,
) -> Analysis | list[Problem]:
    inputs = _inputs(key, questionnaire_id, version, _ws)
    try:
        return _ws.analyse(
            inputs,
            area=area or None,
            reference=reference or None,
            year=year,
            perceived_reference=compared_with,
        )
    except InvalidInput as error:
        return error.problems


@st.cache_resource(show_spinner=False, max_entries=64)
def _reranked(
    key: str,
    questionnaire_id: str,
    version: str,
    area: str,
    reference: str,
    year: int | None,
    perceived: float,
    registered: float,
    compared_with: PerceivedReference | None,
    _ws: Workspace,
) -> Analysis | list[Problem]:
    base = _analysis(key, questionnaire_id, version, area, reference, year, compared_with, _ws)
    if isinstance(base, list):
        return base
    try:
        return reweighted(base, {"perceived": perceived, "registered": registered})
    except InvalidInput as error:
        return error.problems


@dataclass(frozen=True)
class Choice:
    """What the manager chose on the priorities page; the exports use the same."""

    area: str = AUTO
    reference: str = AUTO
    year: int | None = None
    perceived: float = DEFAULT_WEIGHTS["perceived"]
    registered: float = DEFAULT_WEIGHTS["registered"]
    #: What the perceived shares are compared with (``None``: the 25 % benchmark).
    compared_with: PerceivedReference | None = None


def remembered_choice(questionnaire_id: str) -> Choice:
    """The last choice made for ``questionnaire_id`` in this session (defaults at first)."""
    remembered = st.session_state.get(CHOICE_KEY, {})
    choice = remembered.get(questionnaire_id)
    return choice if isinstance(choice, Choice) else Choice()


def remember_choice(questionnaire_id: str, choice: Choice) -> None:
    """Keep ``choice`` for ``questionnaire_id`` for the other pages of this session."""
    st.session_state.setdefault(CHOICE_KEY, {})[questionnaire_id] = choice


def cached_analysis(
    questionnaire_id: str, choice: Choice, ws: Workspace | None = None
) -> tuple[Analysis | list[Problem], Analysis | list[Problem]]:
    """The analysis under the default weights and under the chosen ones (both cached);
    ``ws`` as for :func:`cached_inputs`."""
    ws = ws or workspace()
    key = (
        ws.cache_key,
        questionnaire_id,
        data_version(questionnaire_id, ws),
        choice.area,
        choice.reference,
        choice.year,
    )
    return (
        _analysis(*key, choice.compared_with, ws),
        _reranked(*key, choice.perceived, choice.registered, choice.compared_with, ws),
    )
