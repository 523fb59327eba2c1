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
    inspect,
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

# --- municipalities: the tenants, and who may work for which -------------------------------

#: An official municipality key (Amtlicher Gemeindeschlüssel) has 8 digits.
AGS_LENGTH = 8

municipalities_table = Table(
    "municipalities",
    metadata,
    Column("ags", String(AGS_LENGTH), primary_key=True),
    Column("name", String(200), nullable=False),
    #: The demo municipality (synthetic data, a fake key starting with 99).
    Column("demo", Boolean, nullable=False, default=False),
)

memberships_table = Table(
    "memberships",
    metadata,
    #: A local account's name or an OIDC account's e-mail address (lower case).
    Column("account", String(255), primary_key=True),
    Column(
        "municipality",
        String(AGS_LENGTH),
        ForeignKey("municipalities.ags", ondelete="CASCADE"),
        primary_key=True,
    ),
)

MUNICIPALITY_TABLES: tuple[Table, ...] = (municipalities_table, memberships_table)


def _owner() -> Column[str]:
    """The municipality a row belongs to; ``NULL`` only for data of a database from before
    migration 6 that no municipality adopted yet (``sicherheitsanalyse municipality adopt``)."""
    # No foreign key: the tables of migration 1 are created before ``municipalities`` exists;
    # the store writes only keys of existing municipalities.
    return Column("municipality", String(AGS_LENGTH), nullable=True, index=True)


questionnaires_table = Table(
    "questionnaires",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("revision", String(100), nullable=False),
    #: Localized title as JSON text.
    Column("title", Text, nullable=False),
    Column("access", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    _owner(),
)

questionnaire_revisions_table = Table(
    "questionnaire_revisions",
    metadata,
    Column("questionnaire_id", String(100), ForeignKey("questionnaires.id"), primary_key=True),
    Column("revision", String(100), primary_key=True),
    Column("published_on", Date, nullable=False),
    Column("source_text", Text, nullable=False),
    _owner(),
)

code_batches_table = Table(
    "code_batches",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("questionnaire_id", String(100), ForeignKey("questionnaires.id"), nullable=False),
    Column("stratum", String(100), nullable=True),
    Column("created_on", Date, nullable=False),
    Column("issued", Integer, nullable=False),
    _owner(),
)

access_codes_table = Table(
    "access_codes",
    metadata,
    #: Keyed hash of (questionnaire, normalised code); the plaintext is never stored.
    Column("code_hash", String(64), primary_key=True),
    Column("batch_id", String(20), ForeignKey("code_batches.id"), nullable=False, index=True),
    Column("used", Boolean, nullable=False, default=False),
    _owner(),
)

drafts_table = Table(
    "drafts",
    metadata,
    #: Keyed hash of (questionnaire, normalised code) with a key different from the codes'.
    Column("draft_key", String(64), primary_key=True),
    Column("questionnaire_id", String(100), nullable=False),
    Column("page", Integer, nullable=False),
    Column("answers", Text, nullable=False),
    _owner(),
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
    _owner(),
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
    _owner(),
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
    _owner(),
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
    #: The municipality the form belongs to (row-level security, a municipality's export).
    Column("municipality", String(AGS_LENGTH), nullable=True, index=True),
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
    Column("municipality", String(AGS_LENGTH), nullable=True, index=True),
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
    if connection.dialect.name == "postgresql":
        _row_level_security(connection, KEYING_TABLES)


#: Every table holding a municipality's data: each has the ``municipality`` column, a
#: row-level-security policy on PostgreSQL, and is what a municipality's export contains.
_OWNED_BEFORE_KEYINGS: tuple[Table, ...] = (
    questionnaires_table,
    questionnaire_revisions_table,
    code_batches_table,
    access_codes_table,
    drafts_table,
    responses_table,
    test_responses_table,
    datasets_table,
)
OWNED_TABLES: tuple[Table, ...] = (*_OWNED_BEFORE_KEYINGS, *KEYING_TABLES)

#: The PostgreSQL setting naming the municipality of the current transaction.
MUNICIPALITY_SETTING = "app.municipality"
#: Returns the municipality of a questionnaire id to the public survey page (which knows only
#: the id) without giving it any other row: runs as the tables' owner (SECURITY DEFINER).
OWNER_FUNCTION = "sicherheitsanalyse_questionnaire_municipality"


def _municipalities(connection: Connection) -> None:
    metadata.create_all(connection, tables=list(MUNICIPALITY_TABLES))
    inspector = inspect(connection)
    # The tables as they were at version 6; the keying tables come with 7, column included.
    for table in _OWNED_BEFORE_KEYINGS:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        if "municipality" not in columns:
            connection.execute(
                text(f"ALTER TABLE {table.name} ADD COLUMN municipality VARCHAR({AGS_LENGTH})")
            )
        connection.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS ix_{table.name}_municipality "
                f"ON {table.name} (municipality)"
            )
        )
    if connection.dialect.name == "postgresql":
        _row_level_security(connection, _OWNED_BEFORE_KEYINGS)


def _row_level_security(connection: Connection, tables: Sequence[Table]) -> None:
    """Policies: a row is visible and writable only while the transaction's
    ``app.municipality`` names its municipality. FORCE: the tables' owner is held to them too,
    unless it is a superuser or has BYPASSRLS (the administration's role; see
    docs/operations.md). Rows no municipality adopted yet are visible to no app session."""
    setting = f"current_setting('{MUNICIPALITY_SETTING}', true)"
    for table in tables:
        name = table.name
        connection.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
        connection.execute(text(f"DROP POLICY IF EXISTS municipality_only ON {name}"))
        connection.execute(
            text(
                f"CREATE POLICY municipality_only ON {name} "
                f"USING (municipality = {setting}) "
                f"WITH CHECK (municipality = {setting})"
            )
        )
    # Only constants and the quoted schema name go into the statement.
    function = (
        f"CREATE OR REPLACE FUNCTION {OWNER_FUNCTION}(questionnaire text) "  # noqa: S608
        "RETURNS text LANGUAGE sql STABLE SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $$ "
        f"SELECT municipality FROM {_schema_name(connection)}.questionnaires "
        "WHERE id = questionnaire $$"
    )
    connection.execute(text(function))


def _schema_name(connection: Connection) -> str:
    """The schema of the tables, quoted (the function runs with an empty search path)."""
    name = str(connection.execute(text("SELECT current_schema()")).scalar_one())
    return connection.dialect.identifier_preparer.quote(name)


#: Ordered steps with ascending ``version`` numbers; :func:`migrate` applies every step above
#: the stored version.
MIGRATIONS: Sequence[Migration] = (
    Migration(1, "initial storage schema", _initial_schema),
    Migration(2, "manager accounts and saved datasets", _accounts_and_datasets),
    Migration(3, "index of responses per questionnaire and day", _responses_by_day_index),
    Migration(4, "sign-in throttle keyed by a hash of the name", _keyed_sign_in_throttle),
    Migration(5, "test answers of the manager's preview", _test_responses),
    Migration(
        6, "municipalities as tenants: owner columns, members, row-level security", _municipalities
    ),
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
