"""Sign-in fields with input no user name can have (docs/bad-input.md): refused like a wrong
password, on both databases, without a traceback; the throttle keeps only a keyed hash of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import Accounts, SignInStatus, sign_in_throttle_table
from tests.storage.test_accounts import FAST_HASHER, GOOD


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("ad\x00min", GOOD),  # PostgreSQL cannot compare a NUL byte
        ("admin\x00", "a\x00b"),
        ("<script>", GOOD),
        ("ä" * 300, GOOD),
        ("   ", ""),
    ],
)
def test_an_impossible_name_is_a_wrong_sign_in(database_url: str, name: str, password: str) -> None:
    with Accounts(database_url, hasher=FAST_HASHER) as accounts:
        accounts.add_user("admin", GOOD)
        result = accounts.verify(name, password)
        assert result.status is SignInStatus.WRONG
        assert result.message("de") == accounts.verify("admin", "falsch-falsch-falsch").message(
            "de"
        )
        with accounts.engine.connect() as connection:
            hashes = connection.execute(select(sign_in_throttle_table.c.name_hash)).scalars().all()
        assert all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in hashes)
