"""Synthetic survey responses, incident counts and population tables.

They feed the demo municipality, the tests and the benchmarks. Every generator is a pure
function of its arguments and an ``np.random.Generator``, so a seeded generator reproduces
the same data, and works on whole columns at once (a million responses in a few seconds).

The responses follow a small latent model, so that a ranking over them is worth looking at:

* every respondent has a general insecurity :math:`u = \\varepsilon + a + s + g_d`
  (:math:`\\varepsilon \\sim N(0, 1)`; older respondents, the first sex option and some
  districts :math:`d` feel less safe);
* per action field :math:`f` a perceived size
  :math:`p_f = \\beta_f + \\gamma_{d f} + 0.5\\,u + 0.6\\,\\eta_f` with fixed field levels
  :math:`\\beta_f` (littering and drugs are felt as bigger problems than arson or extremism),
  district effects :math:`\\gamma_{d f}` and personal noise :math:`\\eta_f \\sim N(0, 1)`;
* an ordinal answer is a latent score cut at equally spaced thresholds; yes/no answers are
  Bernoulli with a logistic probability; non-substantive answers and item non-response are
  sprinkled in; follow-up items whose ``show_if`` is false stay missing.

Incident counts are Poisson with a Gamma-distributed (overdispersed) mean per area, year and
key, around rates per 100,000 of the order published in the German PKS; nested keys stay
consistent (``674000 ≥ 899500``, ``****00 ≥ 435*00``), and an area made of parts counts the
sum of its parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core import InvalidInput, Location, Problem
from sources import INCIDENT_DTYPES, POPULATION_DTYPES
from survey import (
    RESPONSE_META_COLUMNS,
    ActionFieldCatalogue,
    Code,
    Design,
    Expression,
    Item,
    MultiChoiceItem,
    Questionnaire,
    ReferenceInfo,
    Role,
    Scale,
    Variable,
    compile_expression,
    kind_of,
    multi_variable_id,
    normalise_pks_key,
    reference_infos,
)

FloatArray = NDArray[np.float64]
#: Latent scores: single precision is plenty and halves the memory traffic of a million rows.
Latent = NDArray[np.float32]
F32 = np.float32
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
#: A column being generated: float codes with NaN, or objects (text codes, text) with None.
AnyArray = NDArray[Any]

#: How big residents feel each action field's problems are, on the latent scale (0 = a share
#: of about one half in the top two categories of a four-point scale).
FIELD_LEVELS: Mapping[str, float] = {
    "vermuellung": 0.25,
    "drogen": -0.05,
    "graffiti": -0.15,
    "sachbeschaedigung": -0.35,
    "diebstahl": -0.40,
    "gewalt": -0.75,
    "extremismus": -1.05,
    "brandstiftung": -1.40,
}

#: Shifts of single variables of the default questionnaire that carry no action-field tag
#: (by day people feel safer than at night, parks at night feel least safe ...).
VARIABLE_LEVELS: Mapping[str, float] = {
    "safe_night": -0.1,
    "safe_day": -1.3,
    "safe_centre_day": -1.1,
    "safe_parks_day": -0.9,
    "safe_stops_day": -0.9,
    "safe_centre_night": 0.0,
    "safe_parks_night": 0.6,
    "safe_stops_night": 0.4,
    "victim_thoughts": -0.4,
    "trust_police": -0.7,
    "prob_drunk": -0.1,
    "prob_traffic": 0.6,
    "sat_overall": -0.3,
    "avoid_evening": -0.4,
    "avoid_places": -0.2,
}

#: Prevalence of victimisation per field (logit shift) and of reporting it to the police.
VICTIMISATION_LEVELS: Mapping[str, float] = {
    "diebstahl": 0.5,
    "sachbeschaedigung": 0.2,
    "graffiti": -0.3,
    "gewalt": -0.6,
    "extremismus": -0.8,
    "brandstiftung": -1.6,
}
REPORTING_LEVELS: Mapping[str, float] = {
    "diebstahl": 0.6,
    "brandstiftung": 0.8,
    "gewalt": -0.2,
    "sachbeschaedigung": -0.3,
    "extremismus": -1.0,
    "graffiti": -1.2,
}

#: Incidents per 100,000 residents and year, of the order of the German PKS (and, for the two
#: source keys outside it, of Ordnungsamt and PMK statistics).
INCIDENT_RATES: Mapping[str, float] = {
    "899500": 110.0,  # Graffiti
    "674000": 650.0,  # Sachbeschädigung (graffiti included)
    "892000": 250.0,  # Gewaltkriminalität
    "224000": 520.0,  # vorsätzliche einfache Körperverletzung
    "730000": 270.0,  # Rauschgiftdelikte
    "****00": 2300.0,  # Diebstahl insgesamt
    "435*00": 95.0,  # Wohnungseinbruchdiebstahl
    "640000": 22.0,  # Brandstiftung
    "ordnungsamt_vermuellung": 320.0,
    "pmk_insgesamt": 70.0,
}
DEFAULT_INCIDENT_RATE = 100.0
#: Relative change per year, so that trend lines have something to show.
INCIDENT_TRENDS: Mapping[str, float] = {
    "graffiti": 0.08,
    "drogen": 0.05,
    "diebstahl": -0.03,
    "brandstiftung": 0.04,
}
#: Shape of the Gamma noise on each expected count (variance ratio 1 + mean / shape).
OVERDISPERSION_SHAPE = 60.0

#: Answers for the free-text items, by variable id; other text items draw from ``_ANY_TEXT``.
_TEXT_SAMPLES: Mapping[str, tuple[str, ...]] = {
    "avoid_places_where": (
        "Unterführung am Bahnhof",
        "Stadtpark nach Einbruch der Dunkelheit",
        "Parkplatz hinter dem Einkaufszentrum",
        "Busbahnhof",
        "Weg am Fluss",
        "Marktplatz am Wochenende",
    ),
    "avoid_places_why": (
        "Dort ist es abends sehr dunkel.",
        "Es halten sich oft Gruppen auf, die andere anpöbeln.",
        "Dort wird offen mit Drogen gehandelt.",
        "Ich wurde dort schon einmal belästigt.",
        "Es ist menschenleer, niemand würde helfen.",
    ),
    "first_action": (
        "Mehr Licht in den Parks und an den Haltestellen.",
        "Öfter Polizei zu Fuß im Viertel.",
        "Die Müllecken regelmäßig räumen.",
        "Angebote für Jugendliche am Abend.",
        "Graffiti schneller entfernen.",
        "Den Bahnhofsvorplatz umgestalten.",
    ),
}
_ANY_TEXT: tuple[str, ...] = ("keine Angabe", "Mehr Sicherheit.", "Alles in Ordnung.")

_NONRESPONSE = {"hard": 0.0, "soft": 0.01, None: 0.03}


@dataclass(frozen=True)
class SyntheticArea:
    """An area to generate incidents and population for.

    ``area`` is the official key (or a district code), ``residents`` the whole population,
    ``adults`` the population aged 16+ by (sex code, age-group code) for weighting margins,
    ``risk`` the incidence relative to the base rates per action field (1 where absent).
    An area whose ``area`` is another area's ``parent`` is the sum of its parts.
    """

    area: str
    name: str
    residents: int
    risk: Mapping[str, float] = field(default_factory=dict)
    adults: Mapping[tuple[str, str], int] = field(default_factory=dict)
    parent: str | None = None


# --- responses ---------------------------------------------------------------------------------


def synthetic_responses(
    questionnaire: Questionnaire,
    n: int,
    rng: np.random.Generator,
    *,
    district_weights: Mapping[Code, float] | None = None,
    district_effects: Mapping[Code, Mapping[str, float]] | None = None,
    start: date = date(2026, 9, 7),
    days: int = 42,
    english_share: float = 0.05,
) -> pd.DataFrame:
    """``n`` synthetic responses to ``questionnaire`` in the codebook layout.

    Parameters
    ----------
    questionnaire
        Any questionnaire; its variables (:meth:`Questionnaire.variables`) become the columns,
        after :data:`RESPONSE_META_COLUMNS`.
    n
        Number of responses.
    rng
        The source of randomness; the same seed gives the same frame.
    district_weights
        Relative share of respondents per district code (the codes of the item with
        ``design: district``); equal shares when ``None``.
    district_effects
        Per district code, shifts of the perceived size of each action field's problems
        (key: field id) and of the general insecurity (key ``general``). When ``None``, a
        fixed pattern varies the fields between districts.
    start, days
        The survey period: ``submitted_on`` falls on these days (dates only, most of them
        early and after a reminder halfway).
    english_share
        Share of respondents answering in English when the questionnaire offers it.

    Returns
    -------
    pandas.DataFrame
        One row per response. Integer codes and yes/no (1/0) as nullable integers of the
        smallest type that holds the codes (``Int8`` for most scales), integer numbers as
        ``Int64``, decimals as ``Float64``, text codes, text and date items as ``string``,
        ``submitted_on`` as :class:`datetime.date`; hidden or unanswered items are ``<NA>``.
        A hard-required yes/no item (consent) is always yes.
    """
    problems: list[Problem] = []
    if n < 0:
        problems.append(Problem(Location(field="n"), "synthetic.negative_count", {"value": n}))
    if days < 1:
        problems.append(
            Problem(Location(field="days"), "synthetic.negative_count", {"value": days})
        )
    district = questionnaire.design_variable(Design.DISTRICT)
    district_codes = _substantive(district)
    problems += _check_district_mapping(district_weights, district_codes, "district_weights")
    problems += _check_district_mapping(district_effects, district_codes, "district_effects")
    if district_weights is not None and not problems:
        weights = np.array([float(district_weights.get(c, 0.0)) for c in district_codes])
        if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
            problems.append(
                Problem(Location(field="district_weights"), "synthetic.bad_weights", {})
            )
    if problems:
        raise InvalidInput(problems)

    variables = questionnaire.variables()
    fields = sorted({tag.field for v in variables for tag in v.tags})
    model = _Respondents.draw(
        questionnaire, n, rng, fields, district_codes, district_weights, district_effects
    )
    columns: dict[str, pd.api.extensions.ExtensionArray] = {}
    values: dict[str, AnyArray] = {}
    visibility = _Visibility(questionnaire)
    answered_items: dict[str, BoolArray] = {}
    for variable in variables:
        item = questionnaire.item(variable.item_id)
        shown = visibility.shown(variable, values, n)
        rate = _NONRESPONSE[getattr(item, "required", None)]
        if variable.kind == "multi_option":
            # One draw per respondent decides whether the whole multi-choice item is answered.
            if item.id not in answered_items:
                answered_items[item.id] = shown & (rng.random(n, dtype=F32) >= rate)
            answered = answered_items[item.id]
        else:
            answered = shown & (rng.random(n, dtype=F32) >= rate)
        data = _answer(questionnaire, item, variable, model, shown, answered, rng)
        values[variable.id] = data
        columns[variable.id] = _as_column(variable, data)

    meta = _meta_columns(questionnaire, n, rng, start, days, english_share)
    return pd.DataFrame({**meta, **columns}, columns=[*RESPONSE_META_COLUMNS, *columns], copy=False)


@dataclass(frozen=True)
class _Respondents:
    """The latent traits of every respondent."""

    n: int
    district: IntArray  # index into the district codes, -1 when unknown
    design: Mapping[Design, NDArray[np.object_] | FloatArray]
    old: Latent  # 0 (youngest age group) .. 1 (oldest); 0.5 when unknown
    insecurity: Latent
    perceived: Mapping[str, Latent]

    @classmethod
    def draw(
        cls,
        questionnaire: Questionnaire,
        n: int,
        rng: np.random.Generator,
        fields: Sequence[str],
        district_codes: Sequence[Code],
        district_weights: Mapping[Code, float] | None,
        district_effects: Mapping[Code, Mapping[str, float]] | None,
    ) -> _Respondents:
        n_districts = max(len(district_codes), 1)
        if district_weights is None:
            p = np.full(n_districts, 1.0 / n_districts)
        else:
            raw = np.array([float(district_weights.get(c, 0.0)) for c in district_codes])
            p = raw / raw.sum()
        district = rng.choice(n_districts, size=n, p=p).astype(np.int64)
        general, by_field = _district_effects(district_codes, fields, district_effects)

        design: dict[Design, NDArray[np.object_] | FloatArray] = {}
        old: Latent = np.full(n, 0.5, dtype=F32)
        first_sex: Latent = np.zeros(n, dtype=F32)
        for marker, tilt in ((Design.SEX, 0.0), (Design.AGE_GROUP, 0.5)):
            variable = questionnaire.design_variable(marker)
            if variable is None or variable.scale is None:
                continue
            scale = variable.scale
            substantive = scale.substantive_codes()
            # Older respondents answer surveys more readily: tilt the sample towards them.
            sub_p: FloatArray = np.linspace(1.0 - tilt, 1.0 + tilt, max(len(substantive), 1))
            codes = [*substantive, *scale.non_substantive_codes()]
            probs = np.array(
                [
                    *(0.96 * sub_p[: len(substantive)] / np.sum(sub_p)),
                    *_spread(0.04, codes, substantive),
                ]
            )
            position = rng.choice(len(codes), size=n, p=probs / probs.sum())
            design[marker] = _take_codes(codes, position)
            if marker == Design.AGE_GROUP and len(substantive) > 1:
                scaled = position / (len(substantive) - 1)
                old = np.where(position < len(substantive), scaled, 0.5).astype(F32)
            if marker == Design.SEX and substantive:
                first_sex = (position == 0).astype(F32)

        general_f, by_field_f = general.astype(F32), by_field.astype(F32)
        insecurity: Latent = rng.standard_normal(n, dtype=F32)
        insecurity += F32(0.6) * (old - F32(0.5)) + F32(0.25) * first_sex + general_f[district]
        perceived: dict[str, Latent] = {}
        for i, f in enumerate(fields):
            score = rng.standard_normal(n, dtype=F32)
            score *= F32(0.6)
            score += F32(FIELD_LEVELS.get(f, 0.0)) + by_field_f[district, i]
            score += F32(0.5) * insecurity
            perceived[f] = score
        return cls(n, district, design, old, insecurity, perceived)


def _spread(total: float, codes: Sequence[Code], substantive: Sequence[Code]) -> list[float]:
    extra = len(codes) - len(substantive)
    return [total / extra] * extra if extra else []


def _district_effects(
    codes: Sequence[Code],
    fields: Sequence[str],
    given: Mapping[Code, Mapping[str, float]] | None,
) -> tuple[FloatArray, FloatArray]:
    """General and per-field shifts per district (one extra row: district unknown)."""
    n = max(len(codes), 1)
    general = np.zeros(n)
    by_field = np.zeros((n, len(fields)))
    if given is None:
        # A fixed, irregular pattern: each district stands out on different fields.
        d = np.arange(n)[:, None]
        f = np.arange(len(fields))[None, :]
        by_field = 0.45 * np.sin(1.9 * d + 2.7 * f + 0.5)
        general = 0.25 * np.cos(2.3 * np.arange(n))
    else:
        for i, code in enumerate(codes):
            shifts = given.get(code, {})
            general[i] = shifts.get("general", 0.0)
            for j, name in enumerate(fields):
                by_field[i, j] = shifts.get(name, 0.0)
    return general, by_field


def _substantive(variable: Variable | None) -> list[Code]:
    return variable.scale.substantive_codes() if variable and variable.scale else []


def _check_district_mapping(
    mapping: Mapping[Code, Any] | None, codes: Sequence[Code], name: str
) -> list[Problem]:
    if mapping is None:
        return []
    known = {str(c) for c in codes}
    return [
        Problem(
            Location(field=f"{name}[{key!r}]"),
            "synthetic.unknown_district",
            {"code": key, "expected": ", ".join(str(c) for c in codes) or "-"},
        )
        for key in mapping
        if str(key) not in known
    ]


def _take_codes(codes: Sequence[Code], position: IntArray) -> NDArray[np.object_] | FloatArray:
    """Codes by position: floats for integer codes, objects for text codes."""
    if all(isinstance(c, int) for c in codes):
        return np.asarray(codes, dtype=np.float64)[position]
    return np.asarray(codes, dtype=object)[position]


def _missing_like(values: AnyArray) -> BoolArray:
    if values.dtype == object:
        return np.asarray(pd.isna(values), dtype=bool)
    return np.asarray(np.isnan(values), dtype=bool)


# --- one variable ------------------------------------------------------------------------------


def _answer(
    questionnaire: Questionnaire,
    item: Item,
    variable: Variable,
    model: _Respondents,
    shown: BoolArray,
    answered: BoolArray,
    rng: np.random.Generator,
) -> AnyArray:
    n = model.n
    required = getattr(item, "required", None)
    if variable.design is not None:
        if variable.design == Design.DISTRICT:
            codes = _substantive(variable)
            values: AnyArray = _take_codes(codes, model.district)
        else:
            values = model.design[variable.design].copy()
        return _blank(values, ~answered)

    drawn = kind_of(item).synthetic(item, variable, n, rng)
    if drawn is not None:  # a kind with its own generator
        return _blank(drawn, ~answered)
    role, fields = _role(variable)
    perceived = _perception(model, fields)
    offset = VARIABLE_LEVELS.get(variable.id, 0.0)
    if variable.kind in ("single", "statement"):
        assert variable.scale is not None
        # Weights of (perceived field size, general insecurity) and a shift, by role.
        a, b, shift = {
            Role.WORRY: (0.5, 0.6, -0.5),
            Role.SATISFACTION: (0.4, 0.2, -0.3),
            None: (0.0, 0.8, 0.0),
        }.get(role, (1.0, 0.0, 0.0))
        latent: Latent = rng.standard_normal(n, dtype=F32)
        latent *= F32(0.7)
        latent += F32(offset + shift)
        if a:
            latent += F32(a) * perceived
        if b:
            latent += F32(b) * model.insecurity
        ns_share = F32(0.03 + (0.08 if "extremismus" in fields else 0.0)) + F32(0.05) * model.old
        return _blank(_ordinal(variable.scale, latent, ns_share, rng), ~answered)
    if variable.kind == "yesno":
        if required == "hard":
            # A hard-required yes/no is a gate (consent): only those who said yes are here.
            return _blank(np.ones(n), ~shown)
        if role == Role.VICTIMISATION:
            level = sum(VICTIMISATION_LEVELS.get(f, 0.0) for f in fields) / max(len(fields), 1)
            logit = F32(level - 2.6) + F32(0.6) * perceived + F32(0.3) * model.insecurity
        elif role == Role.REPORTED:
            logit = np.full(n, sum(REPORTING_LEVELS.get(f, 0.0) for f in fields), dtype=F32)
        else:
            logit = F32(offset - 1.0) + F32(0.9) * model.insecurity
        yes = _chance(logit, rng)
        return _blank(yes.astype(np.float64), ~answered)
    if variable.kind == "multi_option":
        assert isinstance(item, MultiChoiceItem)
        position = _option_position(questionnaire, item, variable)
        level = -1.2 + 0.8 * np.sin(2.4 * position + 1.0)
        logit = F32(level) + F32(0.5) * model.insecurity
        if role == Role.MEASURE_WISH:
            logit += F32(0.5) * perceived
        picked = _chance(logit, rng)
        return _blank(picked.astype(np.float64), ~answered)
    if variable.kind == "number":
        return _blank(_number(item, variable, model, rng), ~answered)
    if variable.kind == "text":
        return _text(variable, shown, rng)
    if variable.kind == "date":
        days = np.array(
            [(date(2026, 1, 1) + timedelta(days=k)).isoformat() for k in range(365)], dtype=object
        )
        return _blank(days[rng.integers(0, 365, size=n)], ~answered)
    return np.full(n, np.nan)


def _option_position(
    questionnaire: Questionnaire, item: MultiChoiceItem, variable: Variable
) -> int:
    codes = [o.code for o in questionnaire.scale_of(item).options]
    return next(i for i, c in enumerate(codes) if multi_variable_id(item.id, c) == variable.id)


def _role(variable: Variable) -> tuple[Role | None, list[str]]:
    if not variable.tags:
        return None, []
    role = variable.tags[0].role
    return role, [tag.field for tag in variable.tags if tag.role == role]


def _perception(model: _Respondents, fields: Sequence[str]) -> Latent:
    known = [model.perceived[f] for f in fields if f in model.perceived]
    if not known:
        return np.zeros(model.n, dtype=F32)
    if len(known) == 1:
        return known[0]
    return np.asarray(np.mean(known, axis=0), dtype=F32)


def _ordinal(scale: Scale, latent: Latent, ns_share: Latent, rng: np.random.Generator) -> AnyArray:
    """Cut the latent score into the substantive options; some answer non-substantively."""
    substantive = scale.substantive_codes()
    k = len(substantive)
    # Thresholds at -k/2 + 1, ..., k/2 - 1: the option is floor(latent + k/2), clipped.
    position = np.clip(np.floor(latent + k / 2.0), 0, k - 1).astype(np.int64)
    codes: list[Code] = [*substantive, *scale.non_substantive_codes()]
    if len(codes) > k:
        ns = rng.random(latent.shape[0], dtype=F32) < ns_share
        position = np.where(ns, k + rng.integers(0, len(codes) - k, size=latent.shape[0]), position)
    return _take_codes(codes, position)


def _number(
    item: Item, variable: Variable, model: _Respondents, rng: np.random.Generator
) -> FloatArray:
    low = getattr(item, "min", None)
    high = getattr(item, "max", None)
    low = 0.0 if low is None else float(low)
    high = low + 100.0 if high is None else float(high)
    # Skewed towards small values, longer for older respondents (e.g. years lived here).
    value = low + (high - low) * rng.beta(1.2, 3.0, size=model.n) * (0.4 + 0.8 * model.old)
    value = np.clip(value, low, high)
    return np.round(value) if variable.integer else np.round(value, 1)


def _text(variable: Variable, shown: BoolArray, rng: np.random.Generator) -> NDArray[np.object_]:
    pool = _TEXT_SAMPLES.get(variable.id, _ANY_TEXT)
    n = shown.shape[0]
    # Free text is answered far less often than closed questions.
    share = 0.6 if variable.id in _TEXT_SAMPLES and variable.id != "first_action" else 0.3
    answered = shown & (rng.random(n) < share)
    out: NDArray[np.object_] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), size=n)]
    out[~answered] = None
    return out


def _blank(values: AnyArray, missing: BoolArray) -> AnyArray:
    """``values`` with ``missing`` blanked, in place (every caller passes a fresh array)."""
    out = values
    if out.dtype == object:
        out[missing] = None
    else:
        out[missing] = np.nan
    return out


def _chance(logit: Latent, rng: np.random.Generator) -> BoolArray:
    """Bernoulli draws with probability ``1 / (1 + exp(-logit))``."""
    probability = np.exp(-logit)
    probability += F32(1.0)
    np.reciprocal(probability, out=probability)
    return np.asarray(rng.random(logit.shape[0], dtype=F32) < probability, dtype=bool)


def _as_column(variable: Variable, data: NDArray[Any]) -> pd.api.extensions.ExtensionArray:
    if data.dtype == object:
        return pd.array(data, dtype="string")
    missing = np.isnan(data)
    if variable.kind == "number" and not variable.integer:
        return pd.arrays.FloatingArray(np.where(missing, 0.0, data), missing)
    return pd.arrays.IntegerArray(np.where(missing, 0, data).astype(_int_type(variable)), missing)


def _int_type(variable: Variable) -> type[np.signedinteger[Any]]:
    """The smallest integer type for a variable's codes: a million rows × 80 items stay small."""
    if variable.kind in ("yesno", "multi_option"):
        return np.int8
    codes = [o.code for o in variable.options if isinstance(o.code, int)]
    if variable.kind == "number" or not codes:
        return np.int64
    low, high = min(codes), max(codes)
    for candidate in (np.int8, np.int16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= low and high <= info.max:
            return candidate
    return np.int64


# --- show_if ---------------------------------------------------------------------------------

_Values = Mapping[str, AnyArray]


class _Visibility:
    """Who sees each variable: the section's, the item's and the statement's ``show_if``,
    evaluated exactly as the form does (:meth:`survey.Expression.evaluate_columns`) over the
    columns drawn so far."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        known = reference_infos(questionnaire)
        self._rules: dict[str, list[Expression]] = {}
        self._multi: dict[str, list[tuple[Code, str]]] = {}
        for section in questionnaire.sections:
            for item in section.items:
                sources = [section.show_if, item.show_if]
                self._rules[item.id] = [_compiled(s, known) for s in sources if s]
                for statement in getattr(item, "statements", None) or []:
                    if statement.show_if:
                        self._rules[statement.id] = [_compiled(statement.show_if, known)]
                if isinstance(item, MultiChoiceItem):
                    self._multi[item.id] = [
                        (o.code, multi_variable_id(item.id, o.code))
                        for o in questionnaire.scale_of(item).options
                    ]

    def shown(self, variable: Variable, values: _Values, n: int) -> BoolArray:
        rules = self._rules.get(variable.item_id, [])
        if variable.id != variable.item_id:  # a battery statement's own condition
            rules = [*rules, *self._rules.get(variable.id, [])]
        shown = np.ones(n, dtype=bool)
        for rule in rules:
            columns = {name: self._column(name, values, n) for name in rule.references()}
            shown &= rule.evaluate_columns(columns, n)
        return shown

    def _column(self, name: str, values: _Values, n: int) -> AnyArray:
        """The answers to ``name`` as the form keeps them; a multi-choice item's 0/1 columns
        become each respondent's list of ticked codes."""
        if name not in self._multi:
            return values.get(name, np.full(n, np.nan))
        present = [(code, values[v]) for code, v in self._multi[name] if v in values]
        out: NDArray[np.object_] = np.full(n, None, dtype=object)
        if not present:
            return out
        codes = [code for code, _ in present]
        ticked = np.stack([column == 1 for _, column in present], axis=1)
        for row in np.flatnonzero(~np.isnan(present[0][1])):  # answered: every option is 0/1
            out[row] = [code for code, tick in zip(codes, ticked[row], strict=True) if tick]
        return out


def _compiled(source: str, known: Mapping[str, ReferenceInfo]) -> Expression:
    expression, problems = compile_expression(source, known)
    if expression is None:
        # The loader rejects such questionnaires; reaching this is a programming error.
        raise ValueError(f"show_if {source!r} does not compile: {problems}")
    return expression


# --- meta columns ------------------------------------------------------------------------------


def _meta_columns(
    questionnaire: Questionnaire,
    n: int,
    rng: np.random.Generator,
    start: date,
    days: int,
    english_share: float,
) -> dict[str, Any]:
    # 16 random hex digits (64 bits): two synthetic sets practically never collide.
    lut = np.array([f"{i:02x}" for i in range(256)], dtype="S2")
    raw = lut[rng.integers(0, 256, size=(n, 8), dtype=np.uint8)]
    ids = np.ascontiguousarray(raw).view("S16").ravel().astype(str).astype(object)
    # Most answers come early; a reminder halfway brings a second wave.
    reminder = rng.random(n) < 0.3
    offset = np.where(
        reminder, days // 2 + rng.exponential(days / 10, n), rng.exponential(days / 7, n)
    )
    offset = np.minimum(offset.astype(np.int64), days - 1)
    dates = np.array([start + timedelta(days=k) for k in range(days)], dtype=object)
    languages = questionnaire.meta.languages
    english = "en" in languages and questionnaire.meta.default_language != "en"
    language = (english & (rng.random(n) < english_share)).astype(np.intp)
    constant = np.zeros(n, dtype=np.intp)
    return {
        "response_id": pd.array(ids, dtype="string"),
        "questionnaire_id": _strings([questionnaire.id], constant),
        "questionnaire_revision": _strings([questionnaire.revision], constant),
        "submitted_on": pd.Series(dates[offset], dtype=object),
        "language": _strings([questionnaire.meta.default_language, "en"], language),
        "mode": _strings(["open"], constant),
        "stratum": _strings([], np.full(n, -1, dtype=np.intp)),
    }


def _strings(pool: Sequence[str], index: NDArray[np.intp]) -> pd.api.extensions.ExtensionArray:
    """``pool[index]`` as a string column (``-1`` is missing), without a Python loop per row."""
    values = pd.array(np.asarray(pool, dtype=object), dtype="string")
    return values.take(index, allow_fill=True)


# --- incidents and population ------------------------------------------------------------------


def _catalogue_keys(catalogue: ActionFieldCatalogue) -> list[tuple[str, str, str | None]]:
    """(key, field, part_of) per key, parts before the keys that contain them."""
    owner: dict[str, str] = {}
    for action_field in catalogue.fields:
        for key in [*action_field.pks_keys, *action_field.source_keys]:
            owner.setdefault(key, action_field.id)
    nested: dict[str, str] = {}
    for action_field in catalogue.fields:
        whole = action_field.pks_keys[0] if action_field.pks_keys else None
        parts = [*action_field.pks_subtract]
        for breakdown in action_field.breakdowns:
            parts += breakdown.pks_keys
        for part in parts:
            owner.setdefault(part, action_field.id)
            if whole is not None:
                nested[part] = whole
    ordered = sorted(owner, key=lambda k: (k not in nested, k))
    return [(k, owner[k], nested.get(k)) for k in ordered]


def synthetic_incidents(
    areas: Sequence[SyntheticArea],
    years: Sequence[int],
    rng: np.random.Generator,
    catalogue: ActionFieldCatalogue,
) -> pd.DataFrame:
    r"""Incident counts per area, year and key of the action-field catalogue.

    For an area :math:`a` with :math:`N_a` residents, key :math:`k` of field :math:`f` and
    year :math:`t` (the :math:`t`-th of the years given),

    .. math:: Y_{akt} \sim \mathrm{Poisson}(\mu_{akt}\,G_{akt}),\quad
              \mu_{akt} = \frac{N_a}{10^5}\, r_k\, \rho_{af}\, (1 + \tau_f)^t,\quad
              G_{akt} \sim \mathrm{Gamma}(s, 1/s),

    with base rates :math:`r_k` (:data:`INCIDENT_RATES`), the area's relative risk
    :math:`\rho_{af}`, a trend :math:`\tau_f` and overdispersion shape :math:`s`. A key that is
    part of another (a subtracted key or a breakdown) is drawn first and added to the other,
    so ``674000 ≥ 899500``; an area that is some areas' ``parent`` gets the sum of their counts.

    Returns
    -------
    pandas.DataFrame
        Tidy columns ``area, area_name, year, key, count`` (``count`` as ``int64``).
    """
    _check_areas(areas, years)
    keys = _catalogue_keys(catalogue)
    leaves = [a for a in areas if not any(b.parent == a.area for b in areas)]
    n_years = len(years)
    counts: dict[str, dict[str, IntArray]] = {}
    for area in leaves:
        by_key: dict[str, IntArray] = {}
        for key, field_id, _part_of in keys:
            trend = (1.0 + INCIDENT_TRENDS.get(field_id, 0.0)) ** np.arange(n_years)
            mean = (
                area.residents
                / 1e5
                * INCIDENT_RATES.get(normalise_pks_key(key), DEFAULT_INCIDENT_RATE)
                * area.risk.get(field_id, 1.0)
                * trend
            )
            noise = rng.gamma(OVERDISPERSION_SHAPE, 1.0 / OVERDISPERSION_SHAPE, size=n_years)
            by_key[key] = rng.poisson(mean * noise).astype(np.int64)
        for key, _field_id, part_of in keys:
            if part_of is not None and part_of in by_key:
                by_key[part_of] = by_key[part_of] + by_key[key]
        counts[area.area] = by_key
    for area in areas:
        if area.area not in counts:
            parts = [counts[b.area] for b in _leaves_under(area, areas)]
            counts[area.area] = {
                key: np.sum([p[key] for p in parts], axis=0).astype(np.int64)
                for key, _f, _p in keys
            }
    rows = [
        (area.area, area.name, int(year), key, int(counts[area.area][key][t]))
        for area in areas
        for t, year in enumerate(years)
        for key, _f, _p in keys
    ]
    frame = pd.DataFrame(rows, columns=list(INCIDENT_DTYPES))
    return frame.astype(INCIDENT_DTYPES)


def synthetic_population(
    areas: Sequence[SyntheticArea], years: Sequence[int], rng: np.random.Generator
) -> pd.DataFrame:
    """Residents per area and year, and the 16+ margins by sex × age group where known.

    Each leaf area's population drifts by a random 0.5 % a year around ``residents`` (margin
    cells scale with it); an area that is some areas' ``parent`` is their sum.

    Returns
    -------
    pandas.DataFrame
        ``area, area_name, year, sex, age_group, population``: one total row per area × year
        (``sex`` and ``age_group`` missing), then the margin cells (codes as text).
    """
    _check_areas(areas, years)
    n_years = len(years)
    factors: dict[str, FloatArray] = {}
    for area in areas:
        if not any(b.parent == area.area for b in areas):
            drift = 1.0 + 0.005 * rng.standard_normal(n_years)
            factors[area.area] = np.asarray(np.cumprod(drift), dtype=np.float64)
    rows: list[tuple[str, str, int, str | None, str | None, int]] = []
    for area in areas:
        parts = _leaves_under(area, areas) or [area]
        for t, year in enumerate(years):
            total = sum(round(p.residents * factors[p.area][t]) for p in parts)
            rows.append((area.area, area.name, int(year), None, None, int(total)))
            cells = sorted({cell for p in parts for cell in p.adults})
            for sex, age in cells:
                value = sum(round(p.adults.get((sex, age), 0) * factors[p.area][t]) for p in parts)
                rows.append((area.area, area.name, int(year), sex, age, int(value)))
    frame = pd.DataFrame(rows, columns=list(POPULATION_DTYPES))
    return frame.astype(POPULATION_DTYPES)


def _leaves_under(area: SyntheticArea, areas: Sequence[SyntheticArea]) -> list[SyntheticArea]:
    children = [b for b in areas if b.parent == area.area]
    out: list[SyntheticArea] = []
    for child in children:
        out += _leaves_under(child, areas) or [child]
    return out


def _check_areas(areas: Sequence[SyntheticArea], years: Sequence[int]) -> None:
    problems: list[Problem] = []
    if not years:
        problems.append(Problem(Location(field="years"), "synthetic.no_years", {}))
    seen: set[str] = set()
    keys = {a.area for a in areas}
    for i, area in enumerate(areas):
        where = Location(field=f"areas[{i}]")
        if area.area in seen:
            problems.append(Problem(where, "synthetic.duplicate_area", {"area": area.area}))
        seen.add(area.area)
        if area.residents < 0:
            problems.append(Problem(where, "synthetic.negative_count", {"value": area.residents}))
        if area.parent is not None and area.parent not in keys:
            problems.append(Problem(where, "synthetic.unknown_parent", {"parent": area.parent}))
    if problems:
        raise InvalidInput(problems)
