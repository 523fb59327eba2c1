"""Survey weights: raking (iterative proportional fitting) to population margins, trimming and
Kish's effective sample size. Vectorised over respondents (``np.bincount`` per margin)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from survey import Code, Variable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Default trimming bounds, as multiples of the mean weight.
TRIM_BOUNDS: tuple[float, float] = (0.3, 3.0)


@dataclass(frozen=True)
class Margin:
    """Population totals over the categories of one or more response columns.

    ``columns`` names the response variables (e.g. ``("sex", "age_group")`` for a joint
    margin); ``totals`` maps a category (a tuple of codes for a joint margin, a single code
    otherwise) to its population total. Codes are matched as text, so ``"01"`` in a population
    table matches the questionnaire code ``"01"`` and ``2`` matches ``"2"``.
    """

    columns: tuple[str, ...]
    totals: Mapping[Hashable, float]


@dataclass(frozen=True)
class RakingResult:
    """Raked weights (mean 1), with what the fit did."""

    weights: FloatArray
    iterations: int
    converged: bool
    #: Margin categories with a population total but no respondent: left out of the fit.
    empty_categories: list[tuple[tuple[str, ...], Hashable]] = field(default_factory=list)
    #: What the weights did not reach (:func:`margin_gaps`, computed on the joint cells).
    gaps: list[MarginGap] = field(default_factory=list)


@dataclass(frozen=True)
class _Table:
    """Respondents collapsed into the joint cells of all margins.

    Raking factors depend only on a respondent's categories, so IPF runs on this small table
    (a few hundred cells) instead of on every respondent.
    """

    joint: IntArray  # joint cell of each respondent
    size: int  # number of joint cells
    #: Per margin: the margin category of each joint cell (-1: unknown) and target shares.
    categories: list[IntArray]
    proportions: list[FloatArray]
    #: Per margin: the population totals as given and the categories as the margin names them.
    targets: list[FloatArray] = field(default_factory=list)
    originals: list[list[Hashable]] = field(default_factory=list)


def _category_key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _margin_cells(
    frame: pd.DataFrame, margin: Margin, factorized: dict[str, tuple[IntArray, list[str]]]
) -> tuple[IntArray, FloatArray, list[Hashable]]:
    """Margin category of each respondent (-1 when missing or not in the margin), targets."""
    keys: dict[tuple[str, ...], int] = {}
    targets: list[float] = []
    originals: list[Hashable] = []
    for category, total in margin.totals.items():
        parts = category if isinstance(category, tuple) else (category,)
        keys[tuple(_category_key(p) for p in parts)] = len(targets)
        targets.append(float(total))
        originals.append(category)
    # Mixed-radix combination of per-column codes (slot 0: missing), then one lookup per
    # distinct combination.
    cell = np.zeros(len(frame), dtype=np.int64)
    radix = 1
    uniques_per_column: list[list[str]] = []
    for column in margin.columns:
        if column not in factorized:
            codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
            factorized[column] = (codes.astype(np.int64), [_category_key(u) for u in uniques])
        codes, labels = factorized[column]
        uniques_per_column.append(labels)
        cell += (codes + 1) * radix
        radix *= len(labels) + 1
    lookup = np.full(radix, -1, dtype=np.int64)
    for combined in range(radix):
        rest, combination = combined, []
        for labels in uniques_per_column:
            slot = rest % (len(labels) + 1)
            rest //= len(labels) + 1
            if slot == 0:
                break
            combination.append(labels[slot - 1])
        else:
            lookup[combined] = keys.get(tuple(combination), -1)
    target_cell = lookup[cell]
    return target_cell, np.asarray(targets, dtype=np.float64), originals


def _table(
    frame: pd.DataFrame, margins: Sequence[Margin]
) -> tuple[_Table, list[tuple[tuple[str, ...], Hashable]]]:
    factorized: dict[str, tuple[IntArray, list[str]]] = {}
    joint = np.zeros(len(frame), dtype=np.int64)
    radix = 1
    per_margin: list[tuple[int, int, FloatArray]] = []  # (radix, n categories, targets)
    empty: list[tuple[tuple[str, ...], Hashable]] = []
    given: list[FloatArray] = []
    named: list[list[Hashable]] = []
    for margin in margins:
        cells, targets, originals = _margin_cells(frame, margin, factorized)
        given.append(targets)
        named.append(originals)
        counts = np.bincount(cells[cells >= 0], minlength=len(targets))
        empty += [
            (margin.columns, originals[i])
            for i in range(len(targets))
            if counts[i] == 0 and targets[i] > 0
        ]
        targets = np.where(counts > 0, targets, 0.0)
        joint += (cells + 1) * radix  # 0 = unknown
        per_margin.append((radix, len(targets), targets))
        radix *= len(targets) + 1
    categories: list[IntArray] = []
    proportions: list[FloatArray] = []
    positions = np.arange(radix, dtype=np.int64)
    for step, size, targets in per_margin:
        categories.append((positions // step) % (size + 1) - 1)
        total = targets.sum()
        proportions.append(targets / total if total > 0 else targets)
    return _Table(joint, radix, categories, proportions, given, named), empty


def _rake_table(
    totals: FloatArray, table: _Table, tolerance: float, max_iterations: int
) -> tuple[FloatArray, int, bool]:
    """IPF on the joint-cell weight totals."""
    totals = totals.copy()
    known = [c >= 0 for c in table.categories]
    iterations = 0
    while table.categories and iterations < max_iterations:
        iterations += 1
        worst = 0.0
        for category, mask, target_share in zip(
            table.categories, known, table.proportions, strict=True
        ):
            cells = category[mask]
            current = np.bincount(cells, weights=totals[mask], minlength=len(target_share))
            target = target_share * totals[mask].sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, target / current, 1.0)
            worst = max(worst, float(np.max(np.abs(factor - 1.0), initial=0.0)))
            totals[mask] *= factor[cells]
        if worst < tolerance:
            return totals, iterations, True
    return totals, iterations, not table.categories


def rake(
    frame: pd.DataFrame,
    margins: Sequence[Margin],
    *,
    base_weights: ArrayLike | None = None,
    tolerance: float = 1e-12,
    max_iterations: int = 1000,
) -> RakingResult:
    r"""Rake weights so that weighted category shares equal the population margins.

    Iterative proportional fitting (Deming & Stephan 1940): for each margin :math:`m` in turn,
    every respondent in cell :math:`c` is multiplied by

    .. math:: f_c = \frac{\pi_{mc}\, W_m}{\sum_{i \in c} w_i},

    where :math:`\pi_{mc}` is the population share of cell :math:`c` and :math:`W_m` the weight
    total of the respondents whose category of :math:`m` is known. Respondents with a missing or
    non-substantive category of a margin (e.g. "keine Angabe") are left out of that margin's
    adjustment, so the margin holds among those who answered. Iterates until every margin's
    relative error is below ``tolerance``. Weights are returned with mean 1.

    The factors depend only on a respondent's categories, so the iterations run on the table
    of joint cells (weight totals per combination of categories) and are applied to the
    respondents once at the end: the cost is one pass over the respondents per margin column.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. Ann. Math. Stat. 11, 427–444.
    Kolenikov, S. (2014). Calibrating survey data using iterative proportional fitting
    (raking). Stata Journal 14, 22–59.
    """
    n = len(frame)
    base = (
        np.ones(n, dtype=np.float64)
        if base_weights is None
        else np.asarray(base_weights, dtype=np.float64)
    )
    table, empty = _table(frame, margins)
    base_totals = np.asarray(
        np.bincount(table.joint, weights=base, minlength=table.size), dtype=np.float64
    )
    raked, iterations, converged = _rake_table(base_totals, table, tolerance, max_iterations)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(base_totals > 0, raked / base_totals, 1.0)
    weights = base * factor[table.joint]
    mean = weights.mean() if n else 1.0
    return RakingResult(weights / mean if mean > 0 else weights, iterations, converged, empty)


def trim_and_rake(
    frame: pd.DataFrame,
    margins: Sequence[Margin],
    *,
    bounds: tuple[float, float] = TRIM_BOUNDS,
    rounds: int = 50,
    tolerance: float = 1e-12,
) -> RakingResult:
    r"""Rake, then alternately trim to ``bounds`` × mean weight and re-rake.

    Trimming caps extreme weights, trading a little bias for variance (Kish 1992; Potter 1990).
    The last step is always a raking step, so the margins hold exactly and the bounds hold
    approximately (to the extent the margins allow). Starts from equal weights; everything
    runs on the joint-cell table (see :func:`rake`).

    References
    ----------
    Potter, F. J. (1990). A study of procedures to identify and trim extreme sampling weights.
    Proc. ASA Survey Research Methods Section, 225–230.
    Kish, L. (1992). Weighting for unequal P_i. Journal of Official Statistics 8, 183–200.
    """
    n = len(frame)
    table, empty = _table(frame, margins)
    counts = np.bincount(table.joint, minlength=table.size).astype(np.float64)
    totals, iterations, converged = _rake_table(counts, table, tolerance, 1000)
    low, high = bounds
    occupied = counts > 0
    for _ in range(rounds):
        per_person = np.where(occupied, totals / np.where(occupied, counts, 1.0), 0.0)
        mean = totals.sum() / counts.sum() if counts.sum() > 0 else 1.0
        relative = per_person[occupied] / mean
        if relative.min(initial=low) >= low - 1e-9 and relative.max(initial=high) <= high + 1e-9:
            break
        clipped = np.clip(per_person, low * mean, high * mean) * counts
        totals, more, converged = _rake_table(clipped, table, tolerance, 1000)
        iterations += more
    per_person = np.where(occupied, totals / np.where(occupied, counts, 1.0), 0.0)
    weights = per_person[table.joint]
    mean = weights.mean() if n else 1.0
    scaled = weights / mean if mean > 0 else weights
    cell_totals = per_person * counts / mean if mean > 0 else per_person * counts
    gaps = _table_gaps(table, margins, cell_totals, MARGIN_TOLERANCE)
    return RakingResult(scaled, iterations, converged, empty, gaps)


def _table_gaps(
    table: _Table, margins: Sequence[Margin], cell_totals: FloatArray, tolerance: float
) -> list[MarginGap]:
    """:func:`margin_gaps` from the weight total of each joint cell: the same shares, summed
    over a few hundred cells instead of every respondent."""
    gaps: list[MarginGap] = []
    for margin, category, targets, originals in zip(
        margins, table.categories, table.targets, table.originals, strict=True
    ):
        gaps += _gaps_of(margin, originals, category, cell_totals, targets, tolerance)
    return gaps


def _gaps_of(
    margin: Margin,
    originals: list[Hashable],
    category: IntArray,
    weights: FloatArray,
    targets: FloatArray,
    tolerance: float,
) -> list[MarginGap]:
    """The categories of ``margin`` whose weighted share (``category`` of each respondent or
    joint cell, ``-1`` unknown) misses its target share by more than ``tolerance``."""
    known = category >= 0
    total_target = targets.sum()
    total_weight = weights[known].sum()
    if total_target <= 0 or total_weight <= 0:
        return []
    achieved = np.bincount(category[known], weights=weights[known], minlength=len(targets))
    shares, target_shares = achieved / total_weight, targets / total_target
    return [
        MarginGap(margin.columns, name, float(shares[i]), float(target_shares[i]))
        for i, name in enumerate(originals)
        if abs(shares[i] - target_shares[i]) > tolerance
    ]


#: Achieved and target shares of a margin category may differ by this much (absolute) before
#: the weighting is reported as not reaching its targets.
MARGIN_TOLERANCE = 0.01


@dataclass(frozen=True)
class MarginGap:
    """A margin category whose weighted share missed its population share."""

    columns: tuple[str, ...]
    category: Hashable
    achieved: float
    target: float


def margin_gaps(
    frame: pd.DataFrame,
    weights: ArrayLike,
    margins: Sequence[Margin],
    *,
    tolerance: float = MARGIN_TOLERANCE,
) -> list[MarginGap]:
    r"""Margin categories whose weighted share :math:`\sum_{i \in c} w_i / \sum_i w_i`
    (respondents with a known category) differs from the population share
    :math:`N_c / \sum N` by more than ``tolerance`` — what raking with trimming could not
    reach (too few respondents in a category, bounds that bind, contradictory margins).
    Categories without any respondent are listed with an achieved share of 0.
    """
    w = np.asarray(weights, dtype=np.float64)
    gaps: list[MarginGap] = []
    factorized: dict[str, tuple[IntArray, list[str]]] = {}
    for margin in margins:
        cells, targets, originals = _margin_cells(frame, margin, factorized)
        gaps += _gaps_of(margin, originals, cells, w, targets, tolerance)
    return gaps


def kish_effective_n(weights: ArrayLike) -> float:
    r"""Kish's effective sample size :math:`n_{\mathrm{eff}} = (\sum w_i)^2 / \sum w_i^2`.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley, section 11.7.
    """
    w = np.asarray(weights, dtype=np.float64)
    squares = float(np.dot(w, w))
    return float(w.sum() ** 2 / squares) if squares > 0 else 0.0


def _code_for(value: object, variable: Variable) -> Code | None:
    """The questionnaire code a population-table value stands for: the code as text, else an
    option label in any language (``"weiblich"``, ``"female"``), case-insensitive."""
    text = _category_key(value).casefold()
    for option in variable.options:
        if option.non_substantive:
            continue
        if _category_key(option.code).casefold() == text or any(
            label.strip().casefold() == text for label in option.label.values()
        ):
            return option.code
    return None


def _closest_year(years: pd.Series, year: int | None) -> int | None:
    available = sorted({int(y) for y in years.dropna()})
    if not available:
        return None
    if year is None or year in available:
        return available[-1] if year is None else year
    earlier = [y for y in available if y <= year]
    return earlier[-1] if earlier else available[0]


def population_margins(
    *,
    area: str,
    year: int | None,
    margins_table: pd.DataFrame | None,
    totals_table: pd.DataFrame | None,
    sex: Variable | None,
    age_group: Variable | None,
    district: Variable | None,
    district_areas: Mapping[str, str],
) -> list[Margin]:
    """Raking margins for a survey from population tables (the layout of
    :func:`survey.read_population`).

    * sex × age group: the ``margins_table`` rows of ``area`` (joint cells when both are given,
      else whichever one is), values matched to the questionnaire's codes or labels;
    * district: the population totals of the district areas (``district_areas`` maps a
      district code to its area key).

    The population year is ``year`` when present, else the latest earlier year, else the
    earliest. Values that match no code are ignored (e.g. "divers", absent from official
    statistics).
    """
    out: list[Margin] = []
    if margins_table is not None and len(margins_table) and (sex or age_group):
        rows = margins_table[margins_table["area"].astype(str) == area]
        chosen = _closest_year(rows["year"], year) if len(rows) else None
        rows = rows[rows["year"] == chosen] if chosen is not None else rows.iloc[0:0]
        has_sex = rows["sex"].notna() if "sex" in rows else pd.Series(False, index=rows.index)
        has_age = (
            rows["age_group"].notna() if "age_group" in rows else pd.Series(False, index=rows.index)
        )
        joint = rows[has_sex & has_age]
        if sex is not None and age_group is not None and len(joint):
            totals: dict[Hashable, float] = {}
            for s, a, p in zip(joint["sex"], joint["age_group"], joint["population"], strict=True):
                s_code, a_code = _code_for(s, sex), _code_for(a, age_group)
                if s_code is not None and a_code is not None:
                    key = (s_code, a_code)
                    totals[key] = totals.get(key, 0.0) + float(p)
            if totals:
                out.append(Margin((sex.id, age_group.id), totals))
        else:
            for variable, mask in ((sex, has_sex & ~has_age), (age_group, has_age & ~has_sex)):
                column = "sex" if variable is sex else "age_group"
                single = rows[mask]
                if variable is None or not len(single):
                    continue
                totals = {}
                for value, p in zip(single[column], single["population"], strict=True):
                    code = _code_for(value, variable)
                    if code is not None:
                        totals[code] = totals.get(code, 0.0) + float(p)
                if totals:
                    out.append(Margin((variable.id,), totals))
    if district is not None and totals_table is not None and district_areas and len(totals_table):
        by_area = totals_table[totals_table["area"].astype(str).isin(set(district_areas.values()))]
        chosen = _closest_year(by_area["year"], year) if len(by_area) else None
        if chosen is not None:
            current = by_area[by_area["year"] == chosen]
            population = dict(
                zip(current["area"].astype(str), current["population"].astype(float), strict=True)
            )
            district_totals: dict[Hashable, float] = {
                code: population[key] for code, key in district_areas.items() if key in population
            }
            if district_totals:
                out.append(Margin((district.id,), district_totals))
    return out
