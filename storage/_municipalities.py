"""Municipalities (the tenants), their members, and data no municipality owns yet.

A municipality is identified by its official key (AGS, 8 digits). Every row of
:data:`~storage._schema.OWNED_TABLES` names the municipality it belongs to; a membership lets
an account (a local user name or an OIDC e-mail address) work for a municipality. This is the
administration's repository: it reads and writes across municipalities, so only the
administrator's pages and commands use it (PostgreSQL: a role with BYPASSRLS for
:meth:`Municipalities.adopt`, see ``docs/operations.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from core import InvalidInput, Location, Problem
from storage._schema import (
    OWNED_TABLES,
    access_codes_table,
    code_batches_table,
    datasets_table,
    memberships_table,
    municipalities_table,
    questionnaires_table,
)

_AGS = re.compile(r"^[0-9]{8}$")
#: Keys starting with 99 name no real place (Länder are 01–16): only the demo uses them.
DEMO_PREFIX = "99"
MAX_MUNICIPALITY_NAME = 200


@dataclass(frozen=True)
class Municipality:
    ags: str
    name: str
    demo: bool = False


def ags_problems(ags: str, field: str = "ags") -> list[Problem]:
    """Why ``ags`` is no municipality key (8 digits), or nothing."""
    if isinstance(ags, str) and _AGS.match(ags):
        return []
    return [Problem(Location(field=field), "municipality.bad_ags", {"value": ags})]


def unknown_municipality(ags: str, field: str = "municipality") -> InvalidInput:
    return InvalidInput([Problem(Location(field=field), "municipality.unknown", {"ags": ags})])


def normalise_account(account: str) -> str:
    return account.strip().lower()


class Municipalities:
    """The ``municipalities`` and ``memberships`` tables, and adopting unowned rows."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- municipalities ---------------------------------------------------------------------

    def create(self, ags: str, name: str, *, demo: bool = False) -> Municipality:
        """Add a municipality; :class:`InvalidInput` for a bad or existing key or name."""
        problems = ags_problems(ags)
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > MAX_MUNICIPALITY_NAME:
            problems.append(
                Problem(
                    Location(field="name"),
                    "municipality.bad_name",
                    {"max": MAX_MUNICIPALITY_NAME},
                )
            )
        if not problems and ags.startswith(DEMO_PREFIX) != demo:
            problems.append(
                Problem(Location(field="ags"), "municipality.demo_prefix", {"ags": ags})
            )
        if problems:
            raise InvalidInput(problems)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    municipalities_table.insert().values(ags=ags, name=name, demo=demo)
                )
        except IntegrityError:
            raise InvalidInput(
                [Problem(Location(field="ags"), "municipality.exists", {"ags": ags})]
            ) from None
        return Municipality(ags, name, demo)

    def ensure(self, ags: str, name: str, *, demo: bool = False) -> Municipality:
        """The municipality ``ags``, created with ``name`` if it is not there yet."""
        found = self.get(ags)
        if found is not None:
            return found
        try:
            return self.create(ags, name, demo=demo)
        except InvalidInput:
            found = self.get(ags)  # created concurrently
            if found is None:
                raise
            return found

    def all(self) -> list[Municipality]:
        m = municipalities_table
        with self._engine.connect() as connection:
            rows = connection.execute(select(m).order_by(m.c.name, m.c.ags)).all()
        return [Municipality(r.ags, r.name, bool(r.demo)) for r in rows]

    def get(self, ags: str) -> Municipality | None:
        return next((m for m in self.all() if m.ags == ags), None)

    def require(self, ags: str, field: str = "municipality") -> Municipality:
        """The municipality ``ags`` or :class:`InvalidInput` located at ``field``."""
        problems = ags_problems(ags, field)
        if problems:
            raise InvalidInput(problems)
        found = self.get(ags)
        if found is None:
            raise unknown_municipality(ags, field)
        return found

    # -- members ----------------------------------------------------------------------------

    def add_member(self, account: str, ags: str) -> None:
        self.require(ags)
        account = normalise_account(account)
        if not account:
            raise InvalidInput([Problem(Location(field="account"), "municipality.bad_account")])
        # One INSERT and nothing read before it in the transaction: on SQLite a read first
        # would make concurrent writers fail at once with "database is locked".
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    memberships_table.insert().values(account=account, municipality=ags)
                )
        except IntegrityError:  # a member already (or added concurrently)
            if account not in self.members(ags):
                raise

    def remove_member(self, account: str, ags: str) -> bool:
        ms = memberships_table
        with self._engine.begin() as connection:
            removed = connection.execute(
                delete(ms).where(
                    ms.c.account == normalise_account(account), ms.c.municipality == ags
                )
            )
        return bool(removed.rowcount)

    def members(self, ags: str) -> list[str]:
        ms = memberships_table
        with self._engine.connect() as connection:
            return list(
                connection.execute(
                    select(ms.c.account).where(ms.c.municipality == ags).order_by(ms.c.account)
                ).scalars()
            )

    def of_account(self, account: str) -> list[str]:
        """The keys of the municipalities ``account`` is a member of."""
        ms = memberships_table
        with self._engine.connect() as connection:
            return list(
                connection.execute(
                    select(ms.c.municipality)
                    .where(ms.c.account == normalise_account(account))
                    .order_by(ms.c.municipality)
                ).scalars()
            )

    # -- data from before municipalities ----------------------------------------------------

    def unassigned(self) -> dict[str, int]:
        """Rows no municipality owns, per table (only tables that have some)."""
        counts: dict[str, int] = {}
        with self._engine.connect() as connection:
            for table in OWNED_TABLES:
                count = connection.execute(
                    select(func.count()).select_from(table).where(table.c.municipality.is_(None))
                ).scalar_one()
                if count:
                    counts[table.name] = int(count)
        return counts

    def adopt(
        self,
        ags: str,
        *,
        questionnaire_id: str | None = None,
        dataset_source: str | None = None,
    ) -> dict[str, int]:
        """Give unowned rows to municipality ``ags`` (one transaction); rows per table.

        Without ``questionnaire_id`` every unowned row; with it only that questionnaire's rows
        and the unowned datasets saved under ``dataset_source`` (the demo's data). An
        administration operation: on PostgreSQL it needs a role that row-level security does
        not restrict (unowned rows are invisible to the app's role)."""
        self.require(ags)
        adopted: dict[str, int] = {}
        batches = select(code_batches_table.c.id).where(
            code_batches_table.c.questionnaire_id == questionnaire_id
        )
        with self._engine.begin() as connection:
            for table in OWNED_TABLES:
                query = update(table).where(table.c.municipality.is_(None))
                if questionnaire_id is not None:
                    if table is datasets_table:
                        query = query.where(table.c.source == dataset_source)
                    elif table is questionnaires_table:
                        query = query.where(table.c.id == questionnaire_id)
                    elif table is access_codes_table:
                        query = query.where(table.c.batch_id.in_(batches))
                    else:
                        query = query.where(table.c.questionnaire_id == questionnaire_id)
                result = connection.execute(query.values(municipality=ags))
                if result.rowcount:
                    adopted[table.name] = int(result.rowcount)
        return adopted
