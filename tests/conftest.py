"""Shared fixtures: a seeded rng, the repository paths, and database URLs for both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "questionnaires"
DEFAULT_QUESTIONNAIRE = QUESTIONNAIRES / "sicherheitsbefragung.yaml"
ACTION_FIELDS = QUESTIONNAIRES / "action_fields.yaml"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so every random test is reproducible."""
    return np.random.default_rng(20261124)
