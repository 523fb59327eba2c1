"""Privacy audit (docs/privacy.md): the ranking CSV of ``score`` publishes no survey figure of
a district with fewer than 5 respondents, not even the count."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from survey import MIN_CELL_SIZE
from tests.cli.test_score_cli import MUNICIPALITY, _score, files  # noqa: F401  (fixture)


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
