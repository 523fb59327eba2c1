"""The closing chapters: the limits of what the data can say, and the appendix (the
questionnaire as asked, the codebook, free-text answers, the glossary).
"""

from __future__ import annotations

import html

from app._report._context import (
    MAX_FREE_TEXTS,
    Context,
    survey_year,
)
from core import (
    MIN_CELL_SIZE,
    format_integer,
    format_number,
)
from reporting import (
    Block,
    Bullets,
    Paragraph,
    Section,
    Table,
)
from scoring import (
    MIN_EFFECTIVE_N,
)
from survey import BatteryItem, InfoItem, MultiChoiceItem, SingleChoiceItem, codebook


def limitations(context: Context) -> list[Section]:
    c, lang = context, context.lang
    items = [
        c.t(
            "document.limit.sample",
            n=format_integer(c.findings.n_responses, lang),
            n_eff=format_number(c.findings.n_eff, 0, lang),
        )
    ]
    if c.rates is None:
        items.append(c.t("document.limit.rate_unknown"))
    else:
        issued = int(c.rates["issued"].sum())
        used = int(c.rates["used"].sum())
        if issued:
            items.append(c.t("document.limit.rate", rate=c.pct(used / issued)))
    items.append(
        c.t("document.limit.weighting" if c.findings.weighted else "document.limit.unweighted")
    )
    if not c.findings.analysable:
        basis = c.t(f"document.priorities_small.{c.ranking_basis()}")
        items.append(c.t("document.limit.not_analysable", minimum=MIN_EFFECTIVE_N, basis=basis))
    items.append(c.t("document.limit.privacy", n=MIN_CELL_SIZE))
    if c.has_police():
        items.append(c.t("document.limit.reference", reference=c.reference_name))
        items.append(
            c.t("document.limit.years", police=c.analysis.year, survey=survey_year(c.inputs, None))
        )
        items += [
            c.t("document.limit.hellfeld"),
            c.t("document.limit.tatort"),
            c.t("document.limit.kontrolldelikte"),
        ]
    else:
        items.append(c.t("document.limit.no_police"))
    # The analysis's own located warnings (missing keys, unreachable margins, few reference
    # areas …): the same ones the priorities page and the command line show.
    items += [warning.message(lang) for warning in c.analysis.warnings]
    return [Section(c.t("document.ch.limitations"), 1, (Bullets(tuple(items)),))]


def appendix(context: Context) -> list[Section]:
    c = context
    sections = [
        Section(c.t("document.ch.appendix"), 1, (Paragraph(c.t("document.appendix_intro")),))
    ]
    sections.append(
        Section(
            c.t("document.ch.questionnaire"), 2, (Paragraph(c.t("document.questionnaire_intro")),)
        )
    )
    sections += _questionnaire(c)
    book = codebook(c.q, c.lang)
    rows = tuple(
        (str(r["variable"]), str(r["question"]), str(r["codes"]) or "–") for _, r in book.iterrows()
    )
    sections.append(
        Section(
            c.t("document.ch.codebook"),
            2,
            (
                Table(
                    c.t("document.codebook_caption"),
                    (
                        c.t("document.col.variable"),
                        c.t("document.col.question"),
                        c.t("document.col.codes"),
                    ),
                    rows,
                ),
            ),
        )
    )
    texts = _free_texts(c)
    if texts:
        sections.append(Section(c.t("document.ch.free_text"), 2, tuple(texts)))
    glossary = tuple(
        f"{c.t(f'document.glossary.{k}.term')}: {c.t(f'document.glossary.{k}.text')}"
        for k in _GLOSSARY
    )
    sections.append(Section(c.t("document.ch.glossary"), 2, (Bullets(glossary),)))
    return sections


_GLOSSARY = (
    "interval",
    "n_eff",
    "weighting",
    "sir",
    "rate",
    "rank_interval",
    "quadrant",
    "hellfeld",
    "dunkelfeld",
    "reporting_rate",
    "suppression",
)


def _questionnaire(c: Context) -> list[Section]:
    """The questionnaire as asked: a subsection per page, each question with its options."""
    sections: list[Section] = []
    for section in c.q.sections:
        lines: list[str] = []
        for item in section.items:
            if isinstance(item, InfoItem):
                continue
            question = c.q.text(item.label, c.lang)
            options = ""
            if isinstance(item, BatteryItem):
                statements = "; ".join(c.q.text(s.label, c.lang) for s in item.statements)
                question = f"{question} – {statements}"
            scale = (
                c.q.scale_of(item)
                if isinstance(item, SingleChoiceItem | MultiChoiceItem | BatteryItem)
                else None
            )
            if scale is not None:
                options = " | ".join(c.q.text(o.label, c.lang) for o in scale.options)
            elif item.kind == "yesno":
                options = c.t("document.yes_no")
            elif item.kind == "text":
                options = c.t("document.free_text_answer")
            elif item.kind in {"number", "date"}:
                options = c.t(f"document.{item.kind}_answer")
            lines.append(f"{question} [{options}]" if options else question)
        if lines:
            title = c.q.text(section.title, c.lang)
            sections.append(Section(title, 3, (Bullets(tuple(lines), numbered=True),)))
    return sections


def _free_texts(c: Context) -> list[Block]:
    texts = c.findings.free_text
    if not len(texts) and not c.findings.free_text_withheld:
        return []
    blocks: list[Block] = [Paragraph(c.t("document.free_text_intro"))]
    for item, group in texts.groupby("item", sort=False):
        # Identical answers once, most frequent first, with how often they were given.
        counts = group["text"].map(lambda a: html.unescape(str(a))).value_counts(sort=True)
        answers = [
            str(text)
            if n == 1
            else c.t("document.free_text_times", text=text, n=format_integer(n, c.lang))
            for text, n in counts.items()
        ]
        shown = answers[:MAX_FREE_TEXTS]
        blocks.append(Paragraph(c.label(item)))
        blocks.append(Bullets(tuple(shown)))
        if len(answers) > len(shown):
            more = format_integer(len(answers) - len(shown), c.lang)
            blocks.append(Paragraph(c.t("document.free_text_more", count=more), "note"))
    if c.findings.free_text_withheld:
        names = ", ".join(c.label(i) for i in c.findings.free_text_withheld)
        blocks.append(
            Paragraph(c.t("document.free_text_withheld", names=names, n=MIN_CELL_SIZE), "note")
        )
    return blocks


__all__ = ["appendix", "limitations"]
