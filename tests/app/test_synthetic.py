"""Synthetic responses, incidents and population, and the demo municipality built from them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from app import (
    DEMO,
    SyntheticArea,
    demo_data,
    demo_questionnaire_text,
    synthetic_incidents,
    synthetic_population,
    synthetic_responses,
)
from core import InvalidInput
from survey import (
    RESPONSE_META_COLUMNS,
    ActionFieldCatalogue,
    Questionnaire,
    load_action_fields,
    load_questionnaire,
    load_questionnaire_text,
)
from tests.conftest import DEFAULT_QUESTIONNAIRE


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return load_questionnaire(DEFAULT_QUESTIONNAIRE)


@pytest.fixture(scope="module")
def catalogue() -> ActionFieldCatalogue:
    return load_action_fields()


@pytest.fixture
def responses(questionnaire: Questionnaire, rng: np.random.Generator) -> pd.DataFrame:
    return synthetic_responses(questionnaire, 3000, rng)


def _top_share(frame: pd.DataFrame, column: str, top: list[int]) -> float:
    values = frame[column].dropna()
    values = values[values < 9]
    return float(values.isin(top).mean())


# --- responses --------------------------------------------------------------------------------


def test_responses_have_the_codebook_layout(
    questionnaire: Questionnaire, responses: pd.DataFrame
) -> None:
    assert responses.shape == (3000, len(RESPONSE_META_COLUMNS) + len(questionnaire.variables()))
    assert list(responses.columns) == [
        *RESPONSE_META_COLUMNS,
        *(v.id for v in questionnaire.variables()),
    ]
    assert responses["response_id"].is_unique
    assert (responses["questionnaire_id"] == "sicherheitsbefragung").all()
    assert (responses["questionnaire_revision"] == questionnaire.revision).all()
    assert set(responses["language"]) <= {"de", "en"}


def test_submission_dates_are_days_within_the_survey_period(
    questionnaire: Questionnaire, rng: np.random.Generator
) -> None:
    start = date(2026, 5, 4)
    frame = synthetic_responses(questionnaire, 500, rng, start=start, days=10)
    dates = frame["submitted_on"]
    assert all(type(d) is date for d in dates)
    assert dates.min() >= start
    assert dates.max() <= start + timedelta(days=9)


def test_answers_are_codes_of_their_scales(
    questionnaire: Questionnaire, responses: pd.DataFrame
) -> None:
    for variable in questionnaire.variables():
        values = set(responses[variable.id].dropna())
        if variable.kind in ("single", "statement"):
            assert values <= {o.code for o in variable.options}, variable.id
            assert values, variable.id
        elif variable.kind in ("yesno", "multi_option"):
            assert values <= {0, 1}, variable.id
        elif variable.kind == "number":
            item = questionnaire.item(variable.item_id)
            assert min(values) >= item.min  # type: ignore[union-attr]
            assert max(values) <= item.max  # type: ignore[union-attr]
        elif variable.kind == "text":
            assert all(isinstance(v, str) and v for v in values), variable.id


def test_district_codes_stay_text(responses: pd.DataFrame) -> None:
    assert set(responses["district"].dropna()) == {"01", "02", "03", "04", "05", "06"}


def test_follow_ups_are_missing_unless_the_filter_says_yes(responses: pd.DataFrame) -> None:
    for trigger in ("vict_theft", "vict_burglary", "vict_assault"):
        follow_up = responses[f"{trigger}_reported"]
        said_yes = responses[trigger] == 1
        assert follow_up[~said_yes.fillna(False)].isna().all()
        assert follow_up[said_yes.fillna(False)].notna().any()
    avoided = (responses["avoid_places"] == 1).fillna(False)
    assert responses.loc[~avoided, "avoid_places_where"].isna().all()
    assert responses.loc[avoided, "avoid_places_where"].notna().any()


def test_consent_is_always_given(responses: pd.DataFrame) -> None:
    assert (responses["consent"] == 1).all()


def test_fields_differ_so_that_a_ranking_is_interesting(responses: pd.DataFrame) -> None:
    litter = _top_share(responses, "prob_litter", [3, 4])
    arson = _top_share(responses, "prob_arson", [3, 4])
    assert litter - arson > 0.3
    # Non-substantive answers exist but stay a minority.
    dont_know = (responses["prob_extremism"] == 9).mean()
    assert 0.02 < dont_know < 0.3


def test_reproducible_with_the_same_seed(questionnaire: Questionnaire) -> None:
    first = synthetic_responses(questionnaire, 400, np.random.default_rng(7))
    again = synthetic_responses(questionnaire, 400, np.random.default_rng(7))
    other = synthetic_responses(questionnaire, 400, np.random.default_rng(8))
    pd.testing.assert_frame_equal(first, again)
    assert not first.drop(columns="response_id").equals(other.drop(columns="response_id"))


def test_district_weights_and_effects_shape_the_sample(
    questionnaire: Questionnaire, rng: np.random.Generator
) -> None:
    frame = synthetic_responses(
        questionnaire,
        6000,
        rng,
        district_weights={"01": 3, "02": 1, "03": 1, "04": 1, "05": 1, "06": 0},
        district_effects={"05": {"drogen": 1.5}},
    )
    shares = frame["district"].value_counts(normalize=True)
    assert "06" not in shares.index
    assert shares["01"] == pytest.approx(3 / 7, abs=0.03)
    in_05 = frame[frame["district"] == "05"]
    elsewhere = frame[frame["district"] != "05"]
    assert _top_share(in_05, "prob_drugs", [3, 4]) > _top_share(elsewhere, "prob_drugs", [3, 4])


def test_show_if_is_evaluated_as_the_form_does(rng: np.random.Generator) -> None:
    options = [{"code": c, "label": {"de": f"o{c}"}} for c in (1, 2, 3)]
    questionnaire = Questionnaire.model_validate(
        {
            "meta": {"id": "t", "version": "1", "title": {"de": "T"}},
            "sections": [
                {
                    "id": "s",
                    "title": {"de": "S"},
                    "items": [
                        {"id": "m", "kind": "multi", "label": {"de": "M"}, "options": options},
                        {"id": "a", "kind": "single", "label": {"de": "A"}, "options": options},
                        {
                            "id": "if_selected",
                            "kind": "yesno",
                            "label": {"de": "x"},
                            "show_if": "selected(m, 3)",
                        },
                        {
                            "id": "if_both",
                            "kind": "yesno",
                            "label": {"de": "x"},
                            "show_if": "a >= 2 and not selected(m, 1)",
                        },
                        {
                            "id": "if_answered",
                            "kind": "yesno",
                            "label": {"de": "x"},
                            "show_if": "answered(a) or a == 1",
                        },
                        {
                            # Parentheses and functions: the old regex reading showed it to all.
                            "id": "if_nested",
                            "kind": "yesno",
                            "label": {"de": "x"},
                            "show_if": "(a == 1 or a == 3) and count_selected(m) >= 2",
                        },
                    ],
                }
            ],
        }
    )
    frame = synthetic_responses(questionnaire, 2000, rng)
    assert frame.loc[frame["m__3"] != 1, "if_selected"].isna().all()
    # ``selected`` on an unanswered item is false, so ``not selected(...)`` is true there.
    shown = (frame["a"] >= 2).fillna(False) & ~(frame["m__1"] == 1).fillna(False)
    hidden = ~shown
    assert frame.loc[hidden, "if_both"].isna().all()
    assert frame.loc[~hidden, "if_both"].notna().any()
    assert frame.loc[frame["a"].isna(), "if_answered"].isna().all()
    ticked = frame[["m__1", "m__2", "m__3"]].sum(axis=1)
    nested = (frame["a"].isin([1, 3]) & (ticked >= 2)).fillna(False)
    assert frame.loc[~nested, "if_nested"].isna().all()
    assert frame.loc[nested, "if_nested"].notna().any()


def test_codes_are_stored_compactly(questionnaire: Questionnaire, responses: pd.DataFrame) -> None:
    # A million responses × 80 variables must fit in memory next to the scoring.
    for variable in questionnaire.variables():
        if variable.kind in ("yesno", "multi_option", "statement") or variable.id == "safe_night":
            assert responses[variable.id].dtype == "Int8", variable.id


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ({"n": -1}, "synthetic.negative_count"),
        ({"days": 0}, "synthetic.negative_count"),
        ({"district_weights": {"07": 1.0}}, "synthetic.unknown_district"),
        ({"district_effects": {"99": {"drogen": 1.0}}}, "synthetic.unknown_district"),
        ({"district_weights": {"01": -1.0, "02": 2.0}}, "synthetic.bad_weights"),
        ({"district_weights": {"01": 0.0}}, "synthetic.bad_weights"),
    ],
)
def test_bad_response_arguments_are_reported(
    questionnaire: Questionnaire,
    rng: np.random.Generator,
    arguments: dict[str, object],
    key: str,
) -> None:
    n = arguments.pop("n", 10)
    with pytest.raises(InvalidInput) as caught:
        synthetic_responses(questionnaire, n, rng, **arguments)  # type: ignore[arg-type]
    assert [p.key for p in caught.value.problems] == [key]
    assert caught.value.render("de")


# --- incidents and population -----------------------------------------------------------------


@pytest.fixture
def areas() -> list[SyntheticArea]:
    return DEMO.areas()


def test_incidents_cover_every_key_area_and_year(
    areas: list[SyntheticArea], catalogue: ActionFieldCatalogue, rng: np.random.Generator
) -> None:
    frame = synthetic_incidents(areas, [2023, 2024, 2025], rng, catalogue)
    assert list(frame.columns) == ["area", "area_name", "year", "key", "count"]
    keys: set[str] = set().union(
        *(f.keys() for f in catalogue.fields),
        *(b.keys() for f in catalogue.fields for b in f.breakdowns),
    )
    assert set(frame["key"]) == keys
    assert {"ordnungsamt_vermuellung", "pmk_insgesamt", "674000", "899500"} <= keys
    assert len(frame) == len(areas) * 3 * len(keys)
    assert (frame["count"] >= 0).all()
    assert not frame.duplicated(["area", "year", "key"]).any()


def test_nested_keys_stay_consistent(
    areas: list[SyntheticArea], catalogue: ActionFieldCatalogue, rng: np.random.Generator
) -> None:
    frame = synthetic_incidents(areas, [2024, 2025], rng, catalogue)
    wide = frame.pivot_table(index=["area", "year"], columns="key", values="count")
    assert (wide["674000"] >= wide["899500"]).all()
    assert (wide["****00"] >= wide["435*00"]).all()


def test_the_municipality_counts_the_sum_of_its_districts(
    areas: list[SyntheticArea], catalogue: ActionFieldCatalogue, rng: np.random.Generator
) -> None:
    frame = synthetic_incidents(areas, [2025], rng, catalogue)
    districts = frame[frame["area"].isin(DEMO.district_codes())]
    city = frame[frame["area"] == DEMO.ags].set_index("key")["count"]
    summed = districts.groupby("key")["count"].sum()
    pd.testing.assert_series_equal(summed.sort_index(), city.sort_index(), check_names=False)


def test_risky_districts_have_higher_rates(
    areas: list[SyntheticArea], catalogue: ActionFieldCatalogue, rng: np.random.Generator
) -> None:
    frame = synthetic_incidents(areas, [2023, 2024, 2025], rng, catalogue)
    population = {a.area: a.residents for a in areas}
    drugs = frame[frame["key"] == "730000"].groupby("area")["count"].sum()
    rate = drugs / pd.Series(population)
    assert rate["05"] > 2 * rate[DEMO.reference.area]


def test_population_has_totals_and_margins(
    areas: list[SyntheticArea], questionnaire: Questionnaire, rng: np.random.Generator
) -> None:
    frame = synthetic_population(areas, [2024, 2025], rng)
    assert list(frame.columns) == ["area", "area_name", "year", "sex", "age_group", "population"]
    totals = frame[frame["sex"].isna() & frame["age_group"].isna()]
    assert len(totals) == len(areas) * 2
    assert not totals.duplicated(["area", "year"]).any()
    by_area = totals[totals["year"] == 2025].set_index("area")["population"]
    assert by_area[DEMO.ags] == sum(by_area[c] for c in DEMO.district_codes())
    margins = frame[frame["sex"].notna()]
    sex_codes = {
        str(c) for c in questionnaire.scale_of(questionnaire.item("sex")).substantive_codes()
    }  # type: ignore[arg-type]
    age_codes = {
        str(c)
        for c in questionnaire.scale_of(questionnaire.item("age_group")).substantive_codes()  # type: ignore[arg-type]
    }
    assert set(margins["sex"]) == sex_codes
    assert set(margins["age_group"]) == age_codes
    for area in (DEMO.ags, *DEMO.district_codes()):
        cells = margins[(margins["area"] == area) & (margins["year"] == 2025)]
        assert len(cells) == len(sex_codes) * len(age_codes)
        assert cells["population"].sum() < by_area[area]  # 16+ only


def test_incidents_and_population_are_reproducible(
    areas: list[SyntheticArea], catalogue: ActionFieldCatalogue
) -> None:
    one = synthetic_incidents(areas, [2025], np.random.default_rng(3), catalogue)
    two = synthetic_incidents(areas, [2025], np.random.default_rng(3), catalogue)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(
        synthetic_population(areas, [2025], np.random.default_rng(3)),
        synthetic_population(areas, [2025], np.random.default_rng(3)),
    )


@pytest.mark.parametrize(
    ("areas", "years", "key"),
    [
        ([SyntheticArea("1", "A", 10)], [], "synthetic.no_years"),
        (
            [SyntheticArea("1", "A", 10), SyntheticArea("1", "B", 5)],
            [2025],
            "synthetic.duplicate_area",
        ),
        ([SyntheticArea("1", "A", -5)], [2025], "synthetic.negative_count"),
        ([SyntheticArea("1", "A", 10, parent="9")], [2025], "synthetic.unknown_parent"),
    ],
)
def test_bad_areas_are_reported(
    areas: list[SyntheticArea],
    years: list[int],
    key: str,
    catalogue: ActionFieldCatalogue,
    rng: np.random.Generator,
) -> None:
    for generate in (
        lambda: synthetic_incidents(areas, years, rng, catalogue),
        lambda: synthetic_population(areas, years, rng),
    ):
        with pytest.raises(InvalidInput) as caught:
            generate()
        assert [p.key for p in caught.value.problems] == [key]


# --- the demo municipality --------------------------------------------------------------------


def test_demo_is_fictitious_and_matches_the_questionnaire(questionnaire: Questionnaire) -> None:
    assert DEMO.name == "Musterstadt (DEMO)"
    assert DEMO.ags.startswith("99")
    assert DEMO.reference.area.startswith("99")
    assert DEMO.district_codes() == questionnaire.scales["districts"].substantive_codes()
    assert len(DEMO.years) == 3


def test_demo_data_is_a_full_analysis_input(
    questionnaire: Questionnaire, catalogue: ActionFieldCatalogue
) -> None:
    data = demo_data(questionnaire, catalogue)
    assert len(data.responses) == DEMO.responses
    assert set(data.responses["district"].dropna()) == set(DEMO.district_codes())
    assert set(data.incidents["year"]) == set(DEMO.years)
    assert set(data.population["area"]) == {DEMO.ags, DEMO.reference.area, *DEMO.district_codes()}
    again = demo_data(questionnaire, catalogue)
    pd.testing.assert_frame_equal(data.responses, again.responses)
    pd.testing.assert_frame_equal(data.incidents, again.incidents)


def test_the_demo_questionnaire_names_the_demo_municipality() -> None:
    source = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8")
    text = demo_questionnaire_text(source)
    demo = load_questionnaire_text(text, "demo.yaml")
    assert demo.meta.municipality == DEMO.name
    assert demo.meta.area == DEMO.ags
    assert demo.meta.reference_area == DEMO.reference.area
    # Only the three lines are added, so the text stays as the municipality wrote it.
    assert len(text.splitlines()) == len(source.splitlines()) + 3
    again = load_questionnaire_text(demo_questionnaire_text(text), "demo.yaml")
    assert again.meta.area == DEMO.ags
