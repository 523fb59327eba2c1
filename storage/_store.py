"""The storage of the survey side behind one object.

:class:`Store` is the only way the rest of the product touches the survey's tables. It is a
thin facade: the work is done by one repository per concern, all sharing one
:class:`~storage._engine.Database` (the engine and the one write path):

* :class:`~storage._questionnaires.Questionnaires`: published revisions, state and access;
* :class:`~storage._codes.Codes`: access-code batches and codes;
* :class:`~storage._drafts.Drafts`: unfinished answers under a hashed code;
* :class:`~storage._responses.Responses`: submission (group commit), bulk import, reading;
* :class:`~storage._test_responses.TestResponses`: the manager's preview answers;
* :class:`~storage._keyings.Keyings`: paper forms keyed in, with double entry.

**Municipalities.** ``Store(url)`` is the installation's store: it reads any questionnaire by
its id (the public survey page knows only that) and is the administration's. A manager works
through :meth:`Store.for_municipality`: that store lists only its municipality's
questionnaires, treats every other questionnaire id as unknown, and every transaction it runs
names the municipality (PostgreSQL row-level security, migration 6). Each call that names a
questionnaire runs inside :func:`~storage._engine.municipality_scope` of the questionnaire's
municipality, so rows written get that municipality and PostgreSQL shows only its rows.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from core import InvalidInput, Location, Problem
from storage._batches import BatchMembership, batch_membership
from storage._codes import CodeBatch, CodeBatchSummary, Codes, CodeStatus
from storage._drafts import Draft, Drafts
from storage._engine import Database, municipality_scope
from storage._keyings import BatchProgress, Keyings, PaperForm, PendingKeying
from storage._municipalities import Municipalities
from storage._questionnaires import (
    QuestionnaireRecord,
    Questionnaires,
    QuestionnaireState,
    id_taken,
    unknown_questionnaire,
)
from storage._responses import Responses, SubmitResult
from storage._schema import OWNER_FUNCTION, questionnaires_table
from storage._test_responses import TestResponses
from survey import Access, Questionnaire


class Store:
    """All storage of the survey side, on SQLite or PostgreSQL by one URL.

    Parameters
    ----------
    url
        SQLAlchemy URL; default :func:`storage._engine.database_url` (the environment variable
        ``SICHERHEITSANALYSE_DATABASE_URL`` or ``./data/sicherheitsanalyse.db``).
    group_commit
        Share commits between concurrent submissions (default: on for SQLite, off for
        PostgreSQL). Each submission still returns only after its commit is durable.
    """

    def __init__(self, url: str | None = None, *, group_commit: bool | None = None) -> None:
        self.database = Database(url, group_commit=group_commit)
        self.engine: Engine = self.database.engine
        self._questionnaires = Questionnaires(self.database)
        self._codes = Codes(self.database)
        self._drafts = Drafts(self.database, self._questionnaires, self._codes)
        self._responses = Responses(self.database, self._questionnaires, self._codes, self._drafts)
        self._test_responses = TestResponses(self.database, self._questionnaires)
        self._keyings = Keyings(self.database, self._questionnaires, self._codes, self._responses)
        #: The municipality this store works for; ``None``: the installation's store.
        self.municipality: str | None = None
        #: Owner of each questionnaire id seen (an owner never changes once set).
        self._owners: dict[str, str] = {}
        self._scoped: dict[str, Store] = {}
        self._lock = threading.Lock()

    # -- municipalities ---------------------------------------------------------------------

    def for_municipality(self, ags: str) -> Store:
        """This database's store for municipality ``ags``: it sees only that municipality's
        questionnaires (every other id is unknown to it), writes rows for it, and names it in
        each transaction (PostgreSQL row-level security). Shares the engine and the caches;
        one per municipality. :class:`InvalidInput` for an unknown municipality."""
        with self._lock:
            scoped = self._scoped.get(ags)
        if scoped is not None:
            return scoped
        Municipalities(self.engine).require(ags)
        scoped = copy.copy(self)
        scoped.municipality = ags
        with self._lock:
            return self._scoped.setdefault(ags, scoped)

    def owner(self, questionnaire_id: str) -> str | None:
        """The municipality of a questionnaire (``None``: unknown, or not adopted yet).

        On PostgreSQL through a SECURITY DEFINER function, so the public survey page learns
        which municipality an id belongs to and nothing else."""
        found = self._owners.get(questionnaire_id)
        if found is not None:
            return found
        with self.database.read() as connection:
            if connection.dialect.name == "postgresql":
                owner = connection.execute(
                    text(f"SELECT {OWNER_FUNCTION}(:id)"), {"id": questionnaire_id}
                ).scalar_one_or_none()
            else:
                q = questionnaires_table
                owner = connection.execute(
                    select(q.c.municipality).where(q.c.id == questionnaire_id)
                ).scalar_one_or_none()
        if owner is not None:
            self._owners[questionnaire_id] = str(owner)
        return None if owner is None else str(owner)

    def visible(self, questionnaire_id: str) -> bool:
        """Whether this store may work on the questionnaire (its municipality's, or any for
        the installation's store)."""
        return self.municipality is None or self.owner(questionnaire_id) == self.municipality

    @contextmanager
    def _on(self, questionnaire_id: str) -> Iterator[None]:
        """Work on one questionnaire: unknown to a store of another municipality; inside,
        transactions name the questionnaire's municipality."""
        owner = self.owner(questionnaire_id)
        if self.municipality is not None and owner != self.municipality:
            raise unknown_questionnaire(questionnaire_id)
        with municipality_scope(owner or self.municipality):
            yield

    @contextmanager
    def _scope(self) -> Iterator[None]:
        with municipality_scope(self.municipality):
            yield

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the committer thread and release the connections."""
        self.database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- questionnaires ---------------------------------------------------------------------

    def publish_questionnaire(
        self,
        questionnaire: Questionnaire,
        source_text: str,
        *,
        initial_state: QuestionnaireState = QuestionnaireState.OPEN,
        new_version: bool = False,
    ) -> None:
        """Store ``questionnaire``'s revision and make it the current one.

        Idempotent per revision. On first publication the state is ``initial_state``; later
        publications keep the state (change it with :meth:`set_state`). Access comes from
        ``meta.access`` whenever a new revision is published; republishing a known revision
        (every app start does) keeps an access changed with :meth:`set_access`.

        A new revision of a questionnaire that already has responses is refused
        (:class:`InvalidInput`, nothing written) unless ``new_version`` says the caller
        showed what changes (:func:`survey.codebook_diff`) and means it: earlier responses
        keep the revision they answered.
        """
        if self.municipality is None:
            raise InvalidInput(
                [
                    Problem(
                        Location(field="municipality"),
                        "storage.municipality_required",
                        {"id": questionnaire.id},
                    )
                ]
            )
        owner = self.owner(questionnaire.id)
        if owner is not None and owner != self.municipality:
            raise id_taken(questionnaire.id)
        try:
            with self._scope():
                self._questionnaires.publish(
                    questionnaire,
                    source_text,
                    initial_state=initial_state,
                    new_version=new_version,
                )
        except IntegrityError:  # the id is another municipality's row, invisible under RLS
            raise id_taken(questionnaire.id) from None

    def questionnaires(self) -> list[QuestionnaireRecord]:
        """The questionnaires of this store's municipality (the installation's store: all)."""
        with self._scope():
            return self._questionnaires.all()

    def questionnaire(self, questionnaire_id: str) -> QuestionnaireRecord | None:
        """The record of one questionnaire, or ``None`` if it was never published (or is
        another municipality's)."""
        if not self.visible(questionnaire_id):
            return None
        with self._on(questionnaire_id):
            return self._questionnaires.get(questionnaire_id)

    def questionnaire_source(self, questionnaire_id: str, revision: str | None = None) -> str:
        """The YAML text of ``revision`` (default: the current one)."""
        with self._on(questionnaire_id):
            return self._questionnaires.source(questionnaire_id, revision)

    def set_state(self, questionnaire_id: str, state: str) -> None:
        """Open or close a questionnaire (``draft`` / ``open`` / ``closed``).

        Closing it deletes its unfinished drafts in the same transaction: answers that were
        never submitted cannot be submitted any more and must not be kept (data minimisation).
        """
        with self._on(questionnaire_id):
            self._questionnaires.set_state(questionnaire_id, state)

    def set_access(self, questionnaire_id: str, access: Access | str) -> None:
        """Make a questionnaire open to anyone with the link, or code-only."""
        with self._on(questionnaire_id):
            self._questionnaires.set_access(questionnaire_id, access)

    # -- access codes -----------------------------------------------------------------------

    def create_codes(
        self, questionnaire_id: str, count: int, *, stratum: str | None = None
    ) -> CodeBatch:
        """Create ``count`` single-use codes for a published questionnaire.

        The plaintext codes are returned once (for the mail merge) and stored only as keyed
        hashes.
        """
        with self._on(questionnaire_id):
            return self._codes.create(questionnaire_id, count, stratum=stratum)

    def code_batches(self, questionnaire_id: str) -> list[CodeBatchSummary]:
        """Every code batch with issued and used counts (for response rates per stratum)."""
        with self._on(questionnaire_id):
            return self._codes.batches(questionnaire_id)

    def check_code(self, questionnaire_id: str, code: str) -> CodeStatus:
        """Whether typed ``code`` can still submit a response to the questionnaire. A wrong
        code counts towards the questionnaire's limit (:meth:`code_wait`)."""
        with self._on(questionnaire_id):
            return self._codes.check(questionnaire_id, code)

    def code_wait(self, questionnaire_id: str) -> float:
        """Seconds before codes of the questionnaire are checked again: more than
        ``WRONG_CODES_PER_MINUTE`` wrong codes in this minute, from any session, pause every
        check until the minute is over (0: check now). Kept in memory only."""
        with self._on(questionnaire_id):
            return self._codes.limiter.wait(questionnaire_id)

    # -- drafts -----------------------------------------------------------------------------

    def save_draft(
        self,
        questionnaire_id: str,
        code: str,
        answers: Mapping[str, Any],
        page: int,
        *,
        questionnaire: Questionnaire | None = None,
    ) -> None:
        """Keep a respondent's answers so far under (a hash of) their code, replacing any
        earlier draft. Needs a valid, unused code.

        With ``questionnaire`` the answers are checked exactly like a response; without it
        only their shape (plain JSON values, bounded size) — they are checked fully on
        submit anyway.
        """
        with self._on(questionnaire_id):
            self._drafts.save(questionnaire_id, code, answers, page, questionnaire=questionnaire)

    def load_draft(self, questionnaire_id: str, code: str) -> Draft | None:
        """The draft saved under ``code``, or ``None``."""
        with self._on(questionnaire_id):
            return self._drafts.load(questionnaire_id, code)

    # -- responses --------------------------------------------------------------------------

    def submit(
        self,
        questionnaire: Questionnaire,
        answers: Mapping[str, Any],
        *,
        language: str,
        submission_token: str,
        mode: str = "web",
        code: str | None = None,
    ) -> SubmitResult:
        """Store one complete response atomically.

        Raises
        ------
        InvalidInput
            The answers, language, mode or token are not acceptable; nothing was written.
        StorageError
            The database failed; nothing was written.
        """
        with self._on(questionnaire.id):
            return self._responses.submit(
                questionnaire,
                answers,
                language=language,
                submission_token=submission_token,
                mode=mode,
                code=code,
            )

    def responses(self, questionnaire: Questionnaire) -> pd.DataFrame:
        """Every response to the questionnaire (all revisions) in codebook layout.

        Columns: :data:`RESPONSE_META_COLUMNS`, then one column per variable in
        ``questionnaire.variables()`` order. Integer codes, yes/no (1/0) and multi-choice
        options (1/0) are ``Int64``; decimals ``Float64``; text, dates and string codes
        ``string``; ``submitted_on`` is ``datetime64[s]`` (a date: there is no time). A
        variable a response does not have (unanswered, hidden, other revision) is ``NA``.

        Responses are immutable, so the frame is cached per questionnaire revision and a
        later call reads only the responses it has not seen (a list of ids first); the
        returned frame is a copy-on-write copy, safe to modify.
        """
        with self._on(questionnaire.id):
            return self._responses.frame(questionnaire)

    def import_responses(
        self,
        questionnaire: Questionnaire,
        frame: pd.DataFrame,
        *,
        mode: str = "paper",
        source: str | None = None,
        row_numbers: Sequence[int] | None = None,
        header_row: int = 1,
    ) -> int:
        """Store many responses given in the codebook layout at once (paper questionnaires
        keyed into a table, the demo municipality).

        Every row is checked as :meth:`submit` checks a response; any problem anywhere raises
        :class:`InvalidInput` with *all* of them (row, column, what is expected) and nothing is
        written. Otherwise all rows are inserted in one transaction. Per row the columns
        ``submitted_on`` (a date; empty: today), ``language`` (empty: the questionnaire's
        default) and ``stratum`` are kept; ``response_id`` and ``questionnaire_revision`` are
        not (each response gets a new random id and the revision of ``questionnaire``). The
        questionnaire need not be open: paper questionnaires arrive after the survey closed.

        Parameters
        ----------
        questionnaire
            A published revision; the columns are its :meth:`~Questionnaire.variables`.
        frame
            One row per response; missing variable columns are unanswered.
        mode
            Stored with every response: ``paper`` (default) or ``web``.
        source
            The file name shown in problems.
        row_numbers
            The row of each frame row in the file, for problems; default: position + 2 (the
            header is row 1, as a spreadsheet shows it).
        header_row
            The header's row in the file, where unknown and repeated columns are reported
            (:func:`survey.read_response_table` gives it; blank lines above it count).

        Returns
        -------
        int
            The number of responses stored.
        """
        with self._on(questionnaire.id):
            return self._responses.import_frame(
                questionnaire,
                frame,
                mode=mode,
                source=source,
                row_numbers=row_numbers,
                header_row=header_row,
            )

    def batch_membership(self, batch_id: str, codes: Sequence[str]) -> BatchMembership:
        """The batch's questionnaire and stratum, and per code whether it is one of the
        batch's (the letter kit checks a codes file with it). :class:`InvalidInput` for an
        unknown batch."""
        with self._scope():
            found = batch_membership(self.database, self._codes, batch_id, codes)
        if not self.visible(found.questionnaire_id):  # another municipality's batch
            raise InvalidInput(
                [Problem(Location(field="--batch"), "storage.unknown_batch", {"batch": batch_id})]
            )
        return found

    def remove_responses(self, questionnaire_id: str) -> int:
        """Delete a questionnaire's responses, test answers, drafts, access codes and code
        batches (the questionnaire and its revisions stay). Returns the responses removed.
        """
        with self._on(questionnaire_id):
            self._test_responses.remove(questionnaire_id)
            return self._responses.remove(questionnaire_id)

    # -- preview ----------------------------------------------------------------------------

    def submit_test(
        self, questionnaire: Questionnaire, answers: Mapping[str, Any], *, language: str
    ) -> str:
        """Store a test answer from the manager's preview, checked like a response but kept
        apart from the responses (never counted, analysed or exported). Returns its id."""
        with self._on(questionnaire.id):
            return self._test_responses.submit(questionnaire, answers, language)

    def test_response_count(self, questionnaire_id: str) -> int:
        """How many test answers the preview stored for the questionnaire."""
        with self._on(questionnaire_id):
            return self._test_responses.count(questionnaire_id)

    def response_counts_by_day(self, questionnaire_id: str) -> pd.DataFrame:
        """Responses per submission date: columns ``submitted_on``, ``responses``."""
        with self._on(questionnaire_id):
            return self._responses.counts_by_day(questionnaire_id)

    # -- paper forms keyed in ---------------------------------------------------------------

    def check_paper_form(self, questionnaire_id: str, form: PaperForm) -> PendingKeying | None:
        """Whether a returned paper form can be keyed (:class:`InvalidInput`: its code is
        used, unknown or another batch's, as the survey page refuses it; or a batch with codes
        and none typed); its first keying if one waits for the second."""
        with self._on(questionnaire_id):
            return self._keyings.check_form(questionnaire_id, form)

    def code_batch(self, questionnaire_id: str, code: str) -> str | None:
        """The code batch of one of the questionnaire's access codes (``None``: not one)."""
        with self._on(questionnaire_id):
            return self._keyings.code_batch(questionnaire_id, code)

    def pending_keying(self, questionnaire_id: str, form: PaperForm) -> PendingKeying | None:
        """The first keying of ``form`` waiting for its second, or ``None``."""
        with self._on(questionnaire_id):
            return self._keyings.pending(questionnaire_id, form)

    def save_first_keying(
        self, questionnaire: Questionnaire, form: PaperForm, answers: Mapping[str, Any]
    ) -> None:
        """Keep the first keying of a double entry (checked like a response) until the
        second one is resolved; only a keyed hash of the code or serial number is stored."""
        with self._on(questionnaire.id):
            self._keyings.save_first(questionnaire, form, answers)

    def discard_keying(self, questionnaire_id: str, form: PaperForm) -> bool:
        """Delete the pending first keying of ``form``; whether there was one."""
        with self._on(questionnaire_id):
            return self._keyings.discard(questionnaire_id, form)

    def store_keyed(
        self,
        questionnaire: Questionnaire,
        form: PaperForm,
        answers: Mapping[str, Any],
        *,
        language: str,
        submission_token: str,
        mode: str = "keyed",
    ) -> SubmitResult:
        """Store a paper form as one response of ``mode`` (``keyed`` or ``scanned``): the code
        used as online, the form's pending keying deleted and the batch's keyed count raised,
        all in one transaction. The questionnaire need not be open."""
        with self._on(questionnaire.id):
            return self._keyings.store(
                questionnaire,
                form,
                answers,
                language=language,
                submission_token=submission_token,
                mode=mode,
            )

    def keying_progress(self, questionnaire_id: str) -> list[BatchProgress]:
        """Per code batch: codes issued and used, keyed forms stored, first keyings pending."""
        with self._on(questionnaire_id):
            return self._keyings.progress(questionnaire_id)
