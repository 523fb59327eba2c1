"""The message catalogue and the code agree: every user-facing string goes through ``t()``.

Scans the source (AST, no imports of the pages) for three things:

* every key the code names literally (``t("…")``, ``Problem(where, "…")``, ``page_frame("…")``)
  exists in the catalogue;
* every catalogue key is named somewhere in the code, literally or through the constant
  prefix of an f-string key (``t(f"manager.state.{state}")``), or is listed in
  :data:`DYNAMIC_KEYS`;
* the Streamlit pages pass no bare German or English text to a Streamlit element: labels,
  captions and messages come from ``t()`` (icons, key names, formats and markup are fine).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import catalogue

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "survey", "storage", "sources", "scoring", "reporting", "app", "views", "cli")
PAGES = [*sorted((ROOT / "views").glob("*.py")), ROOT / "survey_app.py"]

#: Keys built at run time from data rather than named in the code (none today).
DYNAMIC_KEYS: frozenset[str] = frozenset()

#: Calls whose argument at the given position is a catalogue key.
KEY_ARGUMENTS = {"t": 0, "Problem": 1, "page_frame": 0}

#: Streamlit elements that show their text arguments to the user.
ST_TEXT_ELEMENTS = frozenset(
    {
        "title",
        "header",
        "subheader",
        "caption",
        "markdown",
        "write",
        "text",
        "html",
        "error",
        "warning",
        "info",
        "success",
        "exception",
        "toast",
        "button",
        "download_button",
        "link_button",
        "page_link",
        "form_submit_button",
        "selectbox",
        "multiselect",
        "radio",
        "checkbox",
        "toggle",
        "slider",
        "select_slider",
        "segmented_control",
        "pills",
        "text_input",
        "text_area",
        "number_input",
        "date_input",
        "time_input",
        "file_uploader",
        "metric",
        "progress",
        "spinner",
        "expander",
        "popover",
        "tabs",
        "Page",
        "set_page_config",
    }
)
#: Keyword arguments of those elements that carry text for the user.
ST_TEXT_KEYWORDS = frozenset(
    {"label", "body", "help", "placeholder", "caption", "text", "title", "page_title", "value"}
)
#: Text that is not language: Material icons, emoji-only, page file paths.
_NOT_LANGUAGE = re.compile(r":material/[a-z_]+:|[\w/]+\.py")


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))
    yield ROOT / "survey_app.py"


def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for path in _source_files():
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _callee(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"


def test_every_key_named_in_the_code_is_in_the_catalogue() -> None:
    known = catalogue()
    missing = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _callee(node) not in KEY_ARGUMENTS:
                continue
            position = KEY_ARGUMENTS[_callee(node)]
            if len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                if argument.value not in known:
                    missing.append(f"{_where(path, node)}: {argument.value}")
            elif isinstance(argument, ast.JoinedStr):
                prefix = _constant_prefix(argument)
                if prefix and not any(key.startswith(prefix) for key in known):
                    missing.append(f"{_where(path, node)}: {prefix}…")
    assert not missing, "keys missing from core/locales/*.yaml:\n" + "\n".join(missing)


def _constant_prefix(node: ast.JoinedStr) -> str:
    first = node.values[0] if node.values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return ""


def test_every_catalogue_key_is_used() -> None:
    named: set[str] = set()
    prefixes: set[str] = set()
    for _path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                prefix = _constant_prefix(node)
                if "." in prefix:
                    prefixes.add(prefix)
    unused = sorted(
        key
        for key in catalogue()
        if key not in named
        and key not in DYNAMIC_KEYS
        and not any(key.startswith(prefix) for prefix in prefixes)
    )
    assert not unused, "catalogue keys no code uses (delete them or list them as dynamic):\n" + (
        "\n".join(unused)
    )


def _is_streamlit_text(node: ast.Call) -> bool:
    """``st.error(...)``, ``left.selectbox(...)``, ``columns[0].download_button(...)``."""
    return isinstance(node.func, ast.Attribute) and node.func.attr in ST_TEXT_ELEMENTS


def _language_in(node: ast.expr) -> str | None:
    """The bare text in a literal argument, if it has any words (markup and icons aside)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    else:
        return None
    stripped = re.sub(r"<[^>]*>", " ", _NOT_LANGUAGE.sub(" ", text))
    return text if re.search(r"[A-Za-zÄÖÜäöüß]{2,}", stripped) else None


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_pass_no_bare_text_to_streamlit(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bare = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not _is_streamlit_text(node):
            continue
        arguments = list(node.args) + [k.value for k in node.keywords if k.arg in ST_TEXT_KEYWORDS]
        for argument in arguments:
            text = _language_in(argument)
            if text is not None:
                bare.append(f"{_where(path, argument)}: {_callee(node)}({text!r})")
    assert not bare, "text shown without t():\n" + "\n".join(bare)


def test_the_scan_finds_bare_text() -> None:
    """The page scan itself: it flags a bare label and lets keys, icons and markup pass."""
    flagged = ast.parse('st.button("Speichern"); st.html(f"<p>{x}</p>")').body
    calls = [stmt.value for stmt in flagged if isinstance(stmt, ast.Expr)]
    assert [_language_in(c.args[0]) for c in calls if isinstance(c, ast.Call)] == [
        "Speichern",
        None,
    ]
    icon = ast.parse('st.error(t("x", lang), icon=":material/error:")').body[0]
    assert isinstance(icon, ast.Expr)
    assert isinstance(icon.value, ast.Call)
    assert _language_in(icon.value.keywords[0].value) is None
