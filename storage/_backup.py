"""One municipality's data as a file, and back: backup, restore, and moving a municipality to
another installation.

The file is a zip archive (format :data:`BACKUP_FORMAT`):

* ``manifest.json``: the format, the schema version, the municipality (key, name, demo flag),
  the number of rows per table, and ``code_key``: a SHA-256 fingerprint of the installation's
  code and draft keys (it tells nothing about the keys);
* ``<table>.jsonl`` per table of :data:`~storage._schema.OWNED_TABLES` plus ``memberships``:
  one JSON object per row, column by column; dates as ``YYYY-MM-DD``, binary values
  (a dataset's compressed tables) as base64.

The export holds no key and no plaintext code. Access codes and drafts are stored as keyed
hashes (``storage._keys``): restored into an installation with other keys they would match no
code any more, so :meth:`Backups.restore` refuses such a file unless told to leave codes and
drafts out (``drop_codes``; the responses, questionnaires and datasets are complete without
them). Submission tokens are not exported (they belong to no municipality and expire with
nothing). A restore writes everything in one transaction or nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from datetime import date
from typing import Any

from sqlalchemy import Date, LargeBinary, Table, select

from core import InvalidInput, Location, Problem
from storage._engine import Database, municipality_scope
from storage._municipalities import Municipalities
from storage._schema import (
    CURRENT_VERSION,
    OWNED_TABLES,
    access_codes_table,
    drafts_table,
    memberships_table,
    municipalities_table,
    pending_keyings_table,
    questionnaires_table,
)

BACKUP_FORMAT = "sicherheitsanalyse-municipality-1"
MANIFEST = "manifest.json"
#: Rows keyed by a hash under the installation's keys: codes, drafts, first keyings of paper forms.
_CODE_TABLES = (access_codes_table, drafts_table, pending_keyings_table)
_TABLES: tuple[Table, ...] = (*OWNED_TABLES, memberships_table)


def code_key_fingerprint(database: Database) -> str:
    """SHA-256 over the code, draft and keying keys: equal on two installations exactly when
    their stored code hashes, draft keys and pending keyings' keys are interchangeable."""
    keys = database.keys
    return hashlib.sha256(
        b"codes\0" + keys.code + b"\0" + keys.draft + b"\0" + keys.keying
    ).hexdigest()


def _encode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = row[column.name]
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64encode(bytes(value)).decode("ascii")
        elif isinstance(value, date):
            value = value.isoformat()
        out[column.name] = value
    return out


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64decode(value)
        elif value is not None and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        out[column.name] = value
    return out


class Backups:
    """Export and restore of one municipality (the administration's operation)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def export(self, ags: str) -> bytes:
        """Every row of municipality ``ags`` as a zip archive (see the module)."""
        municipality = Municipalities(self._database.engine).require(ags)
        counts: dict[str, int] = {}
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            municipality_scope(ags),
            self._database.read() as connection,
        ):
            for table in _TABLES:
                rows = connection.execute(
                    select(table).where(table.c.municipality == ags)
                ).mappings()
                lines = [
                    json.dumps(_encode(table, dict(r)), ensure_ascii=False, sort_keys=True)
                    for r in rows
                ]
                counts[table.name] = len(lines)
                archive.writestr(f"{table.name}.jsonl", "".join(f"{line}\n" for line in lines))
            manifest = {
                "format": BACKUP_FORMAT,
                "schema_version": CURRENT_VERSION,
                "municipality": {
                    "ags": municipality.ags,
                    "name": municipality.name,
                    "demo": municipality.demo,
                },
                "rows": counts,
                "code_key": code_key_fingerprint(self._database),
            }
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
        return buffer.getvalue()

    def restore(self, data: bytes, *, source: str, drop_codes: bool = False) -> dict[str, int]:
        """Write a municipality's export into this installation; rows per table.

        Refused with located problems, nothing written: not an export of this format, another
        schema version, a municipality or a questionnaire id that exists here, or access codes
        hashed under other keys (unless ``drop_codes``). Everything else is written in one
        transaction."""
        archive, manifest = self._open(data, source)
        ags = str(manifest["municipality"]["ags"])
        problems: list[Problem] = []

        def refuse(field: str, key: str, **params: Any) -> None:
            problems.append(Problem(Location(file=source, field=field), key, params))

        if manifest.get("schema_version") != CURRENT_VERSION:
            refuse(
                "schema_version",
                "backup.schema_version",
                found=manifest.get("schema_version"),
                expected=CURRENT_VERSION,
            )
        if Municipalities(self._database.engine).get(ags) is not None:
            refuse("municipality.ags", "backup.municipality_exists", ags=ags)
        tables = {t.name: self._rows(archive, t, source) for t in _TABLES}
        same_keys = manifest.get("code_key") == code_key_fingerprint(self._database)
        has_codes = any(tables[t.name] for t in _CODE_TABLES)
        if has_codes and not same_keys and not drop_codes:
            refuse("code_key", "backup.other_keys")
        if any(row.get("municipality") != ags for rows in tables.values() for row in rows):
            refuse("municipality", "backup.foreign_rows", ags=ags)
        ids = [str(r["id"]) for r in tables[questionnaires_table.name]]
        with self._database.read() as connection:
            q = questionnaires_table
            taken = connection.execute(select(q.c.id).where(q.c.id.in_(ids))).scalars().all()
        for questionnaire_id in taken:
            refuse("questionnaires.id", "storage.publish.id_taken", id=questionnaire_id)
        if problems:
            raise InvalidInput(problems)
        if drop_codes and not same_keys:
            for table in _CODE_TABLES:
                tables[table.name] = []
        written: dict[str, int] = {}
        municipality = manifest["municipality"]
        with municipality_scope(ags), self._database.write() as connection:
            connection.execute(
                municipalities_table.insert().values(
                    ags=ags, name=str(municipality["name"]), demo=bool(municipality["demo"])
                )
            )
            for table in _TABLES:  # in dependency order: questionnaires before their rows
                rows = tables[table.name]
                if rows:
                    connection.execute(table.insert(), rows)
                written[table.name] = len(rows)
        return written

    @staticmethod
    def _open(data: bytes, source: str) -> tuple[zipfile.ZipFile, dict[str, Any]]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            manifest = json.loads(archive.read(MANIFEST))
            if manifest.get("format") != BACKUP_FORMAT:
                raise ValueError(manifest.get("format"))
            str(manifest["municipality"]["ags"])
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as error:
            raise InvalidInput(
                [
                    Problem(
                        Location(file=source, field=MANIFEST),
                        "backup.not_an_export",
                        {"expected": BACKUP_FORMAT, "reason": str(error)},
                    )
                ]
            ) from None
        return archive, manifest

    @staticmethod
    def _rows(archive: zipfile.ZipFile, table: Table, source: str) -> list[dict[str, Any]]:
        name = f"{table.name}.jsonl"
        try:
            text = archive.read(name).decode("utf-8")
        except KeyError:
            raise InvalidInput(
                [Problem(Location(file=source, field=name), "backup.missing_table")]
            ) from None
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                rows.append(_decode(table, json.loads(line)))
            except (ValueError, TypeError) as error:
                raise InvalidInput(
                    [
                        Problem(
                            Location(file=f"{source}:{name}", line=number),
                            "backup.bad_row",
                            {"reason": str(error)},
                        )
                    ]
                ) from None
        return rows
