"""The database, through SQLAlchemy only: the engine and the one write path, the schema and its
migrations, and the stores for questionnaires, codes, drafts, responses, accounts and datasets.
"""

from __future__ import annotations

from storage._accounts import (
    ADMIN_NAME,
    FREE_ATTEMPTS,
    MAX_CONCURRENT_VERIFICATIONS,
    MAX_DELAY_SECONDS,
    MIN_PASSWORD_LENGTH,
    SESSION_MAX_DELAY_SECONDS,
    Accounts,
    SignInResult,
    SignInStatus,
    UserRecord,
    UserRole,
    back_off_seconds,
    oidc_manager_allowed,
    password_problems,
)
from storage._answers import MODES
from storage._backup import BACKUP_FORMAT, Backups
from storage._batches import BatchMembership
from storage._codes import WRONG_CODES_PER_MINUTE, CodeBatch, CodeBatchSummary, CodeStatus
from storage._datasets import Dataset, DatasetKind, Datasets, DatasetSummary
from storage._drafts import Draft
from storage._engine import (
    DATABASE_URL_ENV_VAR,
    SQLITE_PAGE_SIZE,
    database_url,
    make_engine,
)
from storage._keyings import NO_BATCH, BatchProgress, PaperForm, PendingKeying
from storage._municipalities import (
    DEMO_PREFIX,
    Municipalities,
    Municipality,
    ags_problems,
    unknown_municipality,
)
from storage._questionnaires import QuestionnaireRecord, QuestionnaireState
from storage._responses import SubmitResult, SubmitStatus
from storage._schema import (
    CURRENT_VERSION,
    DATASET_TABLES,
    KEYING_TABLES,
    MIGRATIONS,
    MUNICIPALITY_SETTING,
    MUNICIPALITY_TABLES,
    OWNED_TABLES,
    STORAGE_TABLES,
    TEST_RESPONSE_TABLES,
    keyed_forms_table,
    memberships_table,
    metadata,
    municipalities_table,
    pending_keyings_table,
    responses_table,
    schema_version_table,
    sign_in_throttle_table,
    submission_tokens_table,
    test_responses_table,
    users_table,
)
from storage._store import Store

__all__ = [
    "ADMIN_NAME",
    "BACKUP_FORMAT",
    "CURRENT_VERSION",
    "DATABASE_URL_ENV_VAR",
    "DATASET_TABLES",
    "DEMO_PREFIX",
    "FREE_ATTEMPTS",
    "KEYING_TABLES",
    "MAX_CONCURRENT_VERIFICATIONS",
    "MAX_DELAY_SECONDS",
    "MIGRATIONS",
    "MIN_PASSWORD_LENGTH",
    "MODES",
    "MUNICIPALITY_SETTING",
    "MUNICIPALITY_TABLES",
    "NO_BATCH",
    "OWNED_TABLES",
    "SESSION_MAX_DELAY_SECONDS",
    "SQLITE_PAGE_SIZE",
    "STORAGE_TABLES",
    "TEST_RESPONSE_TABLES",
    "WRONG_CODES_PER_MINUTE",
    "Accounts",
    "Backups",
    "BatchMembership",
    "BatchProgress",
    "CodeBatch",
    "CodeBatchSummary",
    "CodeStatus",
    "Dataset",
    "DatasetKind",
    "DatasetSummary",
    "Datasets",
    "Draft",
    "Municipalities",
    "Municipality",
    "PaperForm",
    "PendingKeying",
    "QuestionnaireRecord",
    "QuestionnaireState",
    "SignInResult",
    "SignInStatus",
    "Store",
    "SubmitResult",
    "SubmitStatus",
    "UserRecord",
    "UserRole",
    "ags_problems",
    "back_off_seconds",
    "database_url",
    "keyed_forms_table",
    "make_engine",
    "memberships_table",
    "metadata",
    "municipalities_table",
    "oidc_manager_allowed",
    "password_problems",
    "pending_keyings_table",
    "responses_table",
    "schema_version_table",
    "sign_in_throttle_table",
    "submission_tokens_table",
    "test_responses_table",
    "unknown_municipality",
    "users_table",
]
