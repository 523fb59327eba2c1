"""The installation's hash keys, kept in a file outside the database.

The keys turn an access code into its stored hash (``access_codes``), a code into its draft's
key (``drafts``), a session's token into its stored hash, an attempted user name into its
throttle row and a paper form's code or serial number into its pending keying's key. Whoever
holds a key and a database copy can test a plaintext code (from the mail merge) against the
stored hashes; so the keys must never travel with the database: not in the file, not in its
WAL, not in its backups.

Where the key file lives:

* ``SICHERHEITSANALYSE_KEY_FILE`` if set (e.g. a secrets mount, or a path outside the backup);
* SQLite: next to the database file, ``<database>.keys`` (mode 0600 in the 0700 folder);
* PostgreSQL: ``data/<database name>.keys`` under the working directory.

The file is JSON with one hex key per name, created atomically (``os.link`` of a complete
temporary file, so two processes starting at once agree on one set of keys) with mode 0600.

Databases from before this module kept the keys in the table ``installation_secrets``: on
opening, those keys are written to the key file (so every stored hash stays valid) and the
rows are deleted (``secure_delete`` overwrites them; the caller truncates the WAL).

The database keeps only a *fingerprint* of its keys (SHA-256 over them, which tells nothing
about them): a database whose key file is missing or is another installation's refuses to
open, instead of quietly making new keys under which no issued code would work any more (a
lost file, a CLI run from another folder, a second replica without the shared key file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Connection, select

from core import StorageError
from storage._schema import installation_secrets_table

KEY_FILE_ENV_VAR = "SICHERHEITSANALYSE_KEY_FILE"
#: The folder of the default SQLite database; PostgreSQL's key files go there too.
DATA_FOLDER = Path("data")
#: Every key the installation uses; a key added in a later release is added to the file.
KEY_NAMES: tuple[str, ...] = ("code", "draft", "token", "throttle", "keying")
#: Where databases before the key file kept the first three keys.
_LEGACY_ROWS = {"code": "code_hash_key", "draft": "draft_hash_key", "token": "token_hash_key"}
#: The row of ``installation_secrets`` that holds the keys' fingerprint.
FINGERPRINT_ROW = "key_fingerprint"


@dataclass(frozen=True)
class InstallationKeys:
    """The installation's random hash keys. Codes and drafts are hashed with different keys,
    so their tables cannot be joined without the plaintext code."""

    code: bytes
    draft: bytes
    token: bytes
    throttle: bytes
    #: The key of a paper form's first keying (``pending_keyings``), different from the
    #: codes' and the drafts', so no table can be joined to it without the plaintext code.
    keying: bytes


def key_file_path(url: URL) -> Path | None:
    """Where the keys of the database at ``url`` are kept (``None``: an in-memory database,
    whose keys live as long as the process)."""
    configured = os.environ.get(KEY_FILE_ENV_VAR)
    if configured:
        return Path(configured)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            return None
        return Path(database + ".keys")
    return DATA_FOLDER / f"{url.database or 'postgresql'}.keys"


def load_keys(connection: Connection, path: Path | None) -> InstallationKeys:
    """The keys from ``path``, created on first use, with keys left in the database moved out.

    Runs inside the caller's write transaction (the migration's lock), so concurrent starts
    of one database see the same legacy rows.
    """
    table = installation_secrets_table
    table.create(connection, checkfirst=True)  # Accounts may open a database first
    legacy = _legacy_keys(connection)
    fingerprint = connection.execute(
        select(table.c.value).where(table.c.name == FINGERPRINT_ROW)
    ).scalar_one_or_none()
    if path is None:
        found: dict[str, bytes] = {}
    else:
        found = _read(path)
    if path is not None and fingerprint is not None and not found and not legacy:
        raise StorageError(
            f"the key file {path} of this database is missing; restore it, or set "
            "SICHERHEITSANALYSE_KEY_FILE to where it is (new keys would invalidate every code)"
        )
    for name, value in legacy.items():
        if name in found and found[name] != value:
            raise StorageError(
                f"the key file {path} does not belong to this database (key {name!r} differs); "
                "set SICHERHEITSANALYSE_KEY_FILE to the right file"
            )
    wanted = {
        name: found.get(name) or legacy.get(name) or secrets.token_bytes(32) for name in KEY_NAMES
    }
    if path is not None and set(found) != set(wanted):
        found = _write(path, wanted, exists=bool(found))
        wanted = {**wanted, **found}
    if legacy:
        connection.execute(table.delete().where(table.c.name.in_(list(_LEGACY_ROWS.values()))))
    # Only the keys that were there from the start: a key added by a newer release must not
    # make an older database's fingerprint look foreign.
    expected = _fingerprint({name: wanted[name] for name in _LEGACY_ROWS})
    if fingerprint is None:
        connection.execute(table.insert().values(name=FINGERPRINT_ROW, value=expected))
    elif bytes(fingerprint) != expected:
        raise StorageError(
            f"the key file {path} belongs to another database; set SICHERHEITSANALYSE_KEY_FILE "
            "to this database's key file"
        )
    return InstallationKeys(**{name: wanted[name] for name in KEY_NAMES})


def _fingerprint(keys: dict[str, bytes]) -> bytes:
    digest = hashlib.sha256(b"sicherheitsanalyse installation keys\x00")
    for name in sorted(keys):
        digest.update(name.encode() + b"\x00" + keys[name])
    return digest.digest()


def _legacy_keys(connection: Connection) -> dict[str, bytes]:
    table = installation_secrets_table
    rows = connection.execute(select(table.c.name, table.c.value)).all()
    by_row = {str(row.name): bytes(row.value) for row in rows}
    return {name: by_row[row] for name, row in _LEGACY_ROWS.items() if row in by_row}


def _read(path: Path) -> dict[str, bytes]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
        keys = {str(name): bytes.fromhex(str(value)) for name, value in data["keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StorageError(f"the key file {path} is damaged: {error}") from None
    # A key file readable by others defeats its purpose; tighten what an operator copied in.
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return keys


def _write(path: Path, keys: dict[str, bytes], *, exists: bool) -> dict[str, bytes]:
    """Write ``keys`` to ``path`` with mode 0600 and return what the file then holds.

    A new file is linked into place only if no other process created it meanwhile (that
    process's keys win); an existing file (a key added by a newer release) is replaced.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = json.dumps({"keys": {name: value.hex() for name, value in keys.items()}}, indent=1)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if exists:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return _read(path)
