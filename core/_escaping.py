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
