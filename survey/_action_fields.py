"""The action-field catalogue (Handlungsfelder) and how incident keys measure each field.

The catalogue is data (``questionnaires/action_fields.yaml``); this module is its model.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core import LocalizedText

#: PKS Straftatenschlüssel are six characters; ``*`` is a literal part of summary keys
#: such as ``****00`` (Diebstahl insgesamt) or ``435*00`` (Wohnungseinbruchdiebstahl).
PKS_KEY_PATTERN = re.compile(r"^[0-9*]{6}$")


def normalise_pks_key(value: object) -> str:
    """A PKS key as its six-character string (YAML or CSV may hand over ``899500`` as int)."""
    text = str(value).strip()
    if text.isdigit() and len(text) < 6:
        text = text.zfill(6)
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentMeasure(_Strict):
    """Cases of a field = sum of ``pks_keys`` − sum of ``pks_subtract`` + sum of ``source_keys``."""

    pks_keys: list[str] = Field(default_factory=list)
    pks_subtract: list[str] = Field(default_factory=list)
    #: Free keys for data outside the PKS (Ordnungsamt, PMK statistics ...).
    source_keys: list[str] = Field(default_factory=list)

    @field_validator("pks_keys", "pks_subtract", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> object:
        if isinstance(value, list):
            return [normalise_pks_key(v) for v in value]
        return value

    @field_validator("pks_keys", "pks_subtract")
    @classmethod
    def _check_pattern(cls, value: list[str]) -> list[str]:
        for key in value:
            if not PKS_KEY_PATTERN.match(key):
                raise ValueError(f"PKS key {key!r} must be six digits or '*'")
        return value

    def keys(self) -> set[str]:
        """Every key that contributes to this measure, added or subtracted."""
        return {*self.pks_keys, *self.pks_subtract, *self.source_keys}


class Breakdown(IncidentMeasure):
    """A named part of a field, e.g. burglary within theft."""

    id: str
    label: LocalizedText


class ActionField(IncidentMeasure):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: LocalizedText
    description: LocalizedText = Field(default_factory=dict)
    breakdowns: list[Breakdown] = Field(default_factory=list)
    #: Typical prevention measures per language, offered in the report's recommendations.
    typical_measures: dict[str, list[str]] = Field(default_factory=dict)


class ActionFieldCatalogue(_Strict):
    fields: list[ActionField] = Field(min_length=1)

    def ids(self) -> list[str]:
        return [f.id for f in self.fields]

    def get(self, field_id: str) -> ActionField:
        for field in self.fields:
            if field.id == field_id:
                return field
        raise KeyError(field_id)

    def __contains__(self, field_id: object) -> bool:
        return any(f.id == field_id for f in self.fields)
