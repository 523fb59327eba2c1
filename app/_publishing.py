"""Publishing a questionnaire without surprises (the overview page and
``sicherheitsanalyse questionnaire publish``).

:func:`plan_publication` says what publishing a file would do before anything changes: its
located problems, whether it is new, unchanged or a new revision, how many responses the
survey already has and, for a survey that exists, the codebook diff against the published
revision. :func:`publish_questionnaire_text` then publishes it, and refuses a new revision of
a survey with responses unless it is published as a new version (the storage checks that rule
again inside its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from core import InvalidInput, Location, Problem, t
from storage import QuestionnaireState, Store
from survey import (
    CodebookDiff,
    Questionnaire,
    check_questionnaire_text,
    codebook_diff,
    load_questionnaire_text,
)

#: A questionnaire file larger than this is refused before it is read (the default is 40 kB).
MAX_QUESTIONNAIRE_BYTES = 2 * 1024 * 1024
#: The id of the shipped default questionnaire (``questionnaires/sicherheitsbefragung.yaml``).
DEFAULT_QUESTIONNAIRE_ID = "sicherheitsbefragung"


class PublishStatus(StrEnum):
    #: Never published: it is created (as a draft unless asked otherwise).
    NEW = "new"
    #: This very revision is the current one: nothing to do.
    UNCHANGED = "unchanged"
    #: A changed revision of a survey without responses: published as it is.
    REVISION = "revision"
    #: A changed revision of a survey with responses: only as a new version.
    NEW_VERSION = "new_version"


@dataclass(frozen=True)
class PublishPlan:
    """What publishing one questionnaire text would do; nothing has changed yet."""

    filename: str
    #: Every problem of the file, errors and warnings, each with file, line and column.
    problems: tuple[Problem, ...]
    questionnaire: Questionnaire | None = None
    status: PublishStatus | None = None
    #: The revision published now, if the survey exists.
    current_revision: str | None = None
    #: Residents' responses the survey has (test answers not counted).
    responses: int = 0
    #: Against the current revision; ``None`` for a new survey or a file with errors.
    diff: CodebookDiff | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def needs_new_version(self) -> bool:
        return self.status is PublishStatus.NEW_VERSION


def questionnaire_text(data: bytes, filename: str) -> str:
    """An uploaded questionnaire file as text, or :class:`InvalidInput` saying why not."""
    if len(data) > MAX_QUESTIONNAIRE_BYTES:
        raise InvalidInput([Problem(Location(file=filename), "publishing.page.too_large")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            [
                Problem(
                    Location(file=filename), "publishing.page.not_utf8", {"position": error.start}
                )
            ]
        ) from None


def current_questionnaire(store: Store, questionnaire_id: str) -> Questionnaire:
    """The published current revision of a questionnaire, loaded."""
    return load_questionnaire_text(
        store.questionnaire_source(questionnaire_id), f"{questionnaire_id}.yaml"
    )


def plan_publication(
    store: Store, text: str, filename: str, lang: str | None = None
) -> PublishPlan:
    """Check ``text`` and compare it with what is published; writes nothing. The diff's
    texts are in ``lang`` where it is one of the questionnaire's languages."""
    result = check_questionnaire_text(text, filename)
    plan = PublishPlan(filename=filename, problems=tuple(result.problems))
    questionnaire = result.questionnaire
    if questionnaire is None or plan.errors:
        return plan
    record = store.questionnaire(questionnaire.id)
    if record is None:
        return PublishPlan(filename, plan.problems, questionnaire, PublishStatus.NEW)
    counts = store.response_counts_by_day(questionnaire.id)
    responses = int(counts["responses"].sum()) if len(counts) else 0
    if record.revision == questionnaire.revision:
        status = PublishStatus.UNCHANGED
    else:
        status = PublishStatus.NEW_VERSION if responses else PublishStatus.REVISION
    shown = lang if lang in questionnaire.meta.languages else None
    diff = codebook_diff(current_questionnaire(store, questionnaire.id), questionnaire, shown)
    return PublishPlan(
        filename, plan.problems, questionnaire, status, record.revision, responses, diff
    )


def publish_questionnaire_text(
    store: Store,
    text: str,
    filename: str,
    *,
    new_version: bool = False,
    initial_state: QuestionnaireState = QuestionnaireState.DRAFT,
    lang: str | None = None,
) -> PublishPlan:
    """Publish ``text`` as :func:`plan_publication` planned it, and return the plan.

    Raises :class:`InvalidInput` (nothing changed) for a file with errors, and for a new
    revision of a survey with responses unless ``new_version``. A new survey starts in
    ``initial_state`` (default: a draft, which residents do not see until it is opened, so
    the manager can try it in the preview first); an existing one keeps its state.
    """
    plan = plan_publication(store, text, filename, lang)
    if plan.questionnaire is None or plan.errors:
        raise InvalidInput(plan.errors or plan.problems)
    if plan.needs_new_version and not new_version:
        raise InvalidInput(
            [
                Problem(
                    Location(file=filename, field="revision"),
                    "storage.publish.has_responses",
                    {"id": plan.questionnaire.id, "count": plan.responses},
                )
            ]
        )
    if plan.status is not PublishStatus.UNCHANGED:
        store.publish_questionnaire(
            plan.questionnaire, text, initial_state=initial_state, new_version=new_version
        )
    return plan


#: The columns of :func:`diff_table`, as catalogue keys of their headers.
DIFF_COLUMNS: tuple[str, ...] = ("change", "variable", "aspect", "before", "after")


def diff_table(diff: CodebookDiff, lang: str) -> pd.DataFrame:
    """The codebook diff as one row per difference, for the page and the command line:
    what happened (added / removed / changed), the variable, what changed, before, after."""
    rows = [(t("publishing.diff.added", lang), v, "", "", "") for v in diff.added]
    rows += [(t("publishing.diff.removed", lang), v, "", "", "") for v in diff.removed]
    for change in diff.changed:
        aspect = (
            t("publishing.aspect.code", lang, code=change.code)
            if change.aspect == "code"
            else t(f"publishing.aspect.{change.aspect}", lang)
        )
        rows.append(
            (
                t("publishing.diff.changed", lang),
                change.variable,
                aspect,
                change.before,
                change.after,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[t(f"publishing.col.{column}", lang) for column in DIFF_COLUMNS],
        dtype="string",
    )


def published_message(plan: PublishPlan, state: QuestionnaireState, lang: str) -> str:
    """What the page and the command line say after ``plan`` was published."""
    assert plan.questionnaire is not None  # a published plan has its questionnaire
    q = plan.questionnaire
    if plan.status is PublishStatus.UNCHANGED:
        return t("publishing.unchanged", lang, id=q.id, revision=q.revision)
    if plan.needs_new_version:
        return t(
            "publishing.published_new_version",
            lang,
            id=q.id,
            revision=q.revision,
            count=plan.responses,
        )
    return t(
        "publishing.published",
        lang,
        id=q.id,
        revision=q.revision,
        state=t(f"manager.state.{state.value}", lang),
    )


def default_survey_beside_others(store: Store) -> bool:
    """Whether the shipped default survey is still open next to another open survey (the
    municipality's own): then residents would be offered both."""
    open_ids = {r.id for r in store.questionnaires() if r.state is QuestionnaireState.OPEN}
    return DEFAULT_QUESTIONNAIRE_ID in open_ids and len(open_ids) > 1
