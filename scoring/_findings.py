r"""Survey findings: everything the questionnaire asks, as published shares with intervals.

Pure functions over the codebook-layout responses, the :class:`survey.Questionnaire` and
optional raking weights (:func:`scoring.trim_and_rake`). What each returns:

* :func:`survey_findings` → :class:`SurveyFindings`, the whole survey side of the
  Sicherheitsanalyse in one call:

  - ``shares``: one long table (:data:`SHARE_COLUMNS`) of every share, overall and by district,
    sex and age group, for the topics of :class:`Topic` (feeling unsafe by day / at night and
    at places, worry per field, victimisation prevalence per field, reporting rate per field,
    dissatisfaction and low trust per institution/field, avoidance, measures wished for);
  - ``dark_figure``: per field the unreported share among victims and the ratio of victims in
    the population to registered cases (:data:`DARK_FIGURE_COLUMNS`, :func:`dark_figure`);
  - ``places``: avoided places named at least :data:`core.MIN_CELL_SIZE` times, ranked
    (:data:`PLACE_COLUMNS`, :func:`avoided_places`);
  - ``free_text``: free-text answers, HTML-escaped (:data:`FREE_TEXT_COLUMNS`,
    :func:`free_texts`), and which questions were withheld for having fewer than 5 answers;
  - ``n_responses``, ``n_eff`` (Kish), ``weighted`` and ``analysable`` (whether the survey can
    carry any statement at all, :data:`MIN_EFFECTIVE_N`).

* :func:`ranked` → the rows of one topic and category ordered by share (measures wished for).
* :func:`raking_weights` → the weights :func:`scoring.analyse` uses, or ``None``.

The privacy rule: a cell of 1 to 4 respondents is suppressed (:func:`core.is_small`); where a
total and its parts are published (the town and its districts, sexes, age groups) further
parts are hidden by :func:`core.complementary_suppression`, with the respondents of unknown
category counted as a part that is never shown, so no hidden part can be recovered by
subtraction. Suppressed shares are ``NaN`` with ``status = "suppressed"``; a cell where
everybody answered "weiß nicht" has ``status = "no_substantive"`` and no share, never 0 %.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from core import MIN_CELL_SIZE, complementary_suppression, escape_free_text, is_small
from scoring._analysis import _split_population, match_district_areas
from scoring._intervals import wilson_interval
from scoring._rates import garwood_interval
from scoring._survey import (
    _class_lookup,
    code_positions,
    night_variable,
)
from scoring._weights import kish_effective_n, population_margins, trim_and_rake
from survey import Design, Questionnaire, Role, Variable

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Below this effective sample size (Kish) no survey share is precise enough to state: the
#: 95 % Wilson interval of a share near 50 % is then wider than 40 percentage points.
MIN_EFFECTIVE_N = 20
#: A published share whose 95 % interval is wider than this is flagged ``imprecise``.
MAX_INTERVAL_WIDTH = 0.40
#: Below this many victims in a field, the dark-figure estimate is not computed.
MIN_VICTIMS_FOR_DARK_FIGURE = 10

#: Variable ids of the feeling of safety by day, in order of preference (the night ones are
#: :data:`scoring._survey.NIGHT_VARIABLE_IDS`).
DAY_VARIABLE_IDS: tuple[str, ...] = ("safe_day", "safety_day", "unsafe_day")
#: Variables that ask about trust in an institution: ids starting with this prefix.
TRUST_PREFIX = "trust"
#: Yes/no variables asking whether the respondent avoids places or streets out of fear.
AVOIDANCE_VARIABLE_IDS: tuple[str, ...] = ("avoid_places", "avoid_evening")
#: The free-text variable naming the avoided places (Angsträume).
PLACES_VARIABLE_IDS: tuple[str, ...] = ("avoid_places_where",)


class Topic(StrEnum):
    """What a row of :attr:`SurveyFindings.shares` measures (always a share in the top
    categories, so that higher means more need for action)."""

    #: Feeling rather or very unsafe alone by day (``item``: the general item or a place).
    UNSAFE_DAY = "unsafe_day"
    #: Feeling rather or very unsafe alone at night.
    UNSAFE_NIGHT = "unsafe_night"
    #: Quite or very worried about at least one offence of the field (Kriminalitätsfurcht).
    WORRY = "worry"
    #: Victim of at least one offence of the field in the last 12 months (prevalence).
    VICTIMISATION = "victimisation"
    #: Among the field's victims: reported (at least one) victimisation to the police.
    REPORTED = "reported"
    #: Rather or very dissatisfied with what the town does (per statement).
    DISSATISFIED = "dissatisfied"
    #: Little or no trust in an institution.
    LOW_TRUST = "low_trust"
    #: Avoids places or streets out of fear of crime.
    AVOIDANCE = "avoidance"
    #: Wishes for the measure (per option of the measures question).
    MEASURE = "measure"


class FindingStatus(StrEnum):
    """Whether a cell's share can be published and read."""

    OK = "ok"
    #: Published, but its 95 % interval is wider than :data:`MAX_INTERVAL_WIDTH`.
    IMPRECISE = "imprecise"
    #: 1 to 4 respondents, or hidden so that such a cell cannot be recovered.
    SUPPRESSED = "suppressed"
    #: Answers were given, but all non-substantive ("weiß nicht"): no share exists.
    NO_SUBSTANTIVE = "no_substantive"
    #: Nobody in the cell answered the question.
    NO_ANSWERS = "no_answers"


#: Groupings of :attr:`SurveyFindings.shares`: ``all`` (the whole survey) and the design
#: variables.
GROUPS: tuple[str, ...] = ("all", str(Design.DISTRICT), str(Design.SEX), str(Design.AGE_GROUP))

SHARE_COLUMNS: tuple[str, ...] = (
    "topic",  # Topic
    "field",  # action field id, or None (feeling of safety, trust, untagged measures)
    "item",  # variable id; None for a field-level indicator over several items
    "group",  # one of GROUPS
    "category",  # the design variable's code as text; None for group "all"
    "share",  # weighted share in the top categories (NaN unless published)
    "ci_low",  # 95 % Wilson interval on n_eff
    "ci_high",
    "n_respondents",  # respondents with a substantive answer (NA when 1–4)
    "n_answered",  # respondents with any answer, "weiß nicht" included (NA when 1–4)
    "n_eff",  # Kish's effective sample size of the cell
    "suppressed",  # hidden by the privacy rule
    "status",  # FindingStatus
)

DARK_FIGURE_COLUMNS: tuple[str, ...] = (
    "field",
    "victims_share",  # prevalence p (town, weighted)
    "victims_ci_low",
    "victims_ci_high",
    "reporting_rate",  # r: victims who reported
    "reporting_ci_low",
    "reporting_ci_high",
    "unreported_share",  # 1 − r
    "unreported_ci_low",
    "unreported_ci_high",
    "population",  # N: residents of the area (police population)
    "cases",  # C: registered cases of the field (PKS, Hellfeld)
    "estimated_victims",  # p · N
    "ratio",  # p · N / C: victims in the population per registered case
    "ratio_ci_low",
    "ratio_ci_high",
    "status",  # "ok", "no_police_data", "no_cases", "too_few_victims", "no_survey_item"
    "caveats",  # tuple of caveat keys (DARK_FIGURE_CAVEATS)
)

#: Caveats of every dark-figure ratio, plus the data-dependent ``few_reporters``.
DARK_FIGURE_CAVEATS: tuple[str, ...] = (
    "persons_not_offences",  # prevalence counts victims, the PKS counts offences
    "population_scope",  # the survey covers residents 16+, the PKS every offence in the area
    "period",  # "last 12 months" vs the PKS calendar year
    "crime_scene",  # PKS: place of the offence (Tatortprinzip); survey: place of residence
    "offence_match",  # the survey item and the PKS keys of the field do not match exactly
)

PLACE_COLUMNS: tuple[str, ...] = ("rank", "place", "mentions", "share")
FREE_TEXT_COLUMNS: tuple[str, ...] = ("item", "text")


@dataclass(frozen=True)
class SurveyFindings:
    """Every survey finding of one questionnaire (see the module docstring)."""

    shares: pd.DataFrame
    dark_figure: pd.DataFrame
    places: pd.DataFrame
    #: Distinct places named by fewer than :data:`core.MIN_CELL_SIZE` respondents (not ranked).
    places_rare: int
    free_text: pd.DataFrame
    #: Free-text variables with 1 to 4 answers: withheld, since so few are traceable.
    free_text_withheld: tuple[str, ...]
    n_responses: int
    n_eff: float
    weighted: bool
    #: Whether the survey as a whole can carry a statement (``n_eff >= MIN_EFFECTIVE_N``).
    analysable: bool
    #: Category codes (as text) of each design variable, in questionnaire order.
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Indicator:
    """A per-respondent 0/1 indicator: ``y`` is 1, 0 or NaN (no substantive answer);
    ``answered`` is True where any answer was given (non-substantive included)."""

    topic: Topic
    field: str | None
    item: str | None
    y: FloatArray
    answered: BoolArray


# --- per-respondent indicators ------------------------------------------------------------------


def _classes(responses: pd.DataFrame, variable: Variable) -> IntArray:
    """Per respondent: -1 no answer, 0 non-substantive, 1 substantive, 2 top."""
    codes, classes = _class_lookup(variable)
    # _class_lookup: 0 not counted (non-substantive), 1 substantive, 2 top; -1 for no code.
    position = code_positions(responses[variable.id], codes)
    out = np.where(position >= 0, classes[np.maximum(position, 0)], -1)
    return np.asarray(out, dtype=np.int64)


def _item_indicator(
    responses: pd.DataFrame, variable: Variable, topic: Topic, field_id: str | None
) -> _Indicator:
    classes = _classes(responses, variable)
    y = np.where(classes == 2, 1.0, np.where(classes == 1, 0.0, np.nan))
    return _Indicator(topic, field_id, variable.id, y, classes >= 0)


def _any_indicator(
    responses: pd.DataFrame, variables: Sequence[Variable], topic: Topic, field_id: str
) -> _Indicator:
    """1 if any item is in its top categories, 0 if some item has a substantive answer and
    none is top, NaN otherwise."""
    classes = np.vstack([_classes(responses, v) for v in variables])
    top = (classes == 2).any(axis=0)
    substantive = (classes >= 1).any(axis=0)
    y = np.where(top, 1.0, np.where(substantive, 0.0, np.nan))
    item = variables[0].id if len(variables) == 1 else None
    answered = np.asarray((classes >= 0).any(axis=0), dtype=bool)
    return _Indicator(topic, field_id, item, y, answered)


def _multi_indicator(
    responses: pd.DataFrame, variable: Variable, siblings: Sequence[str]
) -> _Indicator:
    """Chose the option (1) or not (0), among respondents who answered the multi item."""
    chosen = responses[variable.id].to_numpy(dtype=np.float64, na_value=np.nan)
    answered = np.zeros(len(responses), dtype=bool)
    for sibling in siblings:
        answered |= responses[sibling].notna().to_numpy(dtype=bool)
    y = np.where(answered, np.where(chosen == 1.0, 1.0, 0.0), np.nan)
    field_id = next((tag.field for tag in variable.tags if tag.role == Role.MEASURE_WISH), None)
    return _Indicator(Topic.MEASURE, field_id, variable.id, y, answered)


def _field_of(variable: Variable) -> str | None:
    return variable.tags[0].field if variable.tags else None


def _indicators(questionnaire: Questionnaire, responses: pd.DataFrame) -> list[_Indicator]:
    """Every indicator the questionnaire's items and tags define (see :class:`Topic`)."""
    variables = [v for v in questionnaire.variables() if v.id in responses.columns]
    by_id = {v.id: v for v in variables}
    out: list[_Indicator] = []
    night = night_variable(questionnaire)
    day = next((by_id[i] for i in DAY_VARIABLE_IDS if i in by_id), None)
    for topic, general in ((Topic.UNSAFE_DAY, day), (Topic.UNSAFE_NIGHT, night)):
        if general is None or general.id not in by_id:
            continue
        # The general item first, then every place asked on the same scale.
        same_scale = [v for v in variables if v.scale == general.scale and v.id != general.id]
        for variable in (general, *same_scale):
            out.append(_item_indicator(responses, variable, topic, None))
    fields: dict[str, None] = {}
    for variable in variables:
        for tag in variable.tags:
            fields.setdefault(tag.field, None)
    for topic, role in (
        (Topic.WORRY, Role.WORRY),
        (Topic.VICTIMISATION, Role.VICTIMISATION),
        (Topic.REPORTED, Role.REPORTED),
    ):
        for field_id in fields:
            tagged = [
                v
                for v in variables
                if any(t.field == field_id and t.role == role for t in v.tags)
                and (v.scale is not None or v.kind == "yesno")
            ]
            if tagged:
                out.append(_any_indicator(responses, tagged, topic, field_id))
    # From the whole questionnaire: an untagged statement ("für die Sicherheit insgesamt")
    # belongs to the satisfaction battery even when no tagged statement was answered.
    satisfaction_items = {
        v.item_id
        for v in questionnaire.variables()
        if any(t.role == Role.SATISFACTION for t in v.tags)
    }
    for variable in variables:
        if variable.scale is None:
            continue
        if variable.item_id in satisfaction_items:
            out.append(
                _item_indicator(responses, variable, Topic.DISSATISFIED, _field_of(variable))
            )
        elif variable.id.startswith(TRUST_PREFIX):
            out.append(_item_indicator(responses, variable, Topic.LOW_TRUST, _field_of(variable)))
    for variable_id in AVOIDANCE_VARIABLE_IDS:
        if variable_id in by_id and by_id[variable_id].kind == "yesno":
            out.append(_item_indicator(responses, by_id[variable_id], Topic.AVOIDANCE, None))
    wished_items = {
        v.item_id
        for v in variables
        if v.kind == "multi_option" and any(t.role == Role.MEASURE_WISH for t in v.tags)
    }
    for item_id in wished_items:
        options = [v for v in variables if v.item_id == item_id and v.kind == "multi_option"]
        siblings = [v.id for v in options]
        out.extend(_multi_indicator(responses, v, siblings) for v in options)
    return out


# --- aggregation ------------------------------------------------------------------------------


def _design(questionnaire: Questionnaire, design: Design) -> Variable | None:
    return next(
        (v for v in questionnaire.variables() if v.design == design and v.kind == "single"),
        None,
    )


def _partition(
    questionnaire: Questionnaire, responses: pd.DataFrame, design: Design
) -> tuple[IntArray, tuple[str, ...]] | None:
    """Category position per respondent (``len(categories)``: unknown) and the categories."""
    variable = _design(questionnaire, design)
    if variable is None or variable.scale is None or variable.id not in responses.columns:
        return None
    codes = variable.scale.substantive_codes()
    position = code_positions(responses[variable.id], codes)
    return np.where(position >= 0, position, len(codes)), tuple(str(c) for c in codes)


@dataclass(frozen=True)
class _Cells:
    share: FloatArray
    n: FloatArray  # substantive respondents
    answered: FloatArray
    positives: FloatArray  # unweighted top answers
    n_eff: FloatArray


#: The sums behind a cell, in the order of :func:`_sums`' stacked rows.
_SUMS = ("total", "top", "squares", "n", "answered", "positives")


def _sums(indicator: _Indicator, weights: FloatArray, joint: IntArray, size: int) -> FloatArray:
    """Per joint design cell (district × sex × age group, unknowns included) the weight total,
    weighted top count, squared weights, respondents, answering respondents and unweighted top
    count: one ``np.bincount`` pass each, so every grouping is a sum over this small table."""
    valid = np.isfinite(indicator.y)
    y = np.where(valid, indicator.y, 0.0)
    w = np.where(valid, weights, 0.0)
    columns = (w, w * y, w * w, valid.astype(np.float64), indicator.answered, y)
    return np.vstack(
        [np.bincount(joint, weights=c, minlength=size).astype(np.float64) for c in columns]
    )


def _cells(sums: FloatArray) -> _Cells:
    """Shares and effective sizes from summed cells (rows in :data:`_SUMS` order)."""
    total, top, squares, n, answered, positives = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, top / total, np.nan)
        n_eff = np.where(squares > 0, total**2 / squares, 0.0)
    return _Cells(share=share, n=n, answered=answered, positives=positives, n_eff=n_eff)


def _status(
    cells: _Cells, hidden: BoolArray, low: FloatArray, high: FloatArray, minimum: int
) -> list[str]:
    out: list[str] = []
    for i in range(len(cells.n)):
        if cells.answered[i] == 0:
            out.append(str(FindingStatus.NO_ANSWERS))
        elif hidden[i] or 0 < cells.answered[i] < minimum:
            # Also "3 people all said weiß nicht" is a cell of 3.
            out.append(str(FindingStatus.SUPPRESSED))
        elif cells.n[i] == 0:
            out.append(str(FindingStatus.NO_SUBSTANTIVE))
        elif high[i] - low[i] > MAX_INTERVAL_WIDTH:
            out.append(str(FindingStatus.IMPRECISE))
        else:
            out.append(str(FindingStatus.OK))
    return out


def _rows(
    indicator: _Indicator,
    cells: _Cells,
    hidden: BoolArray,
    group: str,
    categories: Sequence[str | None],
    alpha: float,
    minimum: int,
    small: BoolArray,
) -> list[dict[str, object]]:
    """The published rows of one grouping; ``small``: :func:`core.is_small` of ``cells.n``
    then of ``cells.answered``."""
    low, high = wilson_interval(cells.share * cells.n_eff, cells.n_eff, alpha=alpha)
    status = _status(cells, hidden, low, high, minimum)
    small_n, small_answered = np.split(small, 2)
    rows: list[dict[str, object]] = []
    for i, category in enumerate(categories):
        shown = status[i] in (FindingStatus.OK, FindingStatus.IMPRECISE)
        rows.append(
            {
                "topic": str(indicator.topic),
                "field": indicator.field,
                "item": indicator.item,
                "group": group,
                "category": category,
                "share": float(cells.share[i]) if shown else np.nan,
                "ci_low": float(low[i]) if shown else np.nan,
                "ci_high": float(high[i]) if shown else np.nan,
                "n_respondents": pd.NA if small_n[i] else int(cells.n[i]),
                "n_answered": pd.NA if small_answered[i] else int(cells.answered[i]),
                "n_eff": float(cells.n_eff[i]) if shown else np.nan,
                "suppressed": bool(hidden[i]),
                "status": status[i],
            }
        )
    return rows


def finding_shares(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    weights: ArrayLike | None = None,
    alpha: float = 0.05,
    minimum: int = MIN_CELL_SIZE,
) -> pd.DataFrame:
    r"""Every share of :class:`Topic`, overall and by district, sex and age group.

    For an indicator :math:`y_i \in \{0, 1\}` (1: top category, e.g. "eher / sehr unsicher"),
    defined for the respondents :math:`V` with a substantive answer ("weiß nicht" and missing
    answers excluded), the weighted share of a cell :math:`c` is

    .. math:: \hat p_c = \frac{\sum_{i \in V_c} w_i y_i}{\sum_{i \in V_c} w_i}

    with the Wilson interval on Kish's effective size
    :math:`n_{\mathrm{eff},c} = (\sum_{V_c} w_i)^2 / \sum_{V_c} w_i^2`. Field-level indicators
    over several items (worry, victimisation, reporting) are 1 when *any* item of the field is
    top, 0 when some item has a substantive answer and none is top.

    Privacy: cells of 1 to ``minimum`` − 1 respondents are suppressed; within each grouping
    :func:`core.complementary_suppression` hides further categories (the respondents of
    unknown category count as a never-published part), and where the parts cannot protect one
    another every category of that grouping is hidden (the whole-survey row stays).

    Returns a long table with :data:`SHARE_COLUMNS`, one row per indicator × (``all`` and
    each category of each design variable).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209–212. https://doi.org/10.1080/01621459.1927.10502953
    Kish, L. (1965). *Survey Sampling*, Wiley, 11.7 (effective sample size).
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*, Wiley, ch. 4.2.
    https://doi.org/10.1002/9781118348239
    """
    n = len(responses)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    partitions = {
        str(d): partition
        for d in (Design.DISTRICT, Design.SEX, Design.AGE_GROUP)
        if (partition := _partition(questionnaire, responses, d)) is not None
    }
    # One joint cell per combination of categories (the last slot of each: unknown).
    shape = tuple(len(categories) + 1 for _, categories in partitions.values())
    joint = np.zeros(n, dtype=np.int64)
    for part, categories in partitions.values():
        joint = joint * (len(categories) + 1) + part
    size = int(np.prod(shape)) if shape else 1
    rows: list[dict[str, object]] = []
    for indicator in _indicators(questionnaire, responses):
        table = _sums(indicator, w, joint, size).reshape(len(_SUMS), *shape)
        whole = _cells(table.reshape(len(_SUMS), -1).sum(axis=1, keepdims=True))
        groupings: list[tuple[str, Sequence[str | None], _Cells, BoolArray]] = []
        groupings.append(("all", [None], whole, whole.n < 0))  # hidden below if small
        for axis, (group, (_, codes)) in enumerate(partitions.items()):
            others = tuple(1 + a for a in range(len(shape)) if a != axis)
            cells = _cells(table.sum(axis=others))
            # The unknown-category respondents are the last part: never shown, but counted so
            # that subtracting the shown parts from the town total reveals no one.
            hidden, total_hidden = complementary_suppression(cells.n, cells.positives, minimum)
            if total_hidden:
                hidden = np.ones_like(hidden)
            shown = _Cells(*(np.asarray(a)[:-1] for a in vars(cells).values()))
            groupings.append((group, codes, shown, hidden[:-1]))
        # The privacy rule (core.is_small) once for every count of this indicator.
        counts = np.concatenate([np.concatenate([c.n, c.answered]) for _, _, c, _ in groupings])
        small = is_small(pd.Series(counts), minimum).to_numpy(dtype=bool)
        start = 0
        for group, labels, cells, hidden in groupings:
            flags = small[start : start + 2 * len(cells.n)]
            start += 2 * len(cells.n)
            if group == "all":
                hidden = flags[: len(cells.n)]
            rows += _rows(indicator, cells, hidden, group, labels, alpha, minimum, flags)
    frame = pd.DataFrame(rows, columns=list(SHARE_COLUMNS))
    for column in ("n_respondents", "n_answered"):
        frame[column] = frame[column].astype("Int64")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    return frame


def ranked(
    shares: pd.DataFrame, topic: Topic | str, group: str = "all", category: str | None = None
) -> pd.DataFrame:
    """The rows of ``topic`` for one category (``all`` by default), highest share first,
    unpublished shares last; adds ``rank`` (1 = most often named; ties share the lower rank)."""
    rows = shares[(shares["topic"] == str(topic)) & (shares["group"] == group)]
    rows = rows[rows["category"].isna()] if category is None else rows[rows["category"] == category]
    rows = rows.sort_values("share", ascending=False, na_position="last", kind="stable").copy()
    rows["rank"] = rows["share"].rank(ascending=False, method="min").astype("Int64")
    return rows.reset_index(drop=True)


# --- dark figure ------------------------------------------------------------------------------


def dark_figure(
    shares: pd.DataFrame,
    police: pd.DataFrame | None,
    *,
    alpha: float = 0.05,
    min_victims: int = MIN_VICTIMS_FOR_DARK_FIGURE,
) -> pd.DataFrame:
    r"""Unreported share and Hellfeld/Dunkelfeld ratio per field (whole survey).

    * Unreported share among victims: :math:`1 - \hat r`, where :math:`\hat r` is the weighted
      reporting rate (topic ``reported``) with its Wilson interval mirrored.
    * Victims in the population per registered case:

      .. math:: \hat D = \frac{\hat p\, N}{C}, \qquad
                \Bigl[\frac{p_L N}{C_U},\ \frac{p_U N}{C_L}\Bigr]

      with the prevalence :math:`\hat p` (topic ``victimisation``) and its Wilson limits, the
      area's population :math:`N` and registered cases :math:`C` with Garwood's exact Poisson
      limits. Combining the extreme limits of two 95 % intervals is conservative (coverage
      at least 90 %, in practice about 95 % or more). :math:`\hat D = 3` means: for each case
      the police registered, about three residents say they were victims.

    ``police`` has columns ``field``, ``cases``, ``population`` (the municipality in the
    incident year); ``None`` gives ``status = "no_police_data"``. Fields with fewer than
    ``min_victims`` victims (or a suppressed prevalence) get ``too_few_victims`` and no ratio;
    0 registered cases give ``no_cases``. Every row lists :data:`DARK_FIGURE_CAVEATS`; the
    ratio counts persons against offences, so it is a rough order of magnitude, not a count.

    Returns one row per field with a victimisation item (:data:`DARK_FIGURE_COLUMNS`).

    References
    ----------
    Skogan, W. G. (1977). Dimensions of the dark figure of unreported crime. Crime &
    Delinquency 23, 41–50. https://doi.org/10.1177/001112877702300104
    Birkel, C. et al. (2019). Der Deutsche Viktimisierungssurvey 2017. BKA, Wiesbaden
    (Anzeigequoten und Dunkelfeld).
    Garwood, F. (1936). Biometrika 28, 437–442. https://doi.org/10.1093/biomet/28.3-4.437
    """
    whole = shares[(shares["group"] == "all") & shares["field"].notna()]
    victims = whole[whole["topic"] == str(Topic.VICTIMISATION)]
    reported = {
        str(r["field"]): r for r in whole[whole["topic"] == str(Topic.REPORTED)].to_dict("records")
    }
    counts: dict[str, tuple[float, float]] = {}
    if police is not None:
        for record in police.to_dict("records"):
            counts.setdefault(
                str(record["field"]), (_number(record["cases"]), _number(record["population"]))
            )
    rows: list[dict[str, object]] = []
    for row in victims.to_dict("records"):
        field_id = str(row["field"])
        p, p_low, p_high = _number(row["share"]), _number(row["ci_low"]), _number(row["ci_high"])
        r = reported.get(field_id, {})
        rate = _number(r.get("share"))
        rate_low, rate_high = _number(r.get("ci_low")), _number(r.get("ci_high"))
        # Victims in the sample: the weighted share of the respondents (not an exact count).
        n_victims = p * _number(row["n_respondents"])
        cases, population = counts.get(field_id, (np.nan, np.nan))
        status = "ok"
        ratio = ratio_low = ratio_high = estimated = np.nan
        if not np.isfinite(n_victims) or n_victims < min_victims:
            status = "too_few_victims"
        elif not (np.isfinite(cases) and np.isfinite(population)):
            status = "no_police_data"
        elif cases <= 0:
            status = "no_cases"
        else:
            c_low, c_high = (float(v[0]) for v in garwood_interval(np.array([cases]), alpha))
            estimated = p * population
            ratio = estimated / cases
            ratio_low = p_low * population / c_high
            ratio_high = p_high * population / c_low if c_low > 0 else np.inf
        rows.append(
            {
                "field": field_id,
                "victims_share": p,
                "victims_ci_low": p_low,
                "victims_ci_high": p_high,
                "reporting_rate": rate,
                "reporting_ci_low": rate_low,
                "reporting_ci_high": rate_high,
                "unreported_share": 1.0 - rate,
                "unreported_ci_low": 1.0 - rate_high,
                "unreported_ci_high": 1.0 - rate_low,
                "population": population,
                "cases": cases,
                "estimated_victims": estimated,
                "ratio": ratio,
                "ratio_ci_low": ratio_low,
                "ratio_ci_high": ratio_high,
                "status": status,
                "caveats": DARK_FIGURE_CAVEATS,
            }
        )
    return pd.DataFrame(rows, columns=list(DARK_FIGURE_COLUMNS))


def _number(value: object) -> float:
    """A finite float, or NaN for a missing value (None, NA, NaN, absent)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
    return number if np.isfinite(number) else np.nan


# --- places and free text ---------------------------------------------------------------------


_SPACES = re.compile(r"\s+")


def _place_key(text: str) -> str:
    """A place as comparable text: trimmed, single spaces, case-folded, no end punctuation."""
    return _SPACES.sub(" ", text).strip().strip(".,;:!?").casefold()


def avoided_places(
    questionnaire: Questionnaire, responses: pd.DataFrame, *, minimum: int = MIN_CELL_SIZE
) -> tuple[pd.DataFrame, int]:
    """Places respondents avoid out of fear (Angsträume), ranked by how many named them.

    Each answer of :data:`PLACES_VARIABLE_IDS` is split at commas, semicolons and line breaks
    into places, compared case- and space-insensitively, and counted once per respondent. Only
    places named by at least ``minimum`` respondents are ranked (``share``: of the respondents
    who named any place, unweighted); the rest are only counted (the second value). Place
    names are HTML-escaped as typed by the first respondent who named them.
    """
    variable = next((v for v in questionnaire.variables() if v.id in PLACES_VARIABLE_IDS), None)
    if variable is None or variable.id not in responses.columns:
        return pd.DataFrame(columns=list(PLACE_COLUMNS)), 0
    mentions: dict[str, int] = {}
    shown: dict[str, str] = {}
    answering = 0
    for answer in responses[variable.id].dropna():
        parts = {
            _place_key(p): p.strip() for p in re.split(r"[,;\n]", str(answer)) if _place_key(p)
        }
        answering += bool(parts)
        for key, text in parts.items():
            mentions[key] = mentions.get(key, 0) + 1
            shown.setdefault(key, text)
    frequent = sorted(
        ((k, c) for k, c in mentions.items() if c >= minimum), key=lambda kc: (-kc[1], kc[0])
    )
    frame = pd.DataFrame(
        {
            "place": [escape_free_text(shown[k]) for k, _ in frequent],
            "mentions": [c for _, c in frequent],
            "share": [c / answering for _, c in frequent],
        }
    )
    frame.insert(0, "rank", frame["mentions"].rank(ascending=False, method="min").astype("Int64"))
    return frame.reset_index(drop=True), sum(1 for c in mentions.values() if c < minimum)


def free_texts(
    questionnaire: Questionnaire, responses: pd.DataFrame, *, minimum: int = MIN_CELL_SIZE
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Every non-empty free-text answer, HTML-escaped (:func:`core.escape_free_text`).

    Returns the answers (:data:`FREE_TEXT_COLUMNS`, in questionnaire order) and the ids of
    text questions withheld because 1 to ``minimum`` − 1 respondents answered them.
    """
    rows: list[dict[str, str]] = []
    withheld: list[str] = []
    for variable in questionnaire.variables():
        if variable.kind != "text" or variable.id not in responses.columns:
            continue
        answers = [a for a in responses[variable.id].dropna() if str(a).strip()]
        if is_small(pd.Series([len(answers)]), minimum).iloc[0]:
            withheld.append(variable.id)
            continue
        rows += [{"item": variable.id, "text": escape_free_text(str(a).strip())} for a in answers]
    return pd.DataFrame(rows, columns=list(FREE_TEXT_COLUMNS)), tuple(withheld)


# --- the whole survey ---------------------------------------------------------------------------


def raking_weights(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    area: str | None,
    year: int | None,
    population: pd.DataFrame | None,
    margins_table: pd.DataFrame | None,
) -> FloatArray | None:
    """The trimmed raking weights :func:`scoring.analyse` uses for ``area`` (the margins of
    :func:`scoring.population_margins`), or ``None`` when there are no usable margins."""
    if area is None or not len(responses):
        return None
    totals, detail = _split_population(population, margins_table)
    district = _design(questionnaire, Design.DISTRICT)
    codes = (
        [str(c) for c in district.scale.substantive_codes()]
        if district is not None and district.scale is not None
        else []
    )
    known = set(totals["area"].astype(str)) if totals is not None else set()
    margins = population_margins(
        area=area,
        year=year,
        margins_table=detail,
        totals_table=totals,
        sex=_design(questionnaire, Design.SEX),
        age_group=_design(questionnaire, Design.AGE_GROUP),
        district=district,
        district_areas=match_district_areas(area, codes, known),
    )
    usable = [m for m in margins if all(c in responses.columns for c in m.columns)]
    return trim_and_rake(responses, usable).weights if usable else None


def survey_findings(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    weights: ArrayLike | None = None,
    police: pd.DataFrame | None = None,
    alpha: float = 0.05,
    minimum: int = MIN_CELL_SIZE,
) -> SurveyFindings:
    """All survey findings of ``responses`` (see the module docstring and :class:`SurveyFindings`).

    ``weights``: raking weights (e.g. :func:`raking_weights`), ``None`` for an unweighted
    survey. ``police``: registered cases and population per field of the municipality for
    :func:`dark_figure`.
    """
    shares = finding_shares(questionnaire, responses, weights=weights, alpha=alpha, minimum=minimum)
    places, rare = avoided_places(questionnaire, responses, minimum=minimum)
    texts, withheld = free_texts(questionnaire, responses, minimum=minimum)
    w = np.ones(len(responses)) if weights is None else np.asarray(weights, dtype=np.float64)
    n_eff = kish_effective_n(w) if len(responses) else 0.0
    categories = {
        str(d): partition[1]
        for d in (Design.DISTRICT, Design.SEX, Design.AGE_GROUP)
        if (partition := _partition(questionnaire, responses, d)) is not None
    }
    return SurveyFindings(
        shares=shares,
        dark_figure=dark_figure(shares, police, alpha=alpha),
        places=places,
        places_rare=rare,
        free_text=texts,
        free_text_withheld=withheld,
        n_responses=len(responses),
        n_eff=n_eff,
        weighted=weights is not None,
        analysable=n_eff >= MIN_EFFECTIVE_N,
        categories=categories,
    )


__all__ = [
    "DARK_FIGURE_CAVEATS",
    "DARK_FIGURE_COLUMNS",
    "FREE_TEXT_COLUMNS",
    "GROUPS",
    "MAX_INTERVAL_WIDTH",
    "MIN_EFFECTIVE_N",
    "PLACE_COLUMNS",
    "SHARE_COLUMNS",
    "FindingStatus",
    "SurveyFindings",
    "Topic",
    "avoided_places",
    "dark_figure",
    "finding_shares",
    "free_texts",
    "raking_weights",
    "ranked",
    "survey_findings",
]
