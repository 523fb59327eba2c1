"""Bad input on the manager pages found in the audit (docs/bad-input.md): a crafted file
name or identity-provider name is shown as plain text, never as a link or a remote image."""

from __future__ import annotations

import re

import pytest

from core import escape_markdown
from storage import Datasets
from tests.fixtures import fixture_bytes, municipality_store
from tests.views.test_manager_pages import _upload, empty_url, page, texts  # noqa: F401
from views._session import MANAGER_KEY, Manager

CRAFTED = "![x](https://tracker.invalid/p.png)[neu anmelden](https://evil.invalid) *Zahlen*.csv"
#: A Markdown link or image whose brackets are not backslash-escaped.
LIVE_LINK = re.compile(r"(?<!\\)\]\(|(?<![\\])https?(?<!\\):(?!\\)//")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("pks.csv", "pks.csv"),
        ("a_b*c.csv", r"a\_b\*c.csv"),
        ("[x](https://e.invalid)", r"\[x\]\(https\://e.invalid\)"),
        ("<img src=x>", r"\<img src=x\>"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_a_crafted_file_name_is_shown_as_text_when_rejected_and_when_saved(
    empty_url: str,  # noqa: F811
) -> None:
    at = _upload(page("data"), CRAFTED, b"\x00\x01binary")
    assert at.error
    assert "tracker" in at.error[0].value
    assert not LIVE_LINK.search(at.error[0].value)

    at = _upload(page("data"), CRAFTED, fixture_bytes("pks.csv"))
    [save] = [b for b in at.button if b.key == "manager.data.save"]
    save.click().run()
    assert not at.exception, at.exception
    at.run()
    shown = texts(at)
    assert "evil" in shown
    assert not LIVE_LINK.search(shown), shown
    with municipality_store(empty_url) as store:
        [saved] = Datasets(store.engine, store.municipality).list()
    assert saved.source == CRAFTED  # stored as uploaded, escaped only where shown


def test_a_crafted_identity_provider_name_is_plain_text_in_the_sidebar(
    empty_url: str,  # noqa: F811
) -> None:
    at = page("data")
    at.session_state[MANAGER_KEY] = Manager("[x](https://evil.invalid)", "oidc")
    at.run()
    captions = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "evil" in captions
    assert not LIVE_LINK.search(captions)
