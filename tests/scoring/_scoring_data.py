"""Small questionnaire and response fixtures for the scoring tests (no dependency on the default
questionnaire, so the pure functions are tested on data whose answer is known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from survey import ActionFieldCatalogue, Questionnaire


def _options(pairs: list[tuple[Any, str]], non_substantive: tuple[Any, ...] = ()) -> list[Any]:
    return [
        {"code": code, "label": {"de": label}, "non_substantive": code in non_substantive}
        for code, label in pairs
    ]


PROBLEM_FIELDS = ("graffiti", "gewalt", "vermuellung", "drogen")


def small_questionnaire() -> Questionnaire:
    """District, sex, age group, night safety, a problem battery, a worry and a victimisation item."""
    problem = _options(
        [(1, "kein"), (2, "gering"), (3, "ziemlich"), (4, "groß"), (9, "weiß nicht")], (9,)
    )
    return Questionnaire.model_validate(
        {
            "meta": {"id": "klein", "version": "1", "title": {"de": "Klein"}},
            "scales": {
                "problem": {"options": problem},
                "safety": {
                    "options": _options(
                        [
                            (1, "sehr sicher"),
                            (2, "eher sicher"),
                            (3, "eher unsicher"),
                            (4, "sehr unsicher"),
                            (8, "gehe nachts nicht aus"),
                        ],
                        (8,),
                    )
                },
                "districts": {"options": _options([("01", "Nord"), ("02", "Süd"), ("03", "Ost")])},
                "sex": {"options": _options([(1, "w"), (2, "m"), (3, "divers")], (3,))},
                "age": {"options": _options([(1, "16-34"), (2, "35-64"), (3, "65+")])},
            },
            "sections": [
                {
                    "id": "s1",
                    "title": {"de": "Teil 1"},
                    "items": [
                        {
                            "kind": "single",
                            "id": "district",
                            "label": {"de": "Stadtteil"},
                            "scale": "districts",
                            "design": "district",
                        },
                        {
                            "kind": "single",
                            "id": "sex",
                            "label": {"de": "Geschlecht"},
                            "scale": "sex",
                            "design": "sex",
                        },
                        {
                            "kind": "single",
                            "id": "age_group",
                            "label": {"de": "Alter"},
                            "scale": "age",
                            "design": "age_group",
                        },
                        {
                            "kind": "single",
                            "id": "safe_night",
                            "label": {"de": "Nachts"},
                            "scale": "safety",
                        },
                        {
                            "kind": "battery",
                            "id": "problems",
                            "label": {"de": "Probleme"},
                            "scale": "problem",
                            "statements": [
                                {
                                    "id": f"prob_{field}",
                                    "label": {"de": field},
                                    "tags": [{"field": field, "role": "problem"}],
                                }
                                for field in PROBLEM_FIELDS
                            ]
                            + [
                                {
                                    "id": "prob_graffiti_2",
                                    "label": {"de": "Schmierereien"},
                                    "tags": [{"field": "graffiti", "role": "problem"}],
                                }
                            ],
                        },
                        {
                            "kind": "single",
                            "id": "worry_diebstahl",
                            "label": {"de": "Sorge"},
                            "scale": "problem",
                            "tags": [{"field": "diebstahl", "role": "worry"}],
                        },
                        {
                            "kind": "yesno",
                            "id": "vict_diebstahl",
                            "label": {"de": "Opfer"},
                            "tags": [{"field": "diebstahl", "role": "victimisation"}],
                        },
                    ],
                }
            ],
        }
    )


def small_responses(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Random answers in the codebook layout of :func:`small_questionnaire`."""
    problem_codes = np.array([1, 2, 3, 4, 9])
    frame = pd.DataFrame(
        {
            "district": rng.choice(["01", "02", "03"], size=n, p=[0.5, 0.3, 0.2]),
            "sex": rng.choice([1, 2, 3], size=n, p=[0.6, 0.38, 0.02]),
            "age_group": rng.choice([1, 2, 3], size=n, p=[0.2, 0.5, 0.3]),
            "safe_night": rng.choice([1, 2, 3, 4, 8], size=n),
            "worry_diebstahl": rng.choice(problem_codes, size=n),
            "vict_diebstahl": rng.choice([0, 1], size=n, p=[0.9, 0.1]),
        }
    )
    for i, field in enumerate(PROBLEM_FIELDS):
        p = np.array([0.4, 0.3, 0.1, 0.1, 0.1])
        p[2 + (i % 2)] += 0.1 * i
        frame[f"prob_{field}"] = rng.choice(problem_codes, size=n, p=p / p.sum())
    frame["prob_graffiti_2"] = rng.choice(problem_codes, size=n)
    return frame


MUNICIPALITY = "14999000"
LAND = "14"
DISTRICT_AREAS = {code: f"{MUNICIPALITY}-{code}" for code in ("01", "02", "03")}

#: Cases per 100,000 in the Land, per PKS key (graffiti 899500 within 674000).
_LAND_RATES = {"899500": 150.0, "674000": 600.0, "892000": 200.0, "224000": 400.0, "730000": 350.0}


def small_incidents(rng: np.random.Generator, *, years: tuple[int, ...] = (2024,)) -> pd.DataFrame:
    """Tidy counts (area;year;key;count) for the Land, the municipality and its districts.

    The municipality has more graffiti (×2) and violence (×1.5) than the Land; no theft, arson,
    littering or extremism keys at all (those fields have no incident data).
    """
    populations = small_population()
    totals = populations[populations["sex"].isna()]
    district_share = {"01": 0.5, "02": 0.3, "03": 0.2}
    records = []
    for year in years:
        for key, rate in _LAND_RATES.items():
            land = int(totals.loc[totals["area"] == LAND, "population"].iloc[0])
            records.append((LAND, year, key, int(rng.poisson(rate * land / 1e5))))
            factor = {"899500": 2.0, "892000": 1.5, "224000": 1.5}.get(key, 1.0)
            city = int(totals.loc[totals["area"] == MUNICIPALITY, "population"].iloc[0])
            district_counts = {
                code: int(rng.poisson(factor * rate * city * share / 1e5))
                for code, share in district_share.items()
            }
            records.append((MUNICIPALITY, year, key, sum(district_counts.values())))
            for code, count in district_counts.items():
                records.append((DISTRICT_AREAS[code], year, key, count))
    frame = pd.DataFrame(records, columns=["area", "year", "key", "count"])
    # 674000 includes graffiti: keep the subtraction non-negative.
    graffiti = frame[frame["key"] == "899500"].set_index(["area", "year"])["count"]
    damage = frame["key"] == "674000"
    index = pd.MultiIndex.from_frame(frame.loc[damage, ["area", "year"]])
    frame.loc[damage, "count"] += graffiti.reindex(index).to_numpy()
    return frame


def small_population(year: int = 2024) -> pd.DataFrame:
    """Totals for the Land, the municipality and its districts, plus sex × age rows."""
    rows: list[tuple[str, int, object, object, float]] = [
        (LAND, year, None, None, 4_000_000.0),
        (MUNICIPALITY, year, None, None, 60_000.0),
        (DISTRICT_AREAS["01"], year, None, None, 30_000.0),
        (DISTRICT_AREAS["02"], year, None, None, 18_000.0),
        (DISTRICT_AREAS["03"], year, None, None, 12_000.0),
    ]
    cells = {
        (1, 1): 6_000,
        (1, 2): 14_000,
        (1, 3): 10_500,
        (2, 1): 6_500,
        (2, 2): 14_000,
        (2, 3): 9_000,
    }
    rows += [(MUNICIPALITY, year, str(s), str(a), float(p)) for (s, a), p in cells.items()]
    return pd.DataFrame(rows, columns=["area", "year", "sex", "age_group", "population"])


def small_catalogue() -> ActionFieldCatalogue:
    """The repository's action-field catalogue, read without the questionnaire loader."""
    path = Path(__file__).resolve().parents[2] / "questionnaires" / "action_fields.yaml"
    return ActionFieldCatalogue.model_validate(YAML(typ="safe").load(path.read_text("utf-8")))
