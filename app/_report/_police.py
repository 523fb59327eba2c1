"""The chapters on registered crime, the districts, the ranking and the recommendations."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from app._report._context import (
    SHOWN,
    Context,
    category_names,
    chart_or_nothing,
    design_variable,
    share_bars,
    stated,
)
from app._workspace import area_names, trend_data
from core import (
    MIN_CELL_SIZE,
    format_integer,
    format_number,
    format_percent,
    t,
)
from reporting import (
    Bar,
    Block,
    Bullets,
    Paragraph,
    Point,
    Section,
    Table,
    quadrant_figure,
    ratio_figure,
)
from scoring import (
    Topic,
)
from survey import ActionFieldCatalogue, Design


def _excess(row: pd.Series, lang: str) -> str:
    """Excess cases with their interval (``+93 (61 bis 127)``), or a dash where none."""
    values = [row.get(k) for k in ("excess", "excess_low", "excess_high")]
    if any(v is None or pd.isna(v) for v in values):
        return "–"
    value, low, high = (float(v) for v in values)  # type: ignore[arg-type]
    sign = "+" if value >= 0 else "−"
    return (
        f"{sign}{format_integer(abs(value), lang)} "
        f"({format_integer(low, lang)}–{format_integer(high, lang)})"
    )


def police(context: Context) -> list[Section]:
    c, lang = context, context.lang
    rows = c.municipality_rows()
    rows = rows[rows["rate_per_100k"].notna()]
    if not len(rows) or c.analysis.year is None:
        return [
            Section(
                c.t("document.ch.police"), 1, (Paragraph(c.t("document.no_police"), "caution"),)
            )
        ]
    table_rows = tuple(
        (
            c.field(r["field"]),
            format_integer(r["cases"], lang),
            c.t(
                "document.rate_interval",
                value=format_number(r["rate_per_100k"], 0, lang),
                low=format_number(r["rate_ci_low"], 0, lang),
                high=format_number(r["rate_ci_high"], 0, lang),
            ),
            format_number(r["reference_rate"], 0, lang),
            c.ratio_interval(r["sir"], r["sir_ci_low"], r["sir_ci_high"]),
            _excess(r, lang),
        )
        for _, r in rows.iterrows()
    )
    bars = [
        Bar(
            c.field(r["field"]),
            float(r["sir"]),
            float(r["sir_ci_low"]),
            float(r["sir_ci_high"]),
            r["registered_state"] == "high",
        )
        for _, r in rows.sort_values("sir", ascending=False).iterrows()
        if pd.notna(r["sir"]) and float(r["sir"]) > 0
    ]
    blocks: list[Block] = [
        Paragraph(
            c.t(
                "document.police_intro",
                year=c.analysis.year,
                municipality=c.municipality,
                reference=c.reference_name,
            )
        ),
        Table(
            c.t("document.police_caption", year=c.analysis.year),
            (
                c.t("document.col.field"),
                c.t("document.col.cases"),
                c.t("document.col.rate"),
                c.t("document.col.reference_rate", reference=c.reference_name),
                c.t("document.col.sir"),
                c.t("document.col.excess"),
            ),
            table_rows,
            (False, True, True, True, True, True),
        ),
    ]
    if bars:
        alt = "; ".join(f"{b.label}: {format_number(b.value, 2, lang)}" for b in bars)
        blocks.append(
            ratio_figure(
                bars,
                caption=c.t("document.fig.sir", reference=c.reference_name),
                alt=alt,
                axis_label=c.t("document.axis.sir"),
                lang=lang,
            )
        )
    blocks += _trend(c)
    return [Section(c.t("document.ch.police"), 1, tuple(blocks))]


def _trend(c: Context) -> list[Block]:
    data = trend_data(c.inputs, c.catalogue, c.analysis.area)
    if data is None:
        return [Paragraph(c.t("document.trend_none"))]
    years = sorted({int(y) for y in data["year"]})
    pivot = data.pivot_table(index="field", columns="year", values="rate_per_100k", aggfunc="first")
    rows = []
    for field_id, values in pivot.iterrows():
        first, last = values.get(years[0]), values.get(years[-1])
        change = (
            format_percent(last / first - 1, 0, c.lang)
            if pd.notna(first) and pd.notna(last) and first > 0
            else "–"
        )
        if change and change[0] not in "-–0":
            change = f"+{change}"
        rows.append(
            (
                c.field(field_id),
                *(format_number(values.get(y), 0, c.lang) or "–" for y in years),
                change,
            )
        )
    return [
        Paragraph(c.t("document.trend_intro", first=years[0], last=years[-1])),
        Table(
            c.t("document.trend_caption"),
            (
                c.t("document.col.field"),
                *(str(y) for y in years),
                c.t("document.col.change", first=years[0], last=years[-1]),
            ),
            tuple(rows),
            (False, *([True] * len(years)), True),
        ),
    ]


def districts(context: Context) -> list[Section]:
    c, lang = context, context.lang
    names = category_names(c, Design.DISTRICT)
    if not names:
        return []
    sections = [
        Section(
            c.t("document.ch.districts"),
            1,
            (Paragraph(c.t("document.districts_intro", n=MIN_CELL_SIZE)),),
        )
    ]
    shares = c.findings.shares
    district_rows = shares[shares["group"] == str(Design.DISTRICT)]
    labels = area_names(c.analysis, c.inputs, lang)
    areas = {
        str(d): str(a)
        for a, d in c.analysis.ranking.groupby("area")["district"].first().items()
        if isinstance(d, str)
    }
    variable = design_variable(c.q, Design.DISTRICT)
    responses = c.inputs.responses
    answered = (
        responses[variable.id].dropna().astype(str).value_counts()
        if variable is not None and variable.id in responses.columns
        else pd.Series(dtype="int64")
    )
    for code, name in names.items():
        area = areas.get(code)
        answers = district_rows[(district_rows["category"] == code)]
        n_district = int(answered.get(code, 0))
        blocks: list[Block] = []
        if n_district < MIN_CELL_SIZE:
            blocks.append(Paragraph(c.t("document.district_small", n=MIN_CELL_SIZE), "caution"))
        else:
            blocks.append(Paragraph(c.t("document.district_n", n=format_integer(n_district, lang))))
        table_rows: list[tuple[str, ...]] = []
        ranking = (
            c.analysis.ranking[c.analysis.ranking["area"] == area] if area is not None else None
        )
        for field_id in c.municipality_rows()["field"]:
            problem = ranking[ranking["field"] == field_id] if ranking is not None else None
            worry = answers[(answers["topic"] == str(Topic.WORRY)) & (answers["field"] == field_id)]
            problem_text = "–"
            sir_text = "–"
            rank_text = "–"
            if problem is not None and len(problem):
                p = problem.iloc[0]
                if (
                    n_district >= MIN_CELL_SIZE
                    and not bool(p["suppressed"])
                    and pd.notna(p["share_problem"])
                ):
                    problem_text = c.with_interval(
                        p["share_problem"], p["share_ci_low"], p["share_ci_high"]
                    )
                if pd.notna(p["sir"]):
                    sir_text = c.ratio_interval(p["sir"], p["sir_ci_low"], p["sir_ci_high"])
                if pd.notna(p["rank"]):
                    rank_text = format_integer(p["rank"], lang)
            worry_text = (
                c.with_interval(
                    worry.iloc[0]["share"], worry.iloc[0]["ci_low"], worry.iloc[0]["ci_high"]
                )
                if len(worry) and worry.iloc[0]["status"] in SHOWN
                else "–"
            )
            table_rows.append((c.field(field_id), problem_text, worry_text, sir_text, rank_text))
        if any(any(cell != "–" for cell in row[1:]) for row in table_rows):
            blocks.append(
                Table(
                    c.t("document.district_caption", district=name),
                    (
                        c.t("document.col.field"),
                        c.t("document.col.problem"),
                        c.t("document.col.worry"),
                        c.t("document.col.sir"),
                        c.t("document.col.district_rank"),
                    ),
                    tuple(table_rows),
                    (False, True, True, True, True),
                )
            )
            blocks.append(Paragraph(c.t("document.district_dash"), "note"))
        else:
            blocks.append(Paragraph(c.t("document.district_nothing")))
        sections.append(Section(labels.get(str(area), name), 2, tuple(blocks)))
    return sections


def priorities(context: Context) -> list[Section]:
    c, lang = context, context.lang
    rows = c.municipality_rows()
    reason_column = "reason" if lang == "de" else "reason_en"
    table_rows = tuple(
        (
            format_integer(r["rank"], lang) if pd.notna(r["rank"]) else "–",
            c.field(r["field"]),
            f"{format_integer(r['rank_low'], lang)}–{format_integer(r['rank_high'], lang)}"
            if pd.notna(r["rank_low"]) and pd.notna(r["rank_high"])
            else "–",
            t(f"chart.quadrant.{r['quadrant']}", lang)
            if isinstance(r["quadrant"], str) and r["quadrant"]
            else "–",
            format_number(r["priority"], 2, lang) or "–",
        )
        for _, r in rows.iterrows()
    )
    blocks: list[Block] = [Paragraph(c.t("document.priorities_intro"))]
    basis = c.ranking_basis()
    if basis == "none":
        # Nothing to rank: one sentence instead of a table of dashes and an empty chart.
        blocks.append(Paragraph(c.t("document.priorities_small.none"), "caution"))
        return [Section(c.t("document.ch.priorities"), 1, tuple(blocks))]
    if not c.findings.analysable:
        blocks.append(Paragraph(c.t(f"document.priorities_small.{basis}"), "caution"))
    blocks.append(
        Table(
            c.t("document.priorities_caption"),
            (
                c.t("document.col.rank"),
                c.t("document.col.field"),
                c.t("document.col.rank_interval"),
                c.t("document.col.quadrant"),
                c.t("document.col.priority"),
            ),
            table_rows,
            (True, False, True, False, True),
        )
    )
    points = [
        Point(format_integer(r["rank"], lang), float(r["share_problem"]), float(r["sir"]))
        for _, r in rows.iterrows()
        if pd.notna(r["share_problem"])
        and not bool(r["suppressed"])
        and pd.notna(r["sir"])
        and float(r["sir"]) > 0
        and pd.notna(r["rank"])
    ]
    shares = rows["share_problem"][~rows["suppressed"].astype(bool)].dropna()
    if len(points) >= 2 and c.findings.analysable:
        alt = "; ".join(
            f"{p.mark}: {context.pct(p.x)}, {format_number(p.y, 2, lang)}" for p in points
        )
        blocks.append(
            quadrant_figure(
                points,
                x_split=float(shares.median()),
                caption=c.t("document.fig.quadrant"),
                alt=alt,
                x_label=c.t("document.axis.problem"),
                y_label=c.t("document.axis.sir"),
                lang=lang,
                corners=(
                    t("chart.quadrant.registered_only", lang),
                    t("chart.quadrant.both_high", lang),
                    t("chart.quadrant.both_low", lang),
                    t("chart.quadrant.felt_only", lang),
                ),
            )
        )
    else:
        blocks.append(Paragraph(c.t("document.quadrant_none")))
    reasons = tuple(
        str(r[reason_column])
        for _, r in rows.iterrows()
        if isinstance(r[reason_column], str) and r[reason_column]
    )
    if reasons:
        blocks.append(Paragraph(c.t("document.reasons")))
        blocks.append(Bullets(reasons))
    return [Section(c.t("document.ch.priorities"), 1, tuple(blocks))]


def recommendations(context: Context) -> list[Section]:
    c, lang = context, context.lang
    sections = [
        Section(
            c.t("document.ch.recommendations"),
            1,
            (Paragraph(c.t("document.recommendations_intro")),),
        )
    ]
    wished = stated(c.rows(Topic.MEASURE)) if c.findings.analysable else pd.DataFrame()
    if len(wished):
        bars = share_bars(c, wished, lambda r: c.label(r["item"]))
        sections.append(
            Section(
                c.t("document.ch.wished"),
                2,
                tuple(
                    chart_or_nothing(
                        c, bars, c.t("document.fig.wished"), c.t("document.axis.wished")
                    )
                ),
            )
        )
    for _, row in c.municipality_rows().iterrows():
        if pd.isna(row["rank"]):
            continue
        field_id = str(row["field"])
        blocks: list[Block] = []
        text = c.recommendations.get(field_id, "").strip()
        blocks += [Paragraph(part.strip()) for part in text.split("\n\n") if part.strip()]
        measures = _typical_measures(c.catalogue, field_id, lang)
        if measures:
            blocks.append(Paragraph(c.t("document.typical_measures")))
            blocks.append(Bullets(tuple(measures)))
        if blocks:
            title = c.t(
                "document.recommendation_heading",
                rank=format_integer(row["rank"], lang),
                field=c.field(field_id),
            )
            sections.append(Section(title, 2, tuple(blocks)))
    return sections


def _typical_measures(catalogue: ActionFieldCatalogue, field_id: str, lang: str) -> Sequence[str]:
    if field_id not in catalogue:
        return ()
    measures = catalogue.get(field_id).typical_measures
    return measures.get(lang) or measures.get("de") or ()


__all__ = ["districts", "police", "priorities", "recommendations"]
