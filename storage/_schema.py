"""Tables of the survey storage and their migrations.

Privacy shapes the schema: responses carry a submission *date* and nothing finer; access
codes and drafts are stored only as keyed hashes (with two different keys, so the two tables
cannot be joined without the plaintext code); a code knows only whether it was used, never by
which response; submission tokens are hashes without a time. No table stores an IP address,
a user agent or a timestamp.

Every table of the product is declared here, on :data:`metadata`, next to the migrations that
create it: the survey's tables, the manager accounts with their sign-in throttle and the saved
datasets.

The schema version lives in ``schema_version``; :data:`MIGRATIONS` is the ordered list of
steps from an empty database to the current schema. A new step is appended, never edited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)

metadata = MetaData()

#: Longest manager user name; the accounts' validation uses the same bound.
MAX_NAME_LENGTH = 64

schema_version_table = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

#: Where databases before migration 4 kept the hash keys; emptied when the keys move to the key
#: file (``storage._keys``), kept declared so that old databases can be read.
installation_secrets_table = Table(
    "installation_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

questionnaires_table = Table(
    "questionnaires",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("revision", String(100), nullable=False),
    #: Localized title as JSON text.
    Column("title", Text, nullable=False),
    Column("access", String(10), nullable=False),
    Column("state", String(10), nullable=False),
)

questionnaire_revisions_table = Table(
    "questionnaire_revisions",
    metadata,
    Column("questionnaire_id", String(100), ForeignKey("questionnaires.id"), primary_key=True),
    Column("revision", String(100), primary_key=True),
    Column("published_on", Date, nullable=False),
    Column("source_text", Text, nullable=False),
)

code_batches_table = Table(
    "code_batches",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("questionnaire_id", String(100), ForeignKey("questionnaires.id"), nullable=False),
    Column("stratum", String(100), nullable=True),
    Column("created_on", Date, nullable=False),
    Column("issued", Integer, nullable=False),
)

access_codes_table = Table(
    "access_codes",
    metadata,
    #: Keyed hash of (questionnaire, normalised code); the plaintext is never stored.
    Column("code_hash", String(64), primary_key=True),
    Column("batch_id", String(20), ForeignKey("code_batches.id"), nullable=False, index=True),
    Column("used", Boolean, nullable=False, default=False),
)

drafts_table = Table(
    "drafts",
    metadata,
    #: Keyed hash of (questionnaire, normalised code) with a key different from the codes'.
    Column("draft_key", String(64), primary_key=True),
    Column("questionnaire_id", String(100), nullable=False),
    Column("page", Integer, nullable=False),
    Column("answers", Text, nullable=False),
)

submission_tokens_table = Table(
    "submission_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    sqlite_with_rowid=False,
)

responses_table = Table(
    "responses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("questionnaire_id", String(100), nullable=False, index=True),
    Column("questionnaire_revision", String(100), nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("language", String(10), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("stratum", String(100), nullable=True),
    #: Answers by variable id (codebook layout) as a JSON object.
    Column("answers", Text, nullable=False),
    # Without a rowid SQLite keeps rows in random-id order, so the file's row order does not
    # tell which response came after which (a time finer than the day).
    sqlite_with_rowid=False,
)

STORAGE_TABLES: tuple[Table, ...] = (
    installation_secrets_table,
    questionnaires_table,
    questionnaire_revisions_table,
    code_batches_table,
    access_codes_table,
    drafts_table,
    submission_tokens_table,
    responses_table,
)

# --- the manager's preview: answers given while trying a survey ----------------------------

test_responses_table = Table(
    "test_responses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("questionnaire_id", String(100), nullable=False, index=True),
    Column("questionnaire_revision", String(100), nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("language", String(10), nullable=False),
    #: Answers by variable id (codebook layout) as a JSON object, as in ``responses``.
    Column("answers", Text, nullable=False),
    sqlite_with_rowid=False,
)

#: Test answers live in their own table, never beside the residents' responses: no reading,
#: counting, analysis or export of ``responses`` can ever include them by mistake.
TEST_RESPONSE_TABLES: tuple[Table, ...] = (test_responses_table,)

# --- manager accounts: argon2 hashes, and failed sign-ins per (hashed) attempted name --------

users_table = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME_LENGTH), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_on", Date, nullable=False),
)

sign_in_throttle_table = Table(
    "sign_in_throttle",
    metadata,
    #: Keyed hash of the attempted name: whatever was typed (a password in the wrong field)
    #: never reaches the file.
    Column("name_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    #: UTC, without time zone (SQLite keeps none); refused before this moment.
    Column("not_before", DateTime(timezone=False), nullable=False),
)

ACCOUNT_TABLES: tuple[Table, ...] = (users_table, sign_in_throttle_table)

# --- saved incident and population datasets --------------------------------------------------

datasets_table = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("source", String(255), nullable=False),
    Column("layout", String(10), nullable=False),
    Column("years", String(255), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("saved_on", Date, nullable=False),
    #: gzip-compressed JSON of the imported tables (table, margins, derived population).
    Column("payload", LargeBinary, nullable=False),
)

DATASET_TABLES: tuple[Table, ...] = (datasets_table,)


# --- paper forms keyed in twice: the first keying until the second one is resolved -----------

pending_keyings_table = Table(
    "pending_keyings",
    metadata,
    #: Keyed hash (a key of its own, ``storage._keys``) of the questionnaire and the form's
    #: access code or serial number: the plaintext is never stored, and the hash matches
    #: neither ``access_codes`` nor ``drafts``.
    Column("form_key", String(64), primary_key=True),
    Column("questionnaire_id", String(100), nullable=False, index=True),
    Column("questionnaire_revision", String(100), nullable=False),
    #: The code batch the form belongs to ("": a form without an access code).
    Column("batch_id", String(20), nullable=False),
    #: The day of the first keying (no finer time).
    Column("keyed_on", Date, nullable=False),
    #: The first keying's answers (form layout) as a JSON object.
    Column("answers", Text, nullable=False),
    # No rowid: the file's row order does not tell which form was keyed after which.
    sqlite_with_rowid=False,
)

keyed_forms_table = Table(
    "keyed_forms",
    metadata,
    Column("questionnaire_id", String(100), primary_key=True),
    #: The code batch ("": forms without an access code).
    Column("batch_id", String(20), primary_key=True),
    #: Paper forms of the batch stored as keyed responses: a count, never which ones.
    Column("stored", Integer, nullable=False),
)

#: The data entry of paper forms (``storage._keyings``).
KEYING_TABLES: tuple[Table, ...] = (pending_keyings_table, keyed_forms_table)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _initial_schema(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(STORAGE_TABLES))


def _accounts_and_datasets(connection: Connection) -> None:
    # Until this step, Store and Accounts created these tables on the fly (create_all), so
    # an existing database may already have them: create_all only adds what is missing.
    metadata.create_all(connection, tables=[*ACCOUNT_TABLES, *DATASET_TABLES])


def _responses_by_day_index(connection: Connection) -> None:
    # Responses per day (the overview's chart and the analysis cache key) become an index-only
    # scan instead of reading every response row. Within one day the index is ordered by the
    # random response id, so it reveals no submission order.
    connection.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_responses_questionnaire_day "
            "ON responses (questionnaire_id, submitted_on)"
        )
    )


def _keyed_sign_in_throttle(connection: Connection) -> None:
    # The old table held attempted names as typed. Its rows are only back-off state (a day at
    # most), so dropping them loses nothing; secure_delete zeroes the freed pages.
    connection.execute(text("DROP TABLE IF EXISTS sign_in_throttle"))
    metadata.create_all(connection, tables=[sign_in_throttle_table])


def _test_responses(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(TEST_RESPONSE_TABLES))


def _keyings(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(KEYING_TABLES))


#: Ordered steps with ascending ``version`` numbers. A gap is allowed (version 6 belongs to
#: another branch); :func:`migrate` applies every step above the stored version.
MIGRATIONS: Sequence[Migration] = (
    Migration(1, "initial storage schema", _initial_schema),
    Migration(2, "manager accounts and saved datasets", _accounts_and_datasets),
    Migration(3, "index of responses per questionnaire and day", _responses_by_day_index),
    Migration(4, "sign-in throttle keyed by a hash of the name", _keyed_sign_in_throttle),
    Migration(5, "test answers of the manager's preview", _test_responses),
    Migration(7, "pending keyings and keyed-form counts of the paper data entry", _keyings),
)

CURRENT_VERSION = MIGRATIONS[-1].version


def migrate(connection: Connection) -> int:
    """Bring the schema to :data:`CURRENT_VERSION` inside the caller's write transaction.

    The caller holds the database's write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory
    lock on PostgreSQL), so two processes starting at once migrate one after the other.
    Returns the version found before migrating.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(7318004)"))
    metadata.create_all(connection, tables=[schema_version_table])
    found = connection.execute(
        select(schema_version_table.c.version).where(schema_version_table.c.id == 1)
    ).scalar_one_or_none()
    current = found or 0
    for migration in MIGRATIONS:
        if migration.version > current:
            migration.apply(connection)
            current = migration.version
    # Every declared table, created under the same lock so that concurrent starts do not
    # collide (a no-op once the migrations above have run).
    metadata.create_all(connection)
    if found is None:
        connection.execute(schema_version_table.insert().values(id=1, version=current))
    elif found != current:
        connection.execute(
            schema_version_table.update()
            .where(schema_version_table.c.id == 1)
            .values(version=current)
        )
    return found or 0
