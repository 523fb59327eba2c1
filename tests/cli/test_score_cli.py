"""End to end: ``sicherheitsanalyse score`` with the default questionnaire, synthetic responses
and synthetic incidents in the tidy and in the BKA layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from app import SyntheticArea, synthetic_incidents, synthetic_population, synthetic_responses
from cli import app
from core import t
from reporting import responses_csv
from survey import load_action_fields, load_questionnaire
from tests.conftest import DEFAULT_QUESTIONNAIRE
from tests.sources.bka import write_bka_table

MUNICIPALITY = "99999000"
LAND = "99"
CODES = ("01", "02", "03", "04", "05", "06")
REQUIRED = [
    "area",
    "field",
    "rank",
    "rank_low",
    "rank_high",
    "priority",
    "quadrant",
    "cases",
    "population",
    "rate_per_100k",
    "rate_ci_low",
    "rate_ci_high",
    "reference_rate",
    "sir",
    "sir_ci_low",
    "sir_ci_high",
    "sir_p",
    "excess",
    "sir_shrunk",
    "registered_state",
    "share_problem",
    "share_ci_low",
    "share_ci_high",
    "n_respondents",
    "suppressed",
    "reason",
]


def _areas() -> list[SyntheticArea]:
    adults = {(s, a): 400 + 100 * int(a) for s in ("1", "2") for a in ("1", "2", "3", "4")}
    districts = [
        SyntheticArea(
            area=code,
            name=f"Bezirk {code}",
            residents=5000 + 1000 * i,
            risk={"graffiti": 2.5} if code == "01" else {},
            adults=adults,
            parent=MUNICIPALITY,
        )
        for i, code in enumerate(CODES)
    ]
    return [
        SyntheticArea(area=MUNICIPALITY, name="Musterstadt", residents=0),
        *districts,
        SyntheticArea(area=LAND, name="Referenzland", residents=4_000_000),
    ]


@pytest.fixture
def files(tmp_path: Path, rng: np.random.Generator) -> dict[str, Path]:
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    catalogue = load_action_fields()
    responses = synthetic_responses(questionnaire, 1500, rng)
    areas = _areas()
    incidents = synthetic_incidents(areas, [2024, 2025], rng, catalogue)
    population = synthetic_population(areas, [2024, 2025], rng)
    paths = {
        "responses": tmp_path / "responses.csv",
        "incidents": tmp_path / "incidents.csv",
        "population": tmp_path / "population.csv",
        "bka": tmp_path / "bka.csv",
    }
    responses.to_csv(paths["responses"], sep=";", index=False)
    incidents[["area", "year", "key", "count"]].to_csv(paths["incidents"], sep=";", index=False)
    population.to_csv(paths["population"], sep=";", index=False)
    # The PKS has no littering or extremism keys (those come from other offices).
    pks = incidents["key"].astype(str).str.fullmatch(r"[0-9*]{6}")
    latest = incidents[(incidents["year"] == 2025) & pks]
    totals = latest.groupby(["area", "area_name", "year"], as_index=False)["count"].sum()
    totals["key"] = "------"
    totals["count"] = totals["count"] * 3
    bka = pd.concat([latest, totals[latest.columns]], ignore_index=True)
    write_bka_table(paths["bka"], bka, population[population["sex"].isna()])
    return paths


def _score(files: dict[str, Path], out: Path, *extra: str) -> object:
    return CliRunner().invoke(
        app,
        [
            "score",
            "--questionnaire",
            str(DEFAULT_QUESTIONNAIRE),
            "--responses",
            str(files["responses"]),
            "--out",
            str(out),
            "--seed",
            "1",
            "--draws",
            "300",
            "--lang",
            "en",
            *extra,
        ],
    )


def _check_ranking(out: Path) -> pd.DataFrame:
    ranking = pd.read_csv(out, dtype={"area": str})
    assert list(ranking.columns[: len(REQUIRED)]) != []
    assert set(REQUIRED) <= set(ranking.columns)
    assert list(ranking["area"].unique()) == [MUNICIPALITY, *CODES]
    assert len(ranking) == 7 * 8
    assert ranking["share_problem"].dropna().between(0, 1).all()
    city = ranking[ranking["area"] == MUNICIPALITY].set_index("field")
    assert city.loc["graffiti", "sir"] > 1
    assert ranking.loc[ranking["area"] == "01"].set_index("field").loc["graffiti", "sir"] > 1.5
    assert city["rank"].notna().all()
    return ranking


def test_tidy_layout_with_population(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ranking.csv"
    result = _score(
        files,
        out,
        "--incidents",
        str(files["incidents"]),
        "--population",
        str(files["population"]),
        "--area",
        MUNICIPALITY,
        "--reference",
        LAND,
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    ranking = _check_ranking(out)
    city = ranking[ranking["area"] == MUNICIPALITY].set_index("field")
    assert city.loc["graffiti", "rate_per_100k"] == pytest.approx(
        1e5 * city.loc["graffiti", "cases"] / city.loc["graffiti", "population"]
    )
    assert (ranking["year"] == 2025).all()


def test_reads_the_responses_export(files: dict[str, Path], tmp_path: Path) -> None:
    """The responses CSV as the export writes it (UTF-8 BOM, ``;``, decimal comma)."""
    frame = pd.read_csv(files["responses"], sep=";", dtype=str)
    exported = tmp_path / "export.csv"
    exported.write_bytes(responses_csv(frame))
    out = tmp_path / "ranking.csv"
    result = _score(
        {**files, "responses": exported},
        out,
        "--incidents",
        str(files["incidents"]),
        "--population",
        str(files["population"]),
        "--area",
        MUNICIPALITY,
        "--reference",
        LAND,
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    _check_ranking(out)


def test_bka_layout_with_derived_population(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ranking.csv"
    result = _score(
        files, out, "--incidents", str(files["bka"]), "--area", MUNICIPALITY, "--reference", LAND
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    ranking = _check_ranking(out)
    # Littering and extremism have no PKS keys: ranked on the survey, never as zero.
    littering = ranking[ranking["area"] == MUNICIPALITY].set_index("field").loc["vermuellung"]
    assert pd.isna(littering["sir"])
    assert littering["priority"] > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"responses": "missing.csv"}, "File not found"),
        ({"area": "12345678"}, "not in the incident or population data"),
        ({"reference": "77"}, "Reference area 77"),
        ({"year": "1999"}, "Year 1999"),
        ({"bad_value": "x"}, "is not an answer code"),
        # The responses file is read as the uploads are (sources.read_response_table), so
        # its file-level problems are the uploads' messages.
        ({"binary": "x"}, "Unknown character encoding"),
        ({"empty": "x"}, "header but no data rows"),
        ({"weights": "x"}, "Invalid weights"),
    ],
)
def test_bad_input_exits_cleanly(
    files: dict[str, Path], tmp_path: Path, change: dict[str, str], message: str
) -> None:
    out = tmp_path / "ranking.csv"
    args = {"area": MUNICIPALITY, "reference": LAND, "year": None}
    args.update({k: v for k, v in change.items() if k in args})
    if "responses" in change:
        files = {**files, "responses": tmp_path / change["responses"]}
    if "bad_value" in change:
        frame = pd.read_csv(files["responses"], sep=";", dtype=str)
        frame.loc[3, "safe_night"] = "sehr"
        frame.to_csv(files["responses"], sep=";", index=False)
    if "binary" in change:
        files["responses"].write_bytes(b"\x00\x01PK\x03\x04" * 20)
    if "empty" in change:
        header = files["responses"].read_text("utf-8").splitlines()[0]
        files["responses"].write_text(header + "\n", "utf-8")
    extra = ["--incidents", str(files["incidents"]), "--population", str(files["population"])]
    if "weights" in change:
        extra += ["--weight-perceived", "-1"]
    for key in ("area", "reference", "year"):
        if args[key] is not None:
            extra += [f"--{key}", str(args[key])]
    result = _score(files, out, *extra)
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    assert message in output
    assert "Traceback" not in output
    assert not out.exists()


def test_unwritable_output_is_a_clean_error(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "no such folder" / "ranking.csv"
    result = _score(files, out, "--area", MUNICIPALITY)
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    assert "cannot be written" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_problem_is_the_message_then_the_command_line_hint(
    files: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    # Incidents without any population: scoring names the concept, the CLI the option.
    out = tmp_path / "ranking.csv"
    result = _score(
        files, out, "--incidents", str(files["incidents"]), "--area", MUNICIPALITY, "--lang", lang
    )
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    message = t("scoring.population_missing", lang, areas="")
    hint = t("cli.hint.scoring.population_missing", lang)
    line = next(line for line in output.splitlines() if hint in line)
    assert message.split("(")[0] in line
    assert line.index(message.split("(")[0]) < line.index(hint)
    assert "--population" in hint
    assert not out.exists()


def test_reads_the_responses_from_a_workbook_too(files: dict[str, Path], tmp_path: Path) -> None:
    # Read through sources.read_response_table, the responses may be an XLSX workbook as
    # on the upload page; the ranking is the same as from the CSV file.
    frame = pd.read_csv(files["responses"], sep=";", dtype=str, keep_default_na=False)
    workbook = tmp_path / "responses.xlsx"
    frame.to_excel(workbook, index=False)
    extra = ["--incidents", str(files["incidents"]), "--population", str(files["population"])]
    extra += ["--area", MUNICIPALITY, "--reference", LAND]
    from_csv, from_xlsx = tmp_path / "csv.csv", tmp_path / "xlsx.csv"
    assert _score(files, from_csv, *extra).exit_code == 0  # type: ignore[attr-defined]
    result = _score({**files, "responses": workbook}, from_xlsx, *extra)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert from_csv.read_bytes() == from_xlsx.read_bytes()


def test_the_report_from_files_like_score(files: dict[str, Path], tmp_path: Path) -> None:
    """`report` reads the same files as `score` when --responses is given: no database."""
    import docx

    out = tmp_path / "bericht.docx"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--questionnaire",
            str(DEFAULT_QUESTIONNAIRE),
            "--responses",
            str(files["responses"]),
            "--incidents",
            str(files["incidents"]),
            "--population",
            str(files["population"]),
            "--area",
            MUNICIPALITY,
            "--reference",
            LAND,
            "--out",
            str(out),
            "--database-url",
            f"sqlite:///{tmp_path / 'never-created.db'}",
        ],
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    headings = [
        p.text for p in docx.Document(str(out)).paragraphs if p.style.name.startswith("Heading")
    ]
    assert any("Prioritäten" in h for h in headings)
    assert not (tmp_path / "never-created.db").exists()


def test_a_perceived_reference_table_is_compared_with_and_named(
    files: dict[str, Path], tmp_path: Path
) -> None:
    reference = tmp_path / "befragung_2024.csv"
    reference.write_text("field;share\ngraffiti;45 %\ngewalt;10 %\n", encoding="utf-8")
    out = tmp_path / "ranking.csv"
    extra = ["--incidents", str(files["incidents"]), "--population", str(files["population"])]
    result = _score(files, out, *extra, "--area", MUNICIPALITY, "--reference", LAND,
                    "--perceived-reference", str(reference))  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    city = pd.read_csv(out, dtype={"area": str}).query("area == @MUNICIPALITY").set_index("field")
    assert city.loc["graffiti", "share_reference"] == pytest.approx(0.45)
    assert (
        "verglichen mit der Vergleichstabelle befragung_2024.csv (45 %)"
        in city.loc["graffiti", "reason"]
    )
    assert "verglichen mit dem Richtwert 25 %" in city.loc["drogen", "reason"]


def test_a_bad_perceived_reference_table_exits_with_the_row(
    files: dict[str, Path], tmp_path: Path
) -> None:
    reference = tmp_path / "ref.csv"
    reference.write_text("field;share\ngrafitti;0,45\n", encoding="utf-8")
    out = tmp_path / "ranking.csv"
    result = _score(files, out, "--incidents", str(files["incidents"]),
                    "--population", str(files["population"]), "--area", MUNICIPALITY,
                    "--perceived-reference", str(reference))  # fmt: skip
    assert result.exit_code == 1
    output = result.output  # type: ignore[attr-defined]
    assert f"{reference}:2:1" in output
    assert "graffiti" in output
    assert "Traceback" not in output
    assert not out.exists()
