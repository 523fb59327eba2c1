"""The database, through SQLAlchemy only: the engine and the one write path, the schema and its
migrations, and the stores for questionnaires, codes, drafts, responses, accounts and datasets.
"""

from __future__ import annotations

from storage._accounts import (
    ADMIN_NAME,
    FREE_ATTEMPTS,
    MAX_DELAY_SECONDS,
    MIN_PASSWORD_LENGTH,
    Accounts,
    SignInResult,
    SignInStatus,
    UserRecord,
    UserRole,
    back_off_seconds,
    oidc_manager_allowed,
    password_problems,
    sign_in_throttle_table,
    users_table,
)
from storage._answers import MODES
from storage._datasets import DATASET_TABLES, Dataset, DatasetKind, Datasets, DatasetSummary
from storage._engine import (
    DATABASE_URL_ENV_VAR,
    SQLITE_PAGE_SIZE,
    database_url,
    make_engine,
    metadata,
)
from storage._schema import (
    CURRENT_VERSION,
    MIGRATIONS,
    STORAGE_TABLES,
    responses_table,
    schema_version_table,
    submission_tokens_table,
)
from storage._store import (
    CodeBatch,
    CodeBatchSummary,
    CodeStatus,
    Draft,
    QuestionnaireRecord,
    QuestionnaireState,
    Store,
    SubmitResult,
    SubmitStatus,
)

__all__ = [
    "ADMIN_NAME",
    "CURRENT_VERSION",
    "DATABASE_URL_ENV_VAR",
    "DATASET_TABLES",
    "FREE_ATTEMPTS",
    "MAX_DELAY_SECONDS",
    "MIGRATIONS",
    "MIN_PASSWORD_LENGTH",
    "MODES",
    "SQLITE_PAGE_SIZE",
    "STORAGE_TABLES",
    "Accounts",
    "CodeBatch",
    "CodeBatchSummary",
    "CodeStatus",
    "Dataset",
    "DatasetKind",
    "DatasetSummary",
    "Datasets",
    "Draft",
    "QuestionnaireRecord",
    "QuestionnaireState",
    "SignInResult",
    "SignInStatus",
    "Store",
    "SubmitResult",
    "SubmitStatus",
    "UserRecord",
    "UserRole",
    "back_off_seconds",
    "database_url",
    "make_engine",
    "metadata",
    "oidc_manager_allowed",
    "password_problems",
    "responses_table",
    "schema_version_table",
    "sign_in_throttle_table",
    "submission_tokens_table",
    "users_table",
]
