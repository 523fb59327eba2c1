"""Anonymity that holds for the SQLite file itself (issue #12), tried the way an attacker with
a copy of the database would: replay the WAL frame by frame, read the cell offsets inside
the main file's pages, and look for the hash key that turns a plaintext code (from the mail
merge) into its stored hash.

Before: replaying a copy of the live WAL gave the exact submission order and the code ->
response link for 40 of 40 coded respondents (the key sat in the database), cell offsets
ordered 60-100 % of the pairs on a page, and the files were 0644 in a 0755 folder.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import struct
import time
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from core import StorageError
from storage import SQLITE_PAGE_SIZE
from storage._engine import CHECKPOINT_QUIET_SECONDS
from survey import Access, keyed_hash, normalise_code
from tests.fixtures import SOURCE_TEXT, full_answers, municipality_store, small_questionnaire

RESPONDENTS = 40


def _marker(index: int) -> bytes:
    return f"antwort{index:03d}x".encode()


def _answers(index: int, rng: np.random.Generator) -> dict[str, Any]:
    answers = full_answers()
    # A real remark's length varies; the marker lets the test (not the attacker) know who is who.
    answers["remarks"] = _marker(index).decode() + "." * int(rng.integers(0, 38))
    return answers


def _copy(db: Path, folder: Path) -> Path:
    """What an attacker copies off a running server: the database file and its WAL."""
    folder.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{db}{suffix}")
        if source.exists():
            shutil.copyfile(source, folder / f"copy.db{suffix}")
    return folder / "copy.db"


def _wal_commits(wal: Path) -> list[list[bytes]]:
    """The WAL's committed transactions, each as its list of page images (file format 4.3)."""
    if not wal.exists() or wal.stat().st_size < 32:
        return []
    data = wal.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    commits: list[list[bytes]] = []
    current: list[bytes] = []
    offset = 32
    while offset + 24 + page_size <= len(data):
        db_size_after_commit = struct.unpack(">I", data[offset + 4 : offset + 8])[0]
        current.append(data[offset + 24 : offset + 24 + page_size])
        offset += 24 + page_size
        if db_size_after_commit:
            commits.append(current)
            current = []
    return commits


def _fold_wal(copy: Path) -> None:
    """Fold a copied WAL into the copied file, as an attacker with sqlite3 would."""
    with sqlite3.connect(copy) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _pages(db: Path) -> list[bytes]:
    data = db.read_bytes()
    page_size = struct.unpack(">H", data[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    return [data[i : i + page_size] for i in range(0, len(data), page_size)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """40 coded respondents submit one after another, a moment apart as real respondents do;
    the attacker copies the files right after a submission in the middle of the run (the
    worst moment), and at its end after a quiet moment (the server still running)."""
    rng = np.random.default_rng(20261127)
    tmp_path = tmp_path_factory.mktemp("anonymity")
    db = tmp_path / "data" / "survey.db"
    store = municipality_store(f"sqlite:///{db}")
    store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
    store.set_access("befragung", Access.CODE)
    codes = store.create_codes("befragung", RESPONDENTS).codes
    copies = []
    for index, code in enumerate(codes):
        result = store.submit(
            small_questionnaire(),
            _answers(index, rng),
            language="de",
            submission_token=f"token-{index:04d}-xxxxxxxxxxxx",
            code=code,
        )
        assert result.stored
        if index == RESPONDENTS // 2:
            copies.append(_copy(db, tmp_path / f"copy{index}"))
        time.sleep(CHECKPOINT_QUIET_SECONDS * 1.5)
    copies.append(_copy(db, tmp_path / "copy-end"))
    yield {"db": db, "codes": codes, "copies": copies, "store": store}
    store.close()


def test_the_wal_of_a_running_server_replays_no_submission_order(run: dict[str, Any]) -> None:
    for copy in run["copies"]:
        commits = _wal_commits(Path(f"{copy}-wal"))
        seen_in_commits = [
            {i for i in range(RESPONDENTS) if any(_marker(i) in page for page in commit)}
            for commit in commits
        ]
        # The WAL is truncated whenever the writers have been quiet for a moment: a copy
        # holds at most the submission that has just happened, so there is no order to replay.
        assert len([s for s in seen_in_commits if s]) <= 1
    assert _wal_commits(Path(f"{run['copies'][-1]}-wal")) == []  # after a quiet moment


def test_cell_offsets_in_the_main_file_order_no_more_pairs_than_chance(
    run: dict[str, Any],
) -> None:
    """Inside a page, SQLite puts a new cell below the older ones; an attacker reading the
    offsets of two responses on one page learns which came first, unless the page was
    reshuffled."""
    copy = run["copies"][-1]
    _fold_wal(copy)
    agree = pairs = 0
    for page in _pages(copy):
        offsets = {i: page.find(_marker(i)) for i in range(RESPONDENTS)}
        present = sorted((i, o) for i, o in offsets.items() if o >= 0)
        for (_first, first_offset), (_later, later_offset) in combinations(present, 2):
            pairs += 1
            agree += later_offset < first_offset  # "lower offset = inserted later"
    assert pairs >= 50, "the responses should share pages for this attack to mean anything"
    share = agree / pairs
    assert 0.3 <= share <= 0.7, f"{share:.0%} of {pairs} pairs ordered by offset"


def test_no_key_in_the_files_links_a_plaintext_code_to_its_hash(run: dict[str, Any]) -> None:
    """The attacker holds the mail merge (plaintext codes) and copies of the files, and tries
    every 32-byte value the database keeps as a key."""
    copy = run["copies"][-1]
    _fold_wal(copy)
    with sqlite3.connect(copy) as connection:
        stored_hashes = {h for (h,) in connection.execute("select code_hash from access_codes")}
        candidates = [
            bytes(value)
            for (value,) in connection.execute("select value from installation_secrets")
        ]
    raw = b"".join(_pages(copy))
    for start in range(0, len(raw) - 32, 16):  # and every aligned 32 bytes of the file
        candidates.append(raw[start : start + 32])
    for code in run["codes"][:5]:
        normalised = normalise_code(code)
        assert normalised is not None
        for key in candidates:
            assert keyed_hash(key, "befragung", normalised) not in stored_hashes


def test_database_and_key_files_are_private(run: dict[str, Any]) -> None:
    db: Path = run["db"]
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for path in (db, Path(f"{db}-wal"), Path(f"{db}.keys")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_secure_delete_and_wal_truncation_are_set_explicitly(run: dict[str, Any]) -> None:
    with run["store"].engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE


def test_keys_of_an_existing_database_move_to_the_key_file(sqlite_url: str) -> None:
    """A database from before the key file: its codes keep working, its keys leave it."""
    db = Path(sqlite_url.split("///", 1)[1])
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
        [code] = store.create_codes("befragung", 1).codes
        keys = store.database.keys
    # Put the database back into the old layout: keys in the table, no fingerprint, no file.
    Path(f"{db}.keys").unlink()
    with sqlite3.connect(db) as connection:
        connection.execute("delete from installation_secrets")
        for name, value in (("code", keys.code), ("draft", keys.draft), ("token", keys.token)):
            connection.execute(
                "insert into installation_secrets values (?, ?)", (f"{name}_hash_key", value)
            )
    with municipality_store(sqlite_url) as store:
        assert store.check_code("befragung", code).value == "valid"
        with store.engine.connect() as connection:
            names = connection.execute(text("select name from installation_secrets")).scalars()
            assert list(names) == ["key_fingerprint"]  # SHA-256 over the keys, nothing more
    assert stat.S_IMODE(Path(f"{db}.keys").stat().st_mode) == 0o600
    assert keys.code.hex().encode() not in db.read_bytes()
    assert keys.code not in db.read_bytes()


def test_a_missing_or_foreign_key_file_is_refused_not_replaced(
    sqlite_url: str, tmp_path: Path
) -> None:
    """New keys would quietly invalidate every issued code (a lost file, a CLI run from
    another folder, a replica without the shared file): the database refuses to open."""
    db = Path(sqlite_url.split("///", 1)[1])
    with municipality_store(sqlite_url) as store:
        store.publish_questionnaire(small_questionnaire(), SOURCE_TEXT)
        [code] = store.create_codes("befragung", 1).codes
    keys = Path(f"{db}.keys")
    kept = keys.read_bytes()
    keys.unlink()
    with pytest.raises(StorageError, match="is missing"):
        municipality_store(sqlite_url)
    municipality_store(f"sqlite:///{tmp_path / 'other.db'}").close()
    keys.write_bytes(Path(f"{tmp_path / 'other.db'}.keys").read_bytes())
    with pytest.raises(StorageError, match="belongs to another database"):
        municipality_store(sqlite_url)
    keys.write_bytes(kept)
    with municipality_store(sqlite_url) as store:
        assert store.check_code("befragung", code).value == "valid"
