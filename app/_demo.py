"""The demo municipality "Musterstadt (DEMO)": fictitious, clearly labelled, synthetic data.

The municipality is data (``app/demo_municipality.yaml``); :data:`DEMO` is that file,
loaded. :func:`demo_data` turns it into the three tables a fresh installation seeds: about 800
synthetic responses to the default questionnaire, incident counts for three years and the
population with its weighting margins.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from app._synthetic import (
    SyntheticArea,
    synthetic_incidents,
    synthetic_population,
    synthetic_responses,
)
from survey import ActionFieldCatalogue, Code, Design, Questionnaire

DEMO_FILE = Path(__file__).with_name("demo_municipality.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemoReference(_Strict):
    """The area the municipality is compared with (a fictitious Land)."""

    area: str
    name: str
    residents: int = Field(gt=0)


class DemoDistrict(_Strict):
    code: str
    name: str
    residents: int = Field(gt=0)
    #: Residents aged 16+ by sex code, then one number per age-group code 1, 2, 3, ...
    adults: dict[int, list[int]]
    response_propensity: float = Field(default=1.0, gt=0)
    incident_risk: dict[str, float] = Field(default_factory=dict)
    perceived: dict[str, float] = Field(default_factory=dict)

    def margins(self) -> dict[tuple[str, str], int]:
        """Population 16+ per (sex code, age-group code), codes as text."""
        return {
            (str(sex), str(age)): count
            for sex, counts in self.adults.items()
            for age, count in enumerate(counts, start=1)
        }


class DemoMunicipality(_Strict):
    name: str
    #: Amtlicher Gemeindeschlüssel; "99" is no Land, so it can never be a real municipality.
    ags: str = Field(pattern=r"^99[0-9]{6}$")
    years: list[int] = Field(min_length=1)
    survey_start: date
    survey_days: int = Field(gt=0)
    responses: int = Field(gt=0)
    seed: int
    reference: DemoReference
    #: Incidence of the whole municipality relative to the reference, per action field.
    incident_risk: dict[str, float] = Field(default_factory=dict)
    districts: list[DemoDistrict] = Field(min_length=1)

    @property
    def residents(self) -> int:
        return sum(d.residents for d in self.districts)

    def district_codes(self) -> list[str]:
        return [d.code for d in self.districts]

    def areas(self) -> list[SyntheticArea]:
        """The municipality, its districts (area key = district code) and the reference."""
        municipality = SyntheticArea(area=self.ags, name=self.name, residents=self.residents)
        districts = [
            SyntheticArea(
                area=d.code,
                name=d.name,
                residents=d.residents,
                risk={
                    f: self.incident_risk.get(f, 1.0) * d.incident_risk.get(f, 1.0)
                    for f in {*self.incident_risk, *d.incident_risk}
                },
                adults=d.margins(),
                parent=self.ags,
            )
            for d in self.districts
        ]
        reference = SyntheticArea(
            area=self.reference.area, name=self.reference.name, residents=self.reference.residents
        )
        return [municipality, *districts, reference]


def load_demo(path: Path = DEMO_FILE) -> DemoMunicipality:
    """Read the demo municipality (package data, so a failure is a packaging bug)."""
    yaml = YAML(typ="safe")
    return DemoMunicipality.model_validate(yaml.load(path.read_text(encoding="utf-8")))


DEMO: DemoMunicipality = load_demo()


def demo_questionnaire_text(source: str, demo: DemoMunicipality = DEMO) -> str:
    """``source`` (questionnaire YAML) with ``meta`` naming the demo municipality.

    The demo stores this text, so its revision hash matches what it says. The three keys are
    inserted below ``meta:`` so that the rest of the text stays as written; a source that
    already sets any of them is rewritten through the YAML round trip instead.
    """
    settings = {
        "municipality": demo.name,
        "area": demo.ags,
        "reference_area": demo.reference.area,
    }
    yaml = YAML(typ="rt")
    document = yaml.load(source)
    meta = document["meta"]
    lines = source.splitlines(keepends=True)
    if "meta:\n" in lines and not any(key in meta for key in settings):
        at = lines.index("meta:\n") + 1
        inserted = [f'  {key}: "{value}"\n' for key, value in settings.items()]
        return "".join([*lines[:at], *inserted, *lines[at:]])
    for key, value in settings.items():
        meta[key] = DoubleQuotedScalarString(value)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


@dataclass(frozen=True)
class DemoData:
    """The tables that make the demo municipality's analysis."""

    responses: pd.DataFrame
    incidents: pd.DataFrame
    population: pd.DataFrame


def demo_data(
    questionnaire: Questionnaire,
    catalogue: ActionFieldCatalogue,
    *,
    demo: DemoMunicipality = DEMO,
    rng: np.random.Generator | None = None,
) -> DemoData:
    """Synthetic responses, incidents and population for ``demo``.

    Respondents spread over the districts by residents × response propensity, so the sample
    needs weighting; the same seed (``demo.seed`` when ``rng`` is ``None``) gives the same data.
    """
    rng = rng if rng is not None else np.random.default_rng(demo.seed)
    known = set(_district_codes(questionnaire))
    weights: dict[Code, float] = {
        d.code: d.residents * d.response_propensity for d in demo.districts if d.code in known
    }
    effects: dict[Code, Mapping[str, float]] = {
        d.code: d.perceived for d in demo.districts if d.code in known
    }
    responses = synthetic_responses(
        questionnaire,
        demo.responses,
        rng,
        district_weights=weights or None,
        district_effects=effects or None,
        start=demo.survey_start,
        days=demo.survey_days,
    )
    areas = demo.areas()
    incidents = synthetic_incidents(areas, demo.years, rng, catalogue)
    population = synthetic_population(areas, demo.years, rng)
    return DemoData(responses=responses, incidents=incidents, population=population)


def _district_codes(questionnaire: Questionnaire) -> list[str]:
    return [
        str(code)
        for v in questionnaire.variables()
        if v.design == Design.DISTRICT and v.scale is not None
        for code in v.scale.substantive_codes()
    ]
