"""``sicherheitsanalyse --help`` speaks German by default and English with SICHERHEITSANALYSE_LANG=en.

The help texts are read when the command modules are imported, so each language runs in a
fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import LANGUAGE_ENV_VAR, UI_LANGUAGES, catalogue, t

ROOT = Path(__file__).resolve().parents[2]

#: Command path → the catalogue keys whose text its ``--help`` shows.
HELP_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    (): (
        "cli.help",
        "cli.codes.help",
        "cli.users.help",
        "cli.demo.help",
        "cli.responses.help",
        "cli.score.help",
        "installation.setup.help",
    ),
    ("score",): tuple(k for k in catalogue() if k.startswith("cli.score.")),
    ("codes", "create"): (
        "cli.codes.create.help",
        "cli.codes.count",
        "cli.codes.out",
        "cli.option.database_url",
        "cli.option.lang",
        "cli.option.questionnaire_id",
    ),
    ("users", "add"): ("cli.users.add.help", "cli.users.new_name", "cli.users.role"),
    ("responses", "import"): ("cli.responses.import.help", "installation.import.file_help"),
    ("setup",): ("cli.setup.questionnaires", "cli.setup.no_demo"),
}


def _help(path: tuple[str, ...], lang: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != LANGUAGE_ENV_VAR}
    if lang is not None:
        env[LANGUAGE_ENV_VAR] = lang
    env["COLUMNS"] = "1000"  # one line per help text, so a text is found whole
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "cli", *path, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", list(HELP_KEYS), ids=lambda p: " ".join(p) or "top")
def test_help_is_german_by_default(path: tuple[str, ...]) -> None:
    shown = _help(path, None)
    for key in HELP_KEYS[path]:
        assert _flat(t(key, "de")) in shown, key
        assert _flat(t(key, "en")) not in shown, key


@pytest.mark.parametrize("path", list(HELP_KEYS), ids=lambda p: " ".join(p) or "top")
def test_help_is_english_on_request(path: tuple[str, ...]) -> None:
    shown = _help(path, "en")
    for key in HELP_KEYS[path]:
        assert _flat(t(key, "en")) in shown, key
        assert _flat(t(key, "de")) not in shown, key


def test_every_cli_help_text_has_both_languages() -> None:
    keys = [k for k in catalogue() if k.startswith("cli.")]
    assert keys
    for key in keys:
        texts = {t(key, lang) for lang in UI_LANGUAGES}
        assert len(texts) == len(UI_LANGUAGES), key
