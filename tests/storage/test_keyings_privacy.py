"""The pending keyings of a double entry, attacked the way someone with a copy of the SQLite
database would: after the resolved form is stored, nothing in the file or its WAL links the
form's access code to the answers keyed under it (docs/privacy.md, "Papier erfassen")."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage import PaperForm, pending_keyings_table
from survey import keyed_hash, normalise_code
from tests.fixtures import SOURCE_TEXT, municipality_store, small_questionnaire

#: Typed only in the first keyings, corrected in the second: what an attacker would look for.
MARKER = "erstkeying-markierung"


def _file_bytes(db: Path) -> bytes:
    return b"".join(
        Path(f"{db}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-journal")
        if Path(f"{db}{suffix}").exists()
    )


def test_after_storing_no_code_answer_link_is_left_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    questionnaire = small_questionnaire(access="code")
    forms: list[tuple[PaperForm, str]] = []
    with municipality_store(f"sqlite:///{db}") as store:
        store.publish_questionnaire(questionnaire, SOURCE_TEXT)
        batch = store.create_codes("befragung", 6)
        keys = store.database.keys
        for index, code in enumerate(batch.codes):
            form = PaperForm(batch.id, code=code)
            first: dict[str, Any] = {"age": 30 + index, "remarks": f"{MARKER}{index}"}
            store.save_first_keying(questionnaire, form, first)
            normalised = normalise_code(code)
            assert normalised is not None
            forms.append((form, keyed_hash(keys.keying, "befragung", "code", normalised)))
        # While pending, the link exists (that is what the table is for) ...
        store.database.checkpoint()
        held = _file_bytes(db)
        assert MARKER.encode() in held
        assert all(form_key.encode() in held for _form, form_key in forms)
        # ... and the second keyings resolve every form (the remark was misread first).
        for index, (form, _form_key) in enumerate(forms):
            result = store.store_keyed(
                questionnaire,
                form,
                {"age": 30 + index, "remarks": f"zweite {index}"},
                language="de",
                submission_token=secrets.token_urlsafe(16),
            )
            assert result.stored
        with store.engine.connect() as connection:
            assert connection.execute(select(pending_keyings_table)).all() == []
        assert store.database.checkpoint()
    data = _file_bytes(db)
    # No pending answer and no pending key survive: not in a free page, not in the WAL.
    assert MARKER.encode() not in data
    for _form, form_key in forms:
        assert form_key.encode() not in data
    # The plaintext codes were never written at all.
    for form, _form_key in forms:
        assert form.code is not None
        assert normalise_code(form.code).encode() not in data  # type: ignore[union-attr]
    # What is left is what any response has: no date finer than a day in the keyings' tables.
    with sqlite3.connect(db) as connection:
        columns = {
            row[1]: row[2]
            for table in ("pending_keyings", "keyed_forms")
            for row in connection.execute(f"PRAGMA table_info({table})")
        }
    assert "keyed_on" in columns
    assert "DATE" in columns["keyed_on"].upper()
    assert not any("TIME" in kind.upper() for kind in columns.values())
