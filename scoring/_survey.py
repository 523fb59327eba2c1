"""Survey indicators per action field and area: shares in the top categories, with Wilson
intervals on the effective sample size and suppression of small cells.

Everything is computed on code arrays with ``np.bincount``; there is no loop over respondents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from core import MIN_CELL_SIZE
from scoring._intervals import wilson_interval
from survey import Code, Design, Questionnaire, Role, Variable

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Published cells need at least this many respondents; the privacy rule is the survey
#: side's (:data:`survey.MIN_CELL_SIZE`), so exports and analysis cannot drift apart.
MIN_CELL = MIN_CELL_SIZE

#: Variable ids used for "feeling unsafe at night", in order of preference (see
#: :func:`night_variable`).
NIGHT_VARIABLE_IDS: tuple[str, ...] = ("safe_night", "safety_night", "unsafe_night")

#: The area label of whole-survey rows in :func:`survey_indicators` (``district`` column).
WHOLE_SURVEY: None = None

SURVEY_INDICATOR_COLUMNS: tuple[str, ...] = (
    "district",
    "measure",
    "field",
    "share",
    "ci_low",
    "ci_high",
    "n_respondents",
    "n_eff",
    "n_items",
    "suppressed",
    "n_answered",
)


class Measure(StrEnum):
    """What a survey indicator measures."""

    PROBLEM = "problem"
    WORRY = "worry"
    VICTIMISATION = "victimisation"
    UNSAFE_NIGHT = "unsafe_night"


@dataclass(frozen=True)
class _Target:
    measure: Measure
    field: str | None
    variables: tuple[Variable, ...]


def night_variable(questionnaire: Questionnaire) -> Variable | None:
    """The variable measuring the feeling of safety at night in the respondent's neighbourhood.

    Rule: the first variable whose id is one of :data:`NIGHT_VARIABLE_IDS` (the default
    questionnaire uses ``safe_night``) and that has an answer scale. Its scale runs from safe to
    unsafe, so the top two substantive categories mean "rather / very unsafe"; the
    non-substantive "I do not go out alone at night" is excluded from the denominator.
    """
    return _night_of(questionnaire.variables())


def _night_of(variables: Sequence[Variable]) -> Variable | None:
    by_id = {v.id: v for v in variables if v.scale is not None}
    return next((by_id[i] for i in NIGHT_VARIABLE_IDS if i in by_id), None)


def district_variable(questionnaire: Questionnaire) -> Variable | None:
    """The single-choice variable of the item with ``design: district``, if any."""
    return questionnaire.design_variable(Design.DISTRICT)


def _targets(questionnaire: Questionnaire, fields: Sequence[str]) -> list[_Target]:
    out: list[_Target] = []
    roles = (
        (Measure.PROBLEM, Role.PROBLEM),
        (Measure.WORRY, Role.WORRY),
        (Measure.VICTIMISATION, Role.VICTIMISATION),
    )
    # One list of variables for every field and role (as Questionnaire.variables_tagged
    # selects them): building the variables is the expensive part, not the selection.
    variables = questionnaire.variables()
    for field in fields:
        for measure, role in roles:
            usable = tuple(
                v
                for v in variables
                if any(tag.field == field and tag.role == role for tag in v.tags)
                and (v.scale is not None or v.kind == "yesno")
            )
            if usable:
                out.append(_Target(measure, field, usable))
    night = _night_of(variables)
    if night is not None:
        out.append(_Target(Measure.UNSAFE_NIGHT, None, (night,)))
    return out


def tagged_fields(questionnaire: Questionnaire) -> list[str]:
    """Action-field ids the questionnaire's tags mention, in order of first appearance."""
    seen: dict[str, None] = {}
    for variable in questionnaire.variables():
        for tag in variable.tags:
            seen.setdefault(tag.field, None)
    return list(seen)


def _text_key(value: object) -> str:
    """A code as comparable text: ``1``, ``1.0`` and ``"1"`` give ``"1"``; ``"01"`` stays."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def code_positions(values: pd.Series, codes: Sequence[Code]) -> IntArray:
    """Position of each value in ``codes`` (``-1`` when missing or not a listed code).

    Codes match across int, float and text (``1`` ~ ``1.0`` ~ ``"1"``; ``"01"`` ~ ``1`` when the
    column is numeric). See :func:`code_lookup`.
    """
    return code_lookup(values, codes, np.arange(len(codes), dtype=np.int64), -1)


#: Column types whose codes fit one byte: storage returns single-choice codes as ``Int8``.
_BYTE_DTYPES: tuple[object, ...] = (pd.Int8Dtype(), np.dtype(np.int8))


def code_lookup(
    values: pd.Series, codes: Sequence[Code], targets: IntArray, missing: int
) -> IntArray:
    """``targets[i]`` for each value equal to ``codes[i]``, ``missing`` for any other value.

    Numeric columns with small non-negative integer codes use one lookup table indexed by the
    value (a few array operations on 10⁶ rows, no float round trip for nullable integer
    columns); other columns are factorised once and matched per distinct value as text.
    """
    n = len(values)
    if not codes:
        return np.full(n, missing, dtype=np.int64)
    numeric = pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(
        values.dtype
    )
    if numeric:
        numbers: dict[int, int] = {}
        for position, code in enumerate(codes):
            try:
                number = float(code)
            except (TypeError, ValueError):
                continue
            if number.is_integer():
                numbers.setdefault(int(number), int(targets[position]))
        if numbers and min(numbers) >= 0 and max(numbers) <= 10_000:
            top = max(numbers)
            lookup = np.full(top + 3, missing, dtype=np.int64)  # slots 0, top + 2: no code
            for number, target in numbers.items():
                lookup[number + 1] = target
            if values.dtype in _BYTE_DTYPES and top <= 127:
                # One-byte codes (nullable Int8 from storage): a 256-entry table indexed by the
                # byte itself; missing becomes -1, i.e. byte 255, which is no code.
                by_byte = np.full(256, missing, dtype=np.int64)
                by_byte[: top + 1] = lookup[1 : top + 2]
                small = values.to_numpy(dtype=np.int8, na_value=-1)
                return np.asarray(by_byte[small.view(np.uint8)], dtype=np.int64)
            if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(
                values.dtype
            ):
                # Integer codes (nullable Int8 from storage): no float round trip needed.
                # Missing (-1 + 1 = 0) and values outside 0..top fall on the slots of no code.
                shifted_int = values.to_numpy(dtype=np.int64, na_value=-1) + 1
                return np.take(lookup, shifted_int, mode="clip")
            shifted = values.to_numpy(dtype=np.float64, na_value=np.nan) + 1.0
            clipped = np.clip(shifted, 0.0, top + 2.0)
            np.nan_to_num(clipped, copy=False, nan=0.0)
            index = clipped.astype(np.intp)
            result = lookup[index]
            # Missing, out-of-range and fractional values (2.5 truncates to 2) are no code.
            result[index != shifted] = missing
            return result
    labels, uniques = pd.factorize(values, use_na_sentinel=True)
    wanted = {_text_key(code): int(targets[i]) for i, code in enumerate(codes)}
    table = [wanted.get(_text_key(u), missing) for u in uniques]
    lookup = np.array([*table, missing], dtype=np.int64)
    return lookup[labels]  # label -1 (missing) takes the trailing entry


def _class_lookup(variable: Variable) -> tuple[list[Code], IntArray]:
    """Codes of ``variable`` and their class: 0 not counted, 1 substantive, 2 top."""
    if variable.kind == "yesno":
        return [0, 1], np.array([1, 2, 0], dtype=np.int64)
    assert variable.scale is not None
    codes = [o.code for o in variable.scale.options]
    substantive = {_text_key(c) for c in variable.scale.substantive_codes()}
    top = {_text_key(c) for c in variable.scale.top_codes()}
    classes = [
        2
        if _text_key(c) in top and _text_key(c) in substantive
        else int(_text_key(c) in substantive)
        for c in codes
    ]
    return codes, np.array([*classes, 0], dtype=np.int64)  # trailing 0: position -1


def _group_index(responses: pd.DataFrame, district: Variable | None) -> tuple[IntArray, list[str]]:
    """District index per respondent (``-1`` when unknown) and the district codes as text."""
    if district is None or district.id not in responses.columns:
        return np.full(len(responses), -1, dtype=np.int64), []
    assert district.scale is not None
    codes = district.scale.substantive_codes()
    return code_positions(responses[district.id], codes), [str(c) for c in codes]


def _answer_classes(variable: Variable) -> tuple[list[Code], IntArray]:
    """Codes of ``variable`` and their answer class: 1 listed but not substantive ("weiß
    nicht"), 2 substantive, 3 top; any other value (missing, not a code) is class 0.

    :func:`_class_lookup` shifted by one, with the listed non-substantive codes told apart, so
    one lookup and one count per item give the shares and the respondents who answered."""
    codes, classes = _class_lookup(variable)
    return codes, np.where(np.arange(len(codes) + 1) < len(codes), classes + 1, 0)


#: Most bins (weight levels × areas × answer classes) counted in one ``np.bincount``; weights
#: with more distinct levels are summed per respondent instead (see :func:`_respondent_cells`).
MAX_WEIGHT_BINS = 1 << 20


def _respondent_cells(
    bins: IntArray, n_groups: int, weights: FloatArray | None
) -> tuple[IntArray, FloatArray | None]:
    """Each respondent's cell ``level * n_groups + bin`` and the weight of each level.

    Raking weights take one value per joint cell of the margins (a few hundred levels), so the
    weighted sums of an item are its answer counts per (level, area, class) times the level's
    weight: one integer count per item instead of three passes over the respondents. Without
    weights, or with too many levels (:data:`MAX_WEIGHT_BINS`), the levels are ``None`` and the
    cells are the bins themselves.
    """
    if weights is None:
        return bins, None
    levels, values = pd.factorize(weights)
    if len(values) * n_groups * 4 > MAX_WEIGHT_BINS:
        return bins, None
    return levels.astype(np.int64) * n_groups + bins, np.asarray(values, dtype=np.float64)


def _item_sums(
    key: IntArray,
    n_groups: int,
    weights: FloatArray | None,
    levels: FloatArray | None,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Per (area bin, class 0–3): respondents, weight sums and sums of squared weights.

    ``key`` is ``cell * 4 + class`` (:func:`_respondent_cells`, :func:`_answer_classes`).
    """
    if levels is not None:
        per_level = np.bincount(key, minlength=len(levels) * n_groups * 4).reshape(
            len(levels), n_groups, 4
        )
        sums = np.asarray(np.tensordot(levels, per_level, axes=(0, 0)), dtype=np.float64)
        squares = np.asarray(np.tensordot(levels * levels, per_level, axes=(0, 0)), np.float64)
        return np.asarray(per_level.sum(axis=0), dtype=np.int64), sums, squares
    size = n_groups * 4
    counts = np.asarray(np.bincount(key, minlength=size).reshape(n_groups, 4), dtype=np.int64)
    if weights is None:
        as_float = counts.astype(np.float64)
        return counts, as_float, as_float
    weighted = np.bincount(key, weights=weights, minlength=size).reshape(n_groups, 4)
    squared = np.bincount(key, weights=weights * weights, minlength=size).reshape(n_groups, 4)
    return counts, np.asarray(weighted, np.float64), np.asarray(squared, np.float64)


def survey_indicators(
    questionnaire: Questionnaire,
    responses: pd.DataFrame,
    *,
    fields: Sequence[str] | None = None,
    weights: ArrayLike | None = None,
    min_cell: int = MIN_CELL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Weighted shares per measure × action field × area (whole survey and each district).

    For each variable the share is

    .. math:: \hat p = \frac{\sum_{i \in V} w_i\,[y_i \in \mathrm{top}]}{\sum_{i \in V} w_i},

    where :math:`V` are the respondents with a substantive answer (non-substantive codes such as
    "weiß nicht" and missing answers are excluded from the denominator) and ``top`` the
    scale's top codes (:meth:`survey.Scale.top_codes`, by default the last two substantive
    options) or "yes" for yes/no items. Measures:

    * ``problem``: items tagged ``{field, role: problem}``;
    * ``worry``: items tagged ``worry``; ``victimisation``: yes/no items tagged
      ``victimisation`` (prevalence);
    * ``unsafe_night`` (``field`` is ``None``): see :func:`night_variable`.

    A field with several items gets the mean of the item shares; its effective size is the
    smallest item's, and ``n_respondents`` the smallest item count (conservative). The
    interval is Wilson's on Kish's effective sample size
    :math:`n_{\mathrm{eff}} = (\sum_V w_i)^2 / \sum_V w_i^2` of the cell. Cells with fewer than
    ``min_cell`` respondents get ``NaN`` values and ``suppressed = True`` — except cells where
    at least ``min_cell`` answered and all of them non-substantively ("weiß nicht"): those have
    no share and say so (``n_answered``), as nothing is hidden. ``n_answered`` counts the
    respondents with any listed answer.

    Returns a long table with :data:`SURVEY_INDICATOR_COLUMNS`; ``district`` is ``None`` for
    the whole survey, else the district code as text.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*, 11.7; Wilson (1927), JASA 22, 209–212.
    """
    field_ids = list(fields) if fields is not None else tagged_fields(questionnaire)
    targets = _targets(questionnaire, field_ids)
    w = (
        np.ones(len(responses), dtype=np.float64)
        if weights is None
        else np.asarray(weights, dtype=np.float64)
    )
    group, district_codes = _group_index(responses, district_variable(questionnaire))
    n_groups = len(district_codes) + 1  # the last bin: whole survey (filled below)
    # Respondents with an unknown district count in the whole survey only.
    bins = np.where(group >= 0, group, len(district_codes))
    cells, levels = _respondent_cells(bins, n_groups, None if weights is None else w)
    cells4 = cells * 4
    rows: list[dict[str, object]] = []
    for target in targets:
        item_shares: list[FloatArray] = []
        item_n: list[FloatArray] = []
        item_eff: list[FloatArray] = []
        item_answered: list[FloatArray] = []
        for variable in target.variables:
            if variable.id not in responses.columns:
                continue
            codes, classes = _answer_classes(variable)
            # key = cell * 4 + class (0 no code, 1 "weiß nicht", 2 substantive, 3 top).
            key = code_lookup(responses[variable.id], codes, classes[:-1], 0)
            key += cells4
            counts4, sums4, squares4 = _item_sums(
                key, n_groups, None if weights is None else w, levels
            )
            counts, sums, squares = counts4[:, 2:], sums4[:, 2:], squares4[:, 2:]
            # Whole survey = all bins; districts = their own bin.
            counts_all = np.vstack([counts[:-1], counts.sum(axis=0, keepdims=True)])
            sums_all = np.vstack([sums[:-1], sums.sum(axis=0, keepdims=True)])
            squares_all = np.vstack([squares[:-1], squares.sum(axis=0, keepdims=True)])
            total = sums_all.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                item_shares.append(np.where(total > 0, sums_all[:, 1] / total, np.nan))
                square_total = squares_all.sum(axis=1)
                item_eff.append(np.where(square_total > 0, total**2 / square_total, 0.0))
            item_n.append(counts_all.sum(axis=1).astype(np.float64))
            # Respondents with any listed answer, "weiß nicht" included: 40 who all said
            # "weiß nicht" are 40 respondents without a substantive answer, not "fewer than 5".
            answered = counts4[:, 1:].sum(axis=1).astype(np.float64)
            item_answered.append(np.append(answered[:-1], answered.sum()))
        if not item_shares:
            continue
        share = np.mean(np.vstack(item_shares), axis=0)
        n_resp = np.min(np.vstack(item_n), axis=0)
        n_eff = np.min(np.vstack(item_eff), axis=0)
        n_answered = np.min(np.vstack(item_answered), axis=0)
        only_non_substantive = (n_resp == 0) & (n_answered >= min_cell)
        suppressed = (n_resp < min_cell) & ~only_non_substantive
        low, high = wilson_interval(share * n_eff, n_eff, alpha=alpha)
        labels: list[str | None] = [*district_codes, WHOLE_SURVEY]
        for position, label in enumerate(labels):
            hidden = bool(suppressed[position])
            rows.append(
                {
                    "district": label,
                    "measure": str(target.measure),
                    "field": target.field,
                    "share": np.nan if hidden else float(share[position]),
                    "ci_low": np.nan if hidden else float(low[position]),
                    "ci_high": np.nan if hidden else float(high[position]),
                    "n_respondents": int(n_resp[position]),
                    "n_eff": np.nan if hidden else float(n_eff[position]),
                    "n_items": len(item_shares),
                    "suppressed": hidden,
                    "n_answered": int(n_answered[position]),
                }
            )
    frame = pd.DataFrame(rows, columns=list(SURVEY_INDICATOR_COLUMNS))
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["n_respondents"] = frame["n_respondents"].astype(np.int64)
    return frame
