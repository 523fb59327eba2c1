"""The method around the formulas (issue: a ranking a Land statistician would sign): each case
that used to fail silently, as a prevention manager or a statistician would try it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import InvalidInput
from scoring import analyse
from tests.scoring._scoring_data import (
    LAND,
    MUNICIPALITY,
    small_catalogue,
    small_incidents,
    small_population,
    small_questionnaire,
    small_responses,
)


def _analyse(
    rng: np.random.Generator,
    *,
    incidents: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    **options: object,
) -> pd.DataFrame:
    result = analyse(
        small_questionnaire(),
        small_responses(3000, rng) if responses is None else responses,
        catalogue=small_catalogue(),
        incidents=small_incidents(rng) if incidents is None else incidents,
        population=small_population() if population is None else population,
        rng=np.random.default_rng(3),
        draws=400,
        **options,  # type: ignore[arg-type]
    )
    return result.ranking


def _town(ranking: pd.DataFrame) -> pd.DataFrame:
    return ranking[ranking["area"] == MUNICIPALITY].set_index("field")


# --- references that are right or refuse -------------------------------------------------------


def test_the_town_is_compared_with_the_rest_of_the_land(rng: np.random.Generator) -> None:
    town = _town(_analyse(rng, area=MUNICIPALITY, reference=LAND))
    graffiti = town.loc["graffiti"]
    rest_population = 4_000_000 - 60_000
    assert graffiti["reference_population"] == pytest.approx(rest_population)
    assert "wie im übrigen Sachsen, 3,9 Mio. Einw. (95 %-KI" in graffiti["reason"]


def test_an_input_with_only_the_town_refuses_with_what_to_do(rng: np.random.Generator) -> None:
    incidents = small_incidents(rng)
    only_town = incidents[incidents["area"].str.startswith(MUNICIPALITY)]
    with pytest.raises(InvalidInput) as raised:
        _analyse(rng, incidents=only_town, area=MUNICIPALITY)
    [problem] = raised.value.problems
    assert problem.key == "scoring.reference_only_area"
    assert "Kreis, Land" in problem.message("de")


def test_the_town_as_its_own_reference_refuses(rng: np.random.Generator) -> None:
    with pytest.raises(InvalidInput) as raised:
        _analyse(rng, area=MUNICIPALITY, reference=MUNICIPALITY)
    assert [p.key for p in raised.value.problems] == ["scoring.reference_is_area"]


def test_a_land_named_instead_of_keyed_does_not_count_the_town_twice(
    rng: np.random.Generator,
) -> None:
    responses = small_responses(500, rng)
    incidents = small_incidents(np.random.default_rng(11))
    keyed = _town(_analyse(rng, responses=responses, incidents=incidents.copy(), area=MUNICIPALITY))
    incidents.loc[incidents["area"] == LAND, "area"] = "Sachsen"
    population = small_population()
    population.loc[population["area"] == LAND, "area"] = "Sachsen"
    named = _town(
        _analyse(
            rng,
            responses=responses,
            incidents=incidents,
            population=population,
            area=MUNICIPALITY,
        )
    )
    assert named.loc["graffiti", "sir"] == pytest.approx(keyed.loc["graffiti", "sir"])
    assert named.loc["graffiti", "reference_population"] == pytest.approx(4_000_000 - 60_000)


# --- small areas, zero cases, overdispersion --------------------------------------------------


def test_zero_cases_with_few_expected_are_unclear_never_certainly_low(
    rng: np.random.Generator,
) -> None:
    incidents = small_incidents(rng)
    incidents.loc[(incidents["area"] == MUNICIPALITY) & (incidents["key"] == "899500"), "count"] = 0
    population = small_population()
    population.loc[population["area"] == MUNICIPALITY, "population"] = 300.0
    town = _town(_analyse(rng, incidents=incidents, population=population, area=MUNICIPALITY))
    graffiti = town.loc["graffiti"]
    assert graffiti["cases"] == 0
    assert graffiti["registered_state"] == "unclear"
    assert graffiti["sir_shrunk"] > 0.5  # pulled toward the reference, not 0
    assert "zum Vergleichswert hin gezogen" in graffiti["reason"]


def test_overdispersed_areas_make_a_modest_excess_unclear(rng: np.random.Generator) -> None:
    """Twelve Kreise with strongly overdispersed counts: a town 20 % above the rest is within
    the normal spread, so not 'registered high' although the Poisson test would say so."""
    spread = np.random.default_rng(5)
    rows, people = [], []
    for i in range(12):
        area = f"14{i:03d}"
        population = 200_000.0
        theta = spread.gamma(4.0, 1 / 4.0)
        rows.append((area, 2024, "899500", int(spread.poisson(150 * population / 1e5 * theta))))
        people.append((area, 2024, None, None, population))
    rows.append((MUNICIPALITY, 2024, "899500", int(150 * 60_000 / 1e5 * 1.2)))
    people.append((MUNICIPALITY, 2024, None, None, 60_000.0))
    incidents = pd.DataFrame(rows, columns=["area", "year", "key", "count"])
    population = pd.DataFrame(people, columns=["area", "year", "sex", "age_group", "population"])
    town = _town(_analyse(rng, incidents=incidents, population=population, area=MUNICIPALITY))
    graffiti = town.loc["graffiti"]
    assert graffiti["prior_source"] == "estimated"
    assert graffiti["registered_state"] == "unclear"


# --- a combination whose meaning does not depend on what else is analysed ----------------------


def test_a_fields_scores_and_class_do_not_depend_on_the_other_fields(
    rng: np.random.Generator,
) -> None:
    responses = small_responses(3000, rng)
    full = _town(_analyse(np.random.default_rng(1), responses=responses, area=MUNICIPALITY))
    fewer = responses.drop(columns=["prob_drogen", "prob_vermuellung"])
    reduced = _town(_analyse(np.random.default_rng(1), responses=fewer, area=MUNICIPALITY))
    for column in ("perceived_score", "registered_score", "felt_state", "registered_state"):
        assert reduced.loc["graffiti", column] == full.loc["graffiti", column]
    assert reduced.loc["gewalt", "quadrant"] == full.loc["gewalt", "quadrant"]


def test_removing_a_fields_survey_item_does_not_lift_it(rng: np.random.Generator) -> None:
    responses = small_responses(3000, rng)
    full = _town(_analyse(np.random.default_rng(1), responses=responses, area=MUNICIPALITY))
    without = responses.drop(columns=["prob_gewalt"])
    reduced = _town(_analyse(np.random.default_rng(1), responses=without, area=MUNICIPALITY))
    if full.loc["gewalt", "perceived_score"] < 0.5:
        assert reduced.loc["gewalt", "priority"] >= full.loc["gewalt", "priority"]
    else:
        assert reduced.loc["gewalt", "priority"] <= full.loc["gewalt", "priority"]
    assert "Befragungsseite neutral gewertet" in reduced.loc["gewalt", "reason"]


# --- volume, change, no silent failure ---------------------------------------------------------


def test_excess_cases_and_change_over_time_are_in_the_ranking(rng: np.random.Generator) -> None:
    incidents = small_incidents(rng, years=(2023, 2024))
    population = pd.concat([small_population(2023), small_population(2024)])
    town = _town(_analyse(rng, incidents=incidents, population=population, area=MUNICIPALITY))
    graffiti = town.loc["graffiti"]
    assert graffiti["excess"] == pytest.approx(graffiti["cases"] - graffiti["expected"])
    assert graffiti["excess_low"] < graffiti["excess"] < graffiti["excess_high"]
    assert "Fälle mehr als erwartet" in graffiti["reason"]
    assert graffiti["change_method"] == "rate_ratio"
    assert graffiti["change_years"] == "2024 / 2023"
    assert np.isnan(graffiti["yearly_pct"])  # two years carry no trend


def test_an_unranked_field_says_why_never_none(rng: np.random.Generator) -> None:
    ranking = _analyse(rng, area=MUNICIPALITY)
    unranked = ranking[ranking["rank"].isna()]
    assert len(unranked)
    assert unranked["unranked_reason"].notna().all()
    assert not unranked["reason"].str.contains("None|nan").any()


def test_all_dont_know_is_said_as_such_not_as_fewer_than_five(rng: np.random.Generator) -> None:
    responses = small_responses(200, rng)
    responses["prob_drogen"] = 9  # everyone: "weiß nicht"
    town = _town(_analyse(rng, responses=responses, area=MUNICIPALITY))
    drugs = town.loc["drogen"]
    assert "weiß nicht" in drugs["reason"]
    assert "weniger als 5" not in drugs["reason"]
    assert not drugs["suppressed"]


def test_a_weighting_that_cannot_reach_its_margins_is_reported(rng: np.random.Generator) -> None:
    responses = small_responses(400, rng)
    responses["sex"] = 1  # nobody answered "m": the male half of the town cannot be reached
    result = analyse(
        small_questionnaire(),
        responses,
        catalogue=small_catalogue(),
        incidents=small_incidents(rng),
        population=small_population(),
        area=MUNICIPALITY,
        rng=np.random.default_rng(3),
        draws=400,
    )
    keys = [w.key for w in result.warnings]
    assert "scoring.warning.margin_not_reached" in keys
    warning = next(w for w in result.warnings if w.key == "scoring.warning.margin_not_reached")
    assert "statt" in warning.render("de")
    assert warning.severity == "warning"


def test_a_field_without_its_keys_is_a_warning(rng: np.random.Generator) -> None:
    incidents = small_incidents(rng)
    incidents = incidents[incidents["key"] != "674000"]
    result = analyse(
        small_questionnaire(),
        small_responses(500, rng),
        catalogue=small_catalogue(),
        incidents=incidents,
        population=small_population(),
        area=MUNICIPALITY,
        rng=np.random.default_rng(3),
        draws=400,
    )
    missing = [w for w in result.warnings if w.key == "scoring.warning.field_keys_missing"]
    assert any(w.location.field == "sachbeschaedigung" for w in missing)


def test_an_uploaded_population_is_merged_with_the_derived_one_and_listed(
    rng: np.random.Generator,
) -> None:
    """Adding --population used to replace the BKA-derived populations: the other areas
    dropped out and every SIR was 1.0."""
    from app import merged_population

    derived = small_population()
    derived = derived[derived["sex"].isna()].drop(columns=["sex", "age_group"])
    uploaded = derived[derived["area"] == MUNICIPALITY].assign(population=61_000.0)
    merged = merged_population(uploaded, derived)
    assert merged is not None
    assert set(merged["area"]) == set(derived["area"])
    assert merged.loc[merged["area"] == MUNICIPALITY, "population"].tolist() == [61_000.0]
    result = analyse(
        small_questionnaire(),
        small_responses(500, rng),
        catalogue=small_catalogue(),
        incidents=small_incidents(rng),
        population=merged,
        area=MUNICIPALITY,
        rng=np.random.default_rng(3),
        draws=400,
    )
    town = _town(result.ranking)
    assert town.loc["graffiti", "sir"] > 1.5  # the reference is still there
    note = next(w for w in result.warnings if w.key == "scoring.warning.population_sources")
    assert MUNICIPALITY in note.params["uploaded"]
    assert LAND in note.params["derived"]


def test_a_chosen_set_of_reference_areas(rng: np.random.Generator) -> None:
    """E.g. the other municipalities of the Kreis: the town against their pooled rate."""
    rows = [(f"14{i:03d}", 2024, "899500", 300 + 10 * i) for i in range(6)]
    rows.append((MUNICIPALITY, 2024, "899500", 200))
    people = [(a, 2024, None, None, 200_000.0) for a, *_ in rows[:-1]]
    people.append((MUNICIPALITY, 2024, None, None, 60_000.0))
    incidents = pd.DataFrame(rows, columns=["area", "year", "key", "count"])
    population = pd.DataFrame(people, columns=["area", "year", "sex", "age_group", "population"])
    town = _town(
        _analyse(
            rng,
            incidents=incidents,
            population=population,
            area=MUNICIPALITY,
            reference="14000, 14001,14002",
        )
    )
    graffiti = town.loc["graffiti"]
    assert graffiti["reference_population"] == pytest.approx(600_000.0)
    expected_rate = (300 + 310 + 320) / 600_000
    assert graffiti["sir"] == pytest.approx((200 / 60_000) / expected_rate)
