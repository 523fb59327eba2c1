"""Questionnaire commands: ``validate``, ``codebook`` and the ``questionnaire`` group
(``publish``, ``state``).

Bad input never ends in a traceback: every problem is one line
``file:line:column: Fehler: <path>: <message>`` and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app import (
    PublishPlan,
    PublishStatus,
    diff_table,
    plan_publication,
    publish_questionnaire_text,
    published_message,
)
from cli._options import (
    DatabaseOption,
    LangOption,
    MunicipalityOption,
    QuestionnaireIdOption,
    fail,
    tenant_store,
)
from core import InvalidInput, current_language, t
from storage import QuestionnaireState
from survey import (
    check_action_fields,
    check_questionnaire,
    codebook,
    is_action_field_catalogue,
    iter_problem_lines,
)

CODEBOOK_FORMATS = ("csv", "json")

_LANG_OPTION = typer.Option(None, "--lang", help=t("cli.option.lang"))


def validate(
    files: list[Path] = typer.Argument(..., help=t("questionnaire.cli.files_help")),
    lang: str | None = _LANG_OPTION,
) -> None:
    """Check questionnaire files; exit 0 when all are valid, else 1."""
    lang = lang or current_language()
    failed = False
    for path in files:
        if is_action_field_catalogue(path):
            catalogue, problems = check_action_fields(path)
            for line in iter_problem_lines(problems, lang):
                typer.echo(line)
            if catalogue is None:
                failed = True
            else:
                typer.echo(
                    t(
                        "questionnaire.valid_catalogue",
                        lang,
                        file=path,
                        fields=len(catalogue.fields),
                    )
                )
            continue
        result = check_questionnaire(path)
        for line in iter_problem_lines(result.problems, lang):
            typer.echo(line)
        if result.ok and result.questionnaire is not None:
            questionnaire = result.questionnaire
            typer.echo(
                t(
                    "questionnaire.valid",
                    lang,
                    file=path,
                    variables=len(questionnaire.variables()),
                    revision=questionnaire.revision,
                )
            )
        else:
            failed = True
    raise typer.Exit(1 if failed else 0)


def codebook_command(
    file: Path = typer.Argument(..., help=t("questionnaire.cli.file_help")),
    output_format: str = typer.Option("csv", "--format", help=t("questionnaire.cli.format_help")),
    lang: str | None = _LANG_OPTION,
) -> None:
    """Print the codebook of a questionnaire as CSV or JSON."""
    lang = lang or current_language()
    if output_format not in CODEBOOK_FORMATS:
        typer.echo(
            f"{t('problem.error', lang)}: "
            + t("questionnaire.cli.bad_format", lang, found=output_format)
        )
        raise typer.Exit(1)
    result = check_questionnaire(file)
    if not result.ok or result.questionnaire is None:
        for line in iter_problem_lines(result.problems, lang):
            typer.echo(line)
        raise typer.Exit(1)
    table = codebook(result.questionnaire, lang)
    if output_format == "csv":
        typer.echo(table.to_csv(index=False), nl=False)
    else:
        typer.echo(table.to_json(orient="records", force_ascii=False, indent=2))


questionnaire_app = typer.Typer(help=t("cli.questionnaire.help"), no_args_is_help=True)


@questionnaire_app.command("publish", help=t("cli.questionnaire.publish.help"))
def publish(
    file: Annotated[Path, typer.Argument(help=t("cli.questionnaire.file"))],
    new_version: Annotated[
        bool, typer.Option("--new-version", help=t("cli.questionnaire.new_version"))
    ] = False,
    open_now: Annotated[bool, typer.Option("--open", help=t("cli.questionnaire.open"))] = False,
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Check FILE, show its codebook changes, and publish it."""
    lang = lang or current_language()
    checked = check_questionnaire(file)
    for line in iter_problem_lines(checked.problems, lang):
        typer.echo(line, err=True)
    if not checked.ok or checked.questionnaire is None:
        typer.echo(t("publishing.nothing_changed", lang), err=True)
        raise typer.Exit(1)
    text = file.read_text(encoding="utf-8")
    initial = QuestionnaireState.OPEN if open_now else QuestionnaireState.DRAFT
    with tenant_store(database_url, municipality, lang) as store:
        # The changes first, whether or not they will be published: what to look at before
        # deciding on --new-version.
        _echo_diff(plan_publication(store, text, str(file), lang), lang)
        try:
            plan = publish_questionnaire_text(
                store, text, str(file), new_version=new_version, initial_state=initial, lang=lang
            )
        except InvalidInput as error:
            typer.echo(t("publishing.nothing_changed", lang), err=True)
            raise fail(error.problems, lang) from None
        record = store.questionnaire(checked.questionnaire.id)
    _echo_published(plan, record.state if record else initial, lang)


def _echo_diff(plan: PublishPlan, lang: str) -> None:
    if plan.diff is None or plan.status is PublishStatus.UNCHANGED:
        return
    typer.echo(t("publishing.diff_title", lang, revision=plan.current_revision))
    if plan.diff.empty:
        typer.echo(f"  {t('publishing.diff_empty', lang)}")
        return
    for row in diff_table(plan.diff, lang).itertuples(index=False):
        change, variable, aspect, before, after = (str(v) for v in row)
        if aspect:
            line = t(
                "publishing.diff_line",
                lang,
                change=change,
                variable=variable,
                aspect=aspect,
                before=before,
                after=after,
            )
        else:
            line = f"{change}: {variable}"
        typer.echo(f"  {line}")


def _echo_published(plan: PublishPlan, state: QuestionnaireState, lang: str) -> None:
    typer.echo(published_message(plan, state, lang))
    if plan.status is not PublishStatus.UNCHANGED and state is QuestionnaireState.DRAFT:
        assert plan.questionnaire is not None  # a published plan has its questionnaire
        typer.echo(t("publishing.draft_hint", lang, id=plan.questionnaire.id))


@questionnaire_app.command("state", help=t("cli.questionnaire.state.help"))
def state_command(
    questionnaire: QuestionnaireIdOption,
    state: Annotated[str, typer.Argument(help=t("cli.questionnaire.state_value"))],
    database_url: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Open, close or draft a survey."""
    lang = lang or current_language()
    try:
        with tenant_store(database_url, municipality, lang) as store:
            store.set_state(questionnaire, state)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    typer.echo(
        t(
            "publishing.state_changed",
            lang,
            id=questionnaire,
            state=t(f"manager.state.{state}", lang),
        )
    )


def register(app: typer.Typer) -> None:
    """Add ``validate``, ``codebook`` and the ``questionnaire`` group to ``app``."""
    app.command("validate", help=t("questionnaire.cli.validate_help"))(validate)
    app.command("codebook", help=t("questionnaire.cli.codebook_help"))(codebook_command)
    app.add_typer(questionnaire_app, name="questionnaire")
