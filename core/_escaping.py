"""Text from outside made harmless where it is shown: HTML, Markdown and spreadsheet cells.

Respondents' free text, uploaded file names and identity-provider names pass through these
functions wherever a page, the report or an export shows them.
"""

from __future__ import annotations

import html
import re

import pandas as pd

#: First characters that make a spreadsheet treat a cell as a formula (OWASP), including the
#: full-width forms that some spreadsheet programs normalise.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"


def neutralise_formula(value: str) -> str:
    """``value`` with a leading apostrophe if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def escape_free_text(value: object) -> str:
    """A free-text answer made safe for HTML (``<``, ``>``, ``&``, quotes); missing → ``""``.

    Use it wherever a respondent's text is shown in a page or the report.
    """
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
        return ""
    return html.escape(str(value), quote=True)


#: Markdown's structure characters, and ``:``/``@`` that start autolinks (``.`` and ``-`` stay,
#: so a file name reads as typed in the page's source too).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~:@$])")


def escape_markdown(value: object) -> str:
    """Text (a file name, a name from the identity provider) shown literally in a Markdown
    message: Markdown's characters backslash-escaped, so ``![x](https://…)`` is neither
    an image fetched from elsewhere nor a link, and a bare address is no autolink."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


#: Characters no XML document (and so no XLSX, DOCX or ODS cell) may hold, and that no
#: respondent means to type: C0 controls but tab, line feed and carriage return, C1 controls,
#: lone surrogates and the Unicode noncharacters (U+FDD0–U+FDEF and the last two code points
#: of every plane, e.g. U+FFFF).
_NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(0x11)
)
ILLEGAL_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + re.escape(_NONCHARACTERS)
    + "]"
)


def remove_illegal_text(value: str) -> str:
    """``value`` without the characters of :data:`ILLEGAL_TEXT` (a text answer, a label)."""
    return ILLEGAL_TEXT.sub("", value)
