"""The survey chapters: summary, method and sample, feeling of safety, fear of crime,
victimisation with reporting and the dark figure. Numbers come from
:func:`scoring.survey_findings`; this module only words and lays them out.
"""

from __future__ import annotations

import html

import pandas as pd

from app._report._context import (
    SHOWN,
    Context,
    category_names,
    chart_or_nothing,
    design_variable,
    left_out,
    not_analysable,
    share_bars,
    stated,
    survey_dates,
)
from app._response_modes import responses_by_mode
from core import (
    MIN_CELL_SIZE,
    complementary_suppression,
    format_date,
    format_integer,
    format_number,
    format_percent,
    t,
)
from reporting import (
    Block,
    Bullets,
    KeyFindings,
    Paragraph,
    Section,
    Table,
)
from scoring import (
    DARK_FIGURE_CAVEATS,
    Topic,
)
from survey import Design


def _safety_label(context: Context, row: pd.Series) -> str:
    when = (
        context.t("document.night")
        if row["topic"] == str(Topic.UNSAFE_NIGHT)
        else context.t("document.day")
    )
    item = str(row["item"])
    where = (
        context.t("document.neighbourhood")
        if item in {"safe_night", "safe_day"}
        else context.label(item)
    )
    return f"{where} ({when})"


def _share_sentence(c: Context, key: str, row: pd.Series, names: dict[str, str]) -> str:
    """``key`` filled with the row's share and interval, and the field or item it names."""
    params = {
        name: c.field(row[column]) if name == "field" else c.label(row[column])
        for name, column in names.items()
    }
    share = c.with_interval(row["share"], row["ci_low"], row["ci_high"])
    return c.t(key, share=share, **params)


def _key_findings(context: Context) -> list[str]:
    """5–8 findings from the numbers; each only where the data carry it."""
    c, lang = context, context.lang
    items: list[str] = []
    n = format_integer(c.findings.n_responses, lang)
    items.append(c.t("document.kf.sample", n=n, n_eff=format_number(c.findings.n_eff, 0, lang)))
    if c.findings.analysable:
        night = stated(c.rows(Topic.UNSAFE_NIGHT))
        # (message, the stated rows, which row: 0 the highest share, -1 the lowest, and what
        # the sentence names besides the share)
        candidates: tuple[tuple[str, pd.DataFrame, int, dict[str, str]], ...] = (
            ("document.kf.night", night[night["item"] == "safe_night"], 0, {}),
            ("document.kf.place", night[night["item"] != "safe_night"], 0, {"place": "item"}),
            ("document.kf.worry", stated(c.rows(Topic.WORRY)), 0, {"field": "field"}),
            ("document.kf.victims", stated(c.rows(Topic.VICTIMISATION)), 0, {"field": "field"}),
            ("document.kf.reported", stated(c.rows(Topic.REPORTED)), -1, {"field": "field"}),
        )
        for key, rows, position, names in candidates:
            if len(rows):
                items.append(_share_sentence(c, key, rows.iloc[position], names))
    else:
        items.append(c.t(f"document.kf.not_analysable.{c.ranking_basis()}", n=n))
    higher = [
        c.field(r["field"])
        for _, r in c.municipality_rows().iterrows()
        if pd.notna(r["sir_ci_low"]) and float(r["sir_ci_low"]) > 1
    ]
    if c.has_police():
        if higher:
            items.append(
                c.t(
                    "document.kf.police_higher",
                    year=c.analysis.year,
                    fields=", ".join(higher),
                    reference=c.reference_name,
                )
            )
        else:
            items.append(
                c.t("document.kf.police_none", year=c.analysis.year, reference=c.reference_name)
            )
    top = c.top_fields()
    if top:
        items.append(c.t("document.kf.top", fields=", ".join(top)))
    return items[:8]


def _press(context: Context) -> str:
    c = context
    sentences = [
        c.t(
            "document.press.intro" if c.has_police() else "document.press.intro_survey",
            municipality=c.municipality,
            n=format_integer(c.findings.n_responses, c.lang),
        )
    ]
    if c.findings.analysable:
        night = stated(c.rows(Topic.UNSAFE_NIGHT))
        general = night[night["item"] == "safe_night"]
        if len(general):
            sentences.append(c.t("document.press.night", share=c.pct(general.iloc[0]["share"])))
        problems = c.municipality_rows()
        problems = problems[
            ~problems["suppressed"].astype(bool) & problems["share_problem"].notna()
        ]
        problems = problems.sort_values("share_problem", ascending=False).head(2)
        if len(problems) == 2:
            sentences.append(
                c.t(
                    "document.press.problems",
                    first=c.field(problems.iloc[0]["field"]),
                    second=c.field(problems.iloc[1]["field"]),
                )
            )
    else:
        sentences.append(c.t("document.press.not_analysable"))
    top = c.top_fields()
    if top:
        sentences.append(c.t("document.press.top", fields=", ".join(top)))
    return " ".join(sentences)


def summary(context: Context) -> list[Section]:
    return [
        Section(
            context.t("document.ch.summary"),
            1,
            (
                KeyFindings(context.t("document.key_findings"), tuple(_key_findings(context))),
                Paragraph(context.t("document.summary_reading")),
            ),
        ),
        Section(context.t("document.ch.press"), 2, (Paragraph(_press(context)),)),
    ]


def method(context: Context) -> list[Section]:
    c, lang = context, context.lang
    responses = c.inputs.responses
    blocks: list[Block] = [Paragraph(t("report.method_text", lang))]
    dates = survey_dates(c.inputs)
    blocks += _modes(c)
    if dates is not None:
        blocks.append(
            Paragraph(
                c.t(
                    "document.sample",
                    n=format_integer(len(responses), lang),
                    start=format_date(dates[0], lang),
                    end=format_date(dates[1], lang),
                )
            )
        )
    else:
        police = "police" if c.has_police() else "none"
        blocks.append(Paragraph(c.t(f"document.no_responses.{police}"), "caution"))
    blocks += _response_rates(c)
    blocks += _representativeness(c)
    if c.findings.weighted:
        blocks.append(
            Paragraph(
                c.t(
                    "document.weighted",
                    n=format_integer(c.findings.n_responses, lang),
                    n_eff=format_number(c.findings.n_eff, 0, lang),
                )
            )
        )
    else:
        blocks.append(Paragraph(c.t("document.unweighted")))
    blocks += not_analysable(c)
    return [Section(c.t("document.ch.method"), 1, tuple(blocks))]


def _modes(c: Context) -> list[Block]:
    """Rücklauf nach Erhebungsweg: the responses per mode, small cells suppressed."""
    rows = responses_by_mode(c.inputs.responses, c.lang)
    if not rows:
        return []
    return [
        Paragraph(c.t("modes.caption")),
        Table(
            c.t("modes.title"),
            (c.t("modes.col.mode"), c.t("modes.col.responses"), c.t("modes.col.share")),
            tuple((r.label, r.count, r.share) for r in rows),
            (False, True, True),
        ),
    ]


def _response_rates(c: Context) -> list[Block]:
    if c.rates is None:
        return [Paragraph(c.t("document.rate_unknown"))]
    lang = c.lang
    rows = []
    for _, r in c.rates.iterrows():
        rate = r["rate"]
        rows.append(
            (
                str(r["batch"]),
                str(r["stratum"]) or "–",
                format_integer(r["issued"], lang),
                format_integer(r["used"], lang),
                c.pct(rate) if pd.notna(rate) else "–",
            )
        )
    issued, used = int(c.rates["issued"].sum()), int(c.rates["used"].sum())
    total = c.pct(used / issued) if issued else "–"
    return [
        Paragraph(
            c.t(
                "document.rate_total",
                rate=total,
                used=format_integer(used, lang),
                issued=format_integer(issued, lang),
            )
        ),
        Table(
            c.t("document.rate_caption"),
            (
                c.t("document.col.batch"),
                c.t("document.col.stratum"),
                c.t("document.col.issued"),
                c.t("document.col.used"),
                c.t("document.col.rate"),
            ),
            tuple(rows),
            (False, False, True, True, True),
        ),
    ]


def _population_shares(c: Context, design: Design) -> dict[str, float]:
    """Each category's share of the population: districts from the analysed year's district
    populations, sex and age group from the municipality's margins."""
    if design == Design.DISTRICT:
        rows = c.analysis.ranking.dropna(subset=["district", "population"])
        sizes = rows.groupby("district")["population"].first()
    else:
        margins = c.inputs.margins
        column = "sex" if design == Design.SEX else "age_group"
        if margins is None or column not in margins.columns:
            return {}
        rows = margins[(margins["area"].astype(str) == c.analysis.area) & margins[column].notna()]
        if not len(rows):
            return {}
        rows = rows[rows["year"] == rows["year"].max()]
        sizes = rows.groupby(rows[column].astype(str))["population"].sum()
    total = float(sizes.sum())
    return {str(k): float(v) / total for k, v in sizes.items()} if total > 0 else {}


def _representativeness(c: Context) -> list[Block]:
    """Sample against population per design variable; small sample cells suppressed."""
    rows: list[tuple[str, ...]] = []
    responses = c.inputs.responses
    for design in (Design.DISTRICT, Design.SEX, Design.AGE_GROUP):
        names = category_names(c, design)
        variable = design_variable(c.q, design)
        if variable is None or variable.id not in responses.columns or not names:
            continue
        population = _population_shares(c, design)
        codes = list(names)
        answers = responses[variable.id].dropna().astype(str)
        counts = [int((answers == code).sum()) for code in codes]
        hidden, all_hidden = complementary_suppression(counts)
        total = max(sum(counts), 1)
        for code, count, secret in zip(codes, counts, hidden, strict=True):
            secret = bool(secret) or all_hidden
            rows.append(
                (
                    c.t(f"document.group.{design}"),
                    names[code],
                    c.t("document.suppressed_cell", n=MIN_CELL_SIZE)
                    if secret
                    else format_integer(count, c.lang),
                    "–" if secret else format_percent(count / total, 1, c.lang),
                    format_percent(population[code], 1, c.lang) if code in population else "–",
                )
            )
    if not rows:
        return [Paragraph(c.t("document.no_margins"))]
    return [
        Paragraph(c.t("document.representativeness")),
        Table(
            c.t("document.representativeness_caption"),
            (
                c.t("document.col.group"),
                c.t("document.col.category"),
                c.t("document.col.answers"),
                c.t("document.col.sample_share"),
                c.t("document.col.population_share"),
            ),
            tuple(rows),
            (False, False, True, True, True),
        ),
    ]


def _by_groups(c: Context, topic: Topic, item: str | None) -> list[Block]:
    """A table of one share by sex and age group (district charts are separate)."""
    rows_out: list[tuple[str, str, str]] = []
    for design in (Design.SEX, Design.AGE_GROUP):
        names = category_names(c, design)
        for category in c.findings.categories.get(str(design), ()):
            rows = c.rows(topic, str(design), category)
            if item is not None:
                rows = rows[rows["item"] == item]
            if not len(rows):
                continue
            row = rows.iloc[0]
            value = (
                c.with_interval(row["share"], row["ci_low"], row["ci_high"])
                if row["status"] in SHOWN
                else c.t(f"document.status.{row['status']}", n=MIN_CELL_SIZE)
            )
            rows_out.append((c.t(f"document.group.{design}"), names.get(category, category), value))
    if not rows_out:
        return []
    return [
        Table(
            c.t("document.groups_caption"),
            (c.t("document.col.group"), c.t("document.col.category"), c.t("document.col.share")),
            tuple(rows_out),
            (False, False, True),
        )
    ]


def _district_figure(c: Context, topic: Topic, item: str | None, caption: str) -> list[Block]:
    names = category_names(c, Design.DISTRICT)
    rows = c.findings.shares
    rows = rows[(rows["topic"] == str(topic)) & (rows["group"] == str(Design.DISTRICT))]
    if item is not None:
        rows = rows[rows["item"] == item]
    if not len(rows):
        return []

    def label(row: pd.Series) -> str:
        return names.get(str(row["category"]), str(row["category"]))

    bars = share_bars(c, rows, label)
    return [
        *chart_or_nothing(c, bars, caption, c.t("document.axis.share")),
        *left_out(c, rows, label),
    ]


def safety(context: Context) -> list[Section]:
    c = context
    blocks: list[Block] = [Paragraph(c.t("document.safety_intro"))]
    blocks += not_analysable(c)
    if c.findings.analysable:
        rows = pd.concat([c.rows(Topic.UNSAFE_NIGHT), c.rows(Topic.UNSAFE_DAY)])

        def label(row: pd.Series) -> str:
            return _safety_label(c, row)

        bars = share_bars(c, rows, label)
        blocks += chart_or_nothing(c, bars, c.t("document.fig.safety"), c.t("document.axis.unsafe"))
        blocks += left_out(c, rows, label)
        blocks += _district_figure(
            c, Topic.UNSAFE_NIGHT, "safe_night", c.t("document.fig.safety_district")
        )
        blocks += _by_groups(c, Topic.UNSAFE_NIGHT, "safe_night")
    return [Section(c.t("document.ch.safety"), 1, tuple(blocks))]


def worry(context: Context) -> list[Section]:
    c = context
    blocks: list[Block] = [Paragraph(c.t("document.worry_intro"))]
    blocks += not_analysable(c)
    places: list[Block] = []
    if c.findings.analysable:
        rows = c.rows(Topic.WORRY)

        def label(row: pd.Series) -> str:
            return c.field(row["field"])

        blocks += chart_or_nothing(
            c, share_bars(c, rows, label), c.t("document.fig.worry"), c.t("document.axis.worry")
        )
        blocks += left_out(c, rows, label)
        avoidance = c.rows(Topic.AVOIDANCE)
        for _, row in stated(avoidance).iterrows():
            blocks.append(
                Paragraph(
                    c.t(
                        "document.avoidance",
                        question=c.label(row["item"]),
                        share=c.with_interval(row["share"], row["ci_low"], row["ci_high"]),
                    )
                )
            )
        places = _places(c)
    sections = [Section(c.t("document.ch.worry"), 1, tuple(blocks))]
    if places:
        sections.append(Section(c.t("document.ch.places"), 2, tuple(places)))
    return sections


def _places(c: Context) -> list[Block]:
    places = c.findings.places
    if not len(places):
        return [Paragraph(c.t("document.places_none", n=MIN_CELL_SIZE))]
    rows = tuple(
        (
            format_integer(r["rank"], c.lang),
            html.unescape(str(r["place"])),
            format_integer(r["mentions"], c.lang),
            c.pct(r["share"]),
        )
        for _, r in places.iterrows()
    )
    blocks: list[Block] = [
        Paragraph(c.t("document.places_intro", n=MIN_CELL_SIZE)),
        Table(
            c.t("document.places_caption"),
            (
                c.t("document.col.rank"),
                c.t("document.col.place"),
                c.t("document.col.mentions"),
                c.t("document.col.share_named"),
            ),
            rows,
            (True, False, True, True),
        ),
    ]
    if c.findings.places_rare:
        blocks.append(
            Paragraph(
                c.t("document.places_rare", count=c.findings.places_rare, n=MIN_CELL_SIZE), "note"
            )
        )
    return blocks


def victimisation(context: Context) -> list[Section]:
    c = context
    blocks: list[Block] = [Paragraph(c.t("document.victim_intro"))]
    blocks += not_analysable(c)
    dark: list[Block] = []
    trust: list[Block] = []
    if c.findings.analysable:

        def label(row: pd.Series) -> str:
            return c.field(row["field"])

        rows = c.rows(Topic.VICTIMISATION)
        blocks += chart_or_nothing(
            c, share_bars(c, rows, label), c.t("document.fig.victims"), c.t("document.axis.victims")
        )
        blocks += left_out(c, rows, label)
        reported = c.rows(Topic.REPORTED)
        blocks += chart_or_nothing(
            c,
            share_bars(c, reported, label),
            c.t("document.fig.reported"),
            c.t("document.axis.reported"),
        )
        blocks += left_out(c, reported, label)
        dark = _dark_figure(c)
        trust = _trust(c)
    sections = [Section(c.t("document.ch.victims"), 1, tuple(blocks))]
    if dark:
        sections.append(Section(c.t("document.ch.dark"), 2, tuple(dark)))
    if trust:
        sections.append(Section(c.t("document.ch.trust"), 2, tuple(trust)))
    return sections


def _dark_figure(c: Context) -> list[Block]:
    table = c.findings.dark_figure
    if not len(table):
        return []
    rows: list[tuple[str, ...]] = []
    for _, r in table.iterrows():
        status = str(r["status"])
        unreported = (
            c.with_interval(r["unreported_share"], r["unreported_ci_low"], r["unreported_ci_high"])
            if pd.notna(r["unreported_share"])
            else "–"
        )
        ratio = (
            c.ratio_interval(r["ratio"], r["ratio_ci_low"], r["ratio_ci_high"], digits=1)
            if status == "ok" and pd.notna(r["ratio"])
            else c.t(f"document.dark_status.{status}")
        )
        rows.append((c.field(r["field"]), unreported, ratio))
    blocks: list[Block] = [
        Paragraph(c.t("document.dark_intro")),
        Table(
            c.t("document.dark_caption"),
            (
                c.t("document.col.field"),
                c.t("document.col.unreported"),
                c.t("document.col.dark_ratio"),
            ),
            tuple(rows),
            (False, True, True),
        ),
        Bullets(tuple(c.t(f"document.caveat.{key}") for key in DARK_FIGURE_CAVEATS)),
    ]
    return blocks


def _trust(c: Context) -> list[Block]:
    rows = pd.concat([c.rows(Topic.LOW_TRUST), c.rows(Topic.DISSATISFIED)])

    def label(row: pd.Series) -> str:
        kind = (
            c.t("document.low_trust")
            if row["topic"] == str(Topic.LOW_TRUST)
            else c.t("document.dissatisfied")
        )
        return f"{kind}: {c.label(row['item'])}"

    bars = share_bars(c, rows, label)
    if not bars:
        return []
    return [
        *chart_or_nothing(c, bars, c.t("document.fig.trust"), c.t("document.axis.share")),
        *left_out(c, rows, label),
    ]


__all__ = ["method", "safety", "summary", "victimisation", "worry"]
