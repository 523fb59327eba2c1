"""The report as one self-contained HTML file: inline CSS and inline SVG charts, no script.

It opens offline, weighs a few hundred kilobytes instead of the 4.9 MB of an embedded
plotly.js, and prints on A4. Every text is escaped here; the SVG charts come from
:mod:`reporting._figures`, which escapes their labels itself.
"""

from __future__ import annotations

import html

from reporting._document import Bullets, Document, Figure, KeyFindings, Paragraph, Table

CSS = """
body { font-family: "Libertinus Serif", Georgia, serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
header.title { border-bottom: 3px solid #7a1020; margin-bottom: 2rem; padding-bottom: 1rem; }
header.title h1 { color: #7a1020; font-size: 2.2rem; margin: .2rem 0; }
.publisher { color: #555; } .subtitle { font-size: 1.2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.5rem; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
h2 { color: #7a1020; margin-top: 2.5rem; } h3 { margin-top: 2rem; }
.banner { background: #fff3cd; border: 2px solid #e0a800; padding: .5rem 1rem; font-weight: bold; }
.key-findings { background: #eef2f8; padding: .6rem 1rem; }
.caution { background: #f2f2f2; border-left: 4px solid #b2182b; padding: .5rem .8rem; }
.note { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.2rem; font-size: .9rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
th, td { border: 1px solid #bbb; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #ebebeb; } td.num, th.num { text-align: right; }
figure { margin: 1rem 0; break-inside: avoid; } figure svg { width: 100%; height: auto; }
figcaption { font-size: .9rem; text-align: center; }
nav.toc ol { list-style: none; padding-left: 1rem; }
@page { size: A4; margin: 25mm; }
@media print { body { max-width: none; margin: 0; } h2 { break-before: page; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _block(block: object) -> str:
    if isinstance(block, Paragraph):
        kind = {"text": "", "note": ' class="note"', "caution": ' class="caution"'}[block.kind]
        return f"<p{kind}>{_e(block.text)}</p>"
    if isinstance(block, Bullets):
        tag = "ol" if block.numbered else "ul"
        return f"<{tag}>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + f"</{tag}>"
    if isinstance(block, KeyFindings):
        items = "".join(f"<li>{_e(i)}</li>" for i in block.items)
        return f'<div class="key-findings"><strong>{_e(block.title)}</strong><ul>{items}</ul></div>'
    if isinstance(block, Table):

        def css(column: int) -> str:
            return ' class="num"' if block.is_numeric(column) else ""  # right-aligned numbers

        head = "".join(f'<th scope="col"{css(i)}>{_e(h)}</th>' for i, h in enumerate(block.header))
        body = "".join(
            "<tr>" + "".join(f"<td{css(i)}>{_e(c)}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in block.rows
        )
        return (
            f"<table><caption>{_e(block.caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    assert isinstance(block, Figure)
    return f"<figure>{block.svg}<figcaption>{_e(block.caption)}</figcaption></figure>"


def render_html_document(document: Document) -> str:
    """The report as one HTML document (a string)."""
    anchors = [f"s{i}" for i in range(len(document.sections))]
    toc = "".join(
        f'<li style="margin-left:{(s.level - 1) * 1.2}rem"><a href="#{a}">{_e(s.title)}</a></li>'
        for s, a in zip(document.sections, anchors, strict=True)
        if s.level <= 2
    )
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in document.facts)
    banner = f'<p class="banner">{_e(document.banner)}</p>' if document.banner else ""
    body = "".join(
        # The document title is the page's one h1, so chapters are h2 and below.
        f'<h{s.level + 1} id="{a}">{_e(s.title)}</h{s.level + 1}>'
        + "".join(_block(b) for b in s.blocks)
        for s, a in zip(document.sections, anchors, strict=True)
    )
    return (
        f'<!DOCTYPE html><html lang="{_e(document.lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="author" content="{_e(document.publisher)}">'
        f'<meta name="keywords" content="{_e(", ".join(document.keywords))}">'
        f"<title>{_e(document.title)}</title><style>{CSS}</style></head><body>"
        f'<header class="title"><p class="publisher">{_e(document.publisher)}</p>'
        f'<h1>{_e(document.title)}</h1><p class="subtitle">{_e(document.subtitle)}</p>'
        f'<dl class="facts">{facts}</dl>{banner}</header>'
        f'<nav class="toc" aria-label="{_e(document.contents_title)}">'
        f"<p><strong>{_e(document.contents_title)}</strong></p><ol>{toc}</ol></nav>"
        f"<main>{body}</main></body></html>"
    )


__all__ = ["render_html_document"]
