"""Published questionnaires: their revisions (the YAML text as published), state and access.

Also the per-process caches every other repository reads through: the answer layout of each
revision and which revisions are known to be published (a revision is never unpublished).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Connection, func, select, text

from core import InvalidInput, LocalizedText, Location, Problem
from storage._answers import AnswerLayout, answer_layout
from storage._engine import Database, scoped_municipality
from storage._schema import (
    drafts_table,
    questionnaire_revisions_table,
    questionnaires_table,
    responses_table,
)
from survey import Access, Questionnaire

E = TypeVar("E", bound=StrEnum)


class QuestionnaireState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class QuestionnaireRecord:
    id: str
    revision: str
    title: LocalizedText
    access: Access
    state: QuestionnaireState


class Questionnaires:
    """The ``questionnaires`` and ``questionnaire_revisions`` tables."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._layouts: dict[tuple[str, str], AnswerLayout] = {}
        self._published: set[tuple[str, str]] = set()

    def layout(self, questionnaire: Questionnaire) -> AnswerLayout:
        """The answer layout of ``questionnaire``'s revision (computed once per process)."""
        key = (questionnaire.id, questionnaire.revision)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = answer_layout(questionnaire)
        return layout

    def require_revision(
        self, connection: Connection, questionnaire_id: str, revision: str, source: str | None
    ) -> None:
        """Raise :class:`InvalidInput` unless the revision was published (cached once seen:
        every submission asks)."""
        if (questionnaire_id, revision) in self._published:
            return
        if not revision_published(connection, questionnaire_id, revision):
            raise InvalidInput(
                [
                    Problem(
                        Location(file=source, field="revision"),
                        "storage.unknown_revision",
                        {"id": questionnaire_id, "revision": revision},
                    )
                ]
            )
        self._published.add((questionnaire_id, revision))

    def publish(
        self,
        questionnaire: Questionnaire,
        source_text: str,
        *,
        initial_state: QuestionnaireState = QuestionnaireState.OPEN,
        new_version: bool = False,
    ) -> None:
        """See :meth:`storage.Store.publish_questionnaire`."""
        if not questionnaire.revision:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="revision"), "storage.no_revision", {"id": questionnaire.id}
                    )
                ]
            )
        q, r = questionnaires_table, questionnaire_revisions_table
        title = json.dumps(questionnaire.meta.title, ensure_ascii=False, sort_keys=True)
        with self._database.write() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas starting together publish the same file: one after the other.
                # (SQLite already serialises writers with BEGIN IMMEDIATE.)
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(7318005, hashtext(:id))"),
                    {"id": questionnaire.id},
                )
            exists = connection.execute(
                select(q.c.revision, q.c.municipality).where(q.c.id == questionnaire.id)
            ).first()
            if exists is not None and exists.municipality != scoped_municipality():
                raise id_taken(questionnaire.id)
            new_revision = not revision_published(
                connection, questionnaire.id, questionnaire.revision
            )
            # Any other current revision (new, or an earlier one back again) changes what
            # residents answer. Checked in the publishing transaction, so a response
            # arriving meanwhile counts.
            changes = exists is not None and exists.revision != questionnaire.revision
            if changes and not new_version:
                answered = response_count(connection, questionnaire.id)
                if answered:
                    raise InvalidInput(
                        [
                            Problem(
                                Location(field="revision"),
                                "storage.publish.has_responses",
                                {"id": questionnaire.id, "count": answered},
                            )
                        ]
                    )
            if exists is None:
                connection.execute(
                    q.insert().values(
                        id=questionnaire.id,
                        revision=questionnaire.revision,
                        title=title,
                        access=questionnaire.meta.access.value,
                        state=QuestionnaireState(initial_state).value,
                        municipality=scoped_municipality(),
                    )
                )
            else:
                values = {"revision": questionnaire.revision, "title": title}
                if new_revision:  # an edited file says again whether codes are needed
                    values["access"] = questionnaire.meta.access.value
                connection.execute(q.update().where(q.c.id == questionnaire.id).values(**values))
            if new_revision:
                connection.execute(
                    r.insert().values(
                        questionnaire_id=questionnaire.id,
                        revision=questionnaire.revision,
                        published_on=date.today(),
                        source_text=source_text,
                        municipality=scoped_municipality(),
                    )
                )

    def all(self) -> list[QuestionnaireRecord]:
        q = questionnaires_table
        with self._database.read() as connection:
            query = select(q).order_by(q.c.id)
            municipality = scoped_municipality()
            if municipality is not None:
                query = query.where(q.c.municipality == municipality)
            rows = connection.execute(query).all()
        return [
            QuestionnaireRecord(
                id=row.id,
                revision=row.revision,
                title=json.loads(row.title),
                access=Access(row.access),
                state=QuestionnaireState(row.state),
            )
            for row in rows
        ]

    def get(self, questionnaire_id: str) -> QuestionnaireRecord | None:
        return next((r for r in self.all() if r.id == questionnaire_id), None)

    def source(self, questionnaire_id: str, revision: str | None = None) -> str:
        """The YAML text of ``revision`` (default: the current one)."""
        q, r = questionnaires_table, questionnaire_revisions_table
        with self._database.read() as connection:
            if revision is None:
                revision = connection.execute(
                    select(q.c.revision).where(q.c.id == questionnaire_id)
                ).scalar_one_or_none()
                if revision is None:
                    raise unknown_questionnaire(questionnaire_id)
            source = connection.execute(
                select(r.c.source_text).where(
                    r.c.questionnaire_id == questionnaire_id, r.c.revision == revision
                )
            ).scalar_one_or_none()
        if source is None:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="revision"),
                        "storage.unknown_revision",
                        {"id": questionnaire_id, "revision": revision},
                    )
                ]
            )
        return str(source)

    def set_state(self, questionnaire_id: str, state: str) -> None:
        """See :meth:`storage.Store.set_state`."""
        value = _choice(QuestionnaireState, state, "state")
        with self._database.write() as connection:
            _update(connection, questionnaire_id, state=value.value)
            if value is QuestionnaireState.CLOSED:
                # Answers never submitted cannot be submitted any more: not kept (data
                # minimisation), in the same transaction as the closing.
                connection.execute(
                    drafts_table.delete().where(drafts_table.c.questionnaire_id == questionnaire_id)
                )

    def set_access(self, questionnaire_id: str, access: Access | str) -> None:
        value = _choice(Access, access, "access")
        with self._database.write() as connection:
            _update(connection, questionnaire_id, access=value.value)


def _choice(kind: type[E], value: str, field: str) -> E:
    """``value`` as a member of ``kind``, or :class:`InvalidInput` listing the choices."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(
            [
                Problem(
                    Location(field=field),
                    "storage.bad_choice",
                    {"value": value, "expected": ", ".join(m.value for m in kind)},
                )
            ]
        ) from None


def _update(connection: Connection, questionnaire_id: str, **values: str) -> None:
    q = questionnaires_table
    result = connection.execute(q.update().where(q.c.id == questionnaire_id).values(**values))
    if result.rowcount != 1:
        raise unknown_questionnaire(questionnaire_id)


def require_questionnaire(connection: Connection, questionnaire_id: str) -> None:
    q = questionnaires_table
    if connection.execute(select(q.c.id).where(q.c.id == questionnaire_id)).first() is None:
        raise unknown_questionnaire(questionnaire_id)


def response_count(connection: Connection, questionnaire_id: str) -> int:
    """The residents' responses to a questionnaire (all revisions; test answers not)."""
    r = responses_table
    return int(
        connection.execute(
            select(func.count()).select_from(r).where(r.c.questionnaire_id == questionnaire_id)
        ).scalar_one()
    )


def revision_published(connection: Connection, questionnaire_id: str, revision: str) -> bool:
    r = questionnaire_revisions_table
    return (
        connection.execute(
            select(r.c.revision).where(
                r.c.questionnaire_id == questionnaire_id, r.c.revision == revision
            )
        ).first()
        is not None
    )


def unknown_questionnaire(questionnaire_id: str) -> InvalidInput:
    return InvalidInput(
        [
            Problem(
                Location(field="questionnaire"),
                "storage.unknown_questionnaire",
                {"id": questionnaire_id},
            )
        ]
    )


def id_taken(questionnaire_id: str) -> InvalidInput:
    """Another municipality (or data no municipality adopted yet) has this id: ids are the
    public survey address, so they are unique in the installation."""
    return InvalidInput(
        [Problem(Location(field="meta.id"), "storage.publish.id_taken", {"id": questionnaire_id})]
    )
