"""Privacy audit (docs/privacy.md): the ranking CSV of ``score`` publishes no survey figure of
a district with fewer than 5 respondents, not even the count; ``responses remove`` deletes a
questionnaire's responses, drafts and codes (DSGVO Art. 17, end of retention)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from app import demo_data
from cli import app
from core import MIN_CELL_SIZE
from survey import load_action_fields, load_questionnaire
from tests.cli.test_score_cli import MUNICIPALITY, _score, files  # noqa: F401  (fixture)
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.fixtures import municipality_store


def test_score_blanks_every_survey_cell_of_a_small_district(
    files: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    responses = pd.read_csv(files["responses"], sep=";", dtype=str)
    in_06 = responses.index[responses["district"] == "06"]
    responses.loc[in_06, "district"] = "05"
    responses.loc[responses.index[: MIN_CELL_SIZE - 1], "district"] = "06"
    responses.to_csv(files["responses"], sep=";", index=False)
    out = tmp_path / "ranking.csv"
    extra = ["--incidents", str(files["incidents"]), "--population", str(files["population"])]
    result = _score(files, out, *extra, "--area", MUNICIPALITY)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    ranking = pd.read_csv(out, dtype={"area": str})
    small = ranking[ranking["area"] == "06"]
    assert len(small)
    surveyed = small[small["suppressed"]]
    assert len(surveyed)
    for column in ("share_problem", "share_ci_low", "share_ci_high", "n_respondents"):
        assert surveyed[column].isna().all(), column
    large = ranking[ranking["area"] == "05"]
    assert (large["n_respondents"].dropna() >= MIN_CELL_SIZE).all()


def test_responses_remove_counts_first_and_deletes_everything_with_yes(database_url: str) -> None:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    with municipality_store(database_url) as store:
        store.publish_questionnaire(questionnaire, DEFAULT_QUESTIONNAIRE.read_text("utf-8"))
        frame = demo_data(questionnaire, load_action_fields()).responses.head(7)
        store.import_responses(questionnaire, frame)
        [code, _] = store.create_codes(questionnaire.id, 2).codes
        store.save_draft(questionnaire.id, code, {}, 1)
    base = ["responses", "remove", "--questionnaire", questionnaire.id]
    dry = CliRunner().invoke(app, [*base, "--database-url", database_url, "--lang", "en"])
    assert dry.exit_code == 0, dry.output
    assert "7 responses" in dry.output
    assert "--yes" in dry.output
    with municipality_store(database_url) as store:
        assert len(store.responses(questionnaire)) == 7
    done = CliRunner().invoke(app, [*base, "--yes", "--database-url", database_url])
    assert done.exit_code == 0, done.output
    assert "7 Antworten" in done.output
    with municipality_store(database_url) as store:
        assert store.responses(questionnaire).empty
        assert store.load_draft(questionnaire.id, code) is None
        assert store.code_batches(questionnaire.id) == []


def test_responses_remove_of_an_unknown_questionnaire_is_a_problem(sqlite_url: str) -> None:
    result = CliRunner().invoke(
        app, ["responses", "remove", "--questionnaire", "gibtsnicht", "--yes",
              "--database-url", sqlite_url]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "gibtsnicht" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
