"""``sicherheitsanalyse setup`` (run by every ``make run``) and ``sicherheitsanalyse demo reset``.

Thin: the work is :mod:`app._installation`'s; this module prints what it did. The first
administrator's password is printed exactly once, framed so it is not lost in the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app import DEMO, DemoSummary, SetupReport, remove_demo_data, reset_demo, setup_installation
from cli._options import DatabaseOption, LangOption, MunicipalityOption, fail
from core import InvalidInput, current_language, t
from storage import ADMIN_NAME, database_url
from survey import iter_problem_lines

demo_app = typer.Typer(help=t("cli.demo.help"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``setup`` and the ``demo`` command group to ``app``."""
    app.command("setup", help=t("installation.setup.help"))(setup_command)
    app.add_typer(demo_app, name="demo")


def setup_command(
    questionnaires: Annotated[
        Path,
        typer.Option("--questionnaires", help=t("cli.setup.questionnaires")),
    ] = Path("questionnaires"),
    no_demo: Annotated[bool, typer.Option("--no-demo", help=t("cli.setup.no_demo"))] = False,
    database_url_option: DatabaseOption = None,
    municipality: MunicipalityOption = None,
    lang: LangOption = None,
) -> None:
    """Create/migrate the database, publish the questionnaires, first admin and demo."""
    lang = lang or current_language()
    typer.echo(t("installation.setup.title", lang, url=_shown_url(database_url_option)))
    try:
        report = setup_installation(
            database_url_option,
            questionnaires=questionnaires,
            demo=not no_demo,
            municipality=municipality,
        )
    except SQLAlchemyError as error:
        raise _database_failed(error, lang) from None
    _print_setup(report, questionnaires, no_demo, lang)


def _print_setup(report: SetupReport, folder: Path, no_demo: bool, lang: str) -> None:
    typer.echo(t("installation.setup.schema", lang, version=report.schema_version))
    for published in report.published:
        typer.echo(
            t(
                "installation.setup.published",
                lang,
                id=published.id,
                file=published.path,
                revision=published.revision,
                state=published.state.value,
            )
        )
    for skipped in report.skipped:
        if skipped.live_survey_changed:
            typer.echo(t("installation.setup.skipped_live", lang, file=skipped.path), err=True)
            continue
        typer.echo(t("installation.setup.skipped", lang, file=skipped.path), err=True)
        for line in iter_problem_lines(skipped.problems, lang):
            typer.echo(f"  {line}", err=True)
    if report.unassigned:
        rows = ", ".join(f"{name}: {count}" for name, count in report.unassigned.items())
        typer.echo(t("municipality.page.unassigned", lang, rows=rows), err=True)
    if not report.published and not report.skipped:
        typer.echo(t("installation.setup.no_questionnaires", lang, folder=folder))
    if report.demo_seeded is not None:
        typer.echo(_demo_line("installation.setup.demo_seeded", report.demo_seeded, lang))
    elif report.demo_problems:
        typer.echo(t("installation.setup.demo_failed", lang), err=True)
        for line in iter_problem_lines(report.demo_problems, lang):
            typer.echo(f"  {line}", err=True)
    elif report.demo_present:
        typer.echo(t("installation.setup.demo_present", lang, name=DEMO.name))
    elif no_demo:
        typer.echo(t("installation.setup.demo_skipped", lang))
    else:
        typer.echo(t("installation.setup.demo_removed", lang, name=DEMO.name))
    if report.admin_password is None:
        typer.echo(t("installation.setup.admin_exists", lang))
    else:
        _print_password(report.admin_password, lang)
    typer.echo(t("installation.setup.done", lang))


def _print_password(password: str, lang: str) -> None:
    """The generated password, framed, this one time."""
    lines = [
        t("installation.setup.admin_password", lang, password=password),
        t("installation.setup.admin_hint", lang, name=ADMIN_NAME),
    ]
    rule = "=" * max(len(line) for line in lines)
    typer.echo("")
    typer.echo(rule)
    for line in lines:
        typer.echo(line)
    typer.echo(rule)
    typer.echo("")


def _demo_line(key: str, summary: DemoSummary, lang: str) -> str:
    return t(
        key,
        lang,
        name=summary.name,
        id=summary.questionnaire_id,
        responses=summary.responses,
        years="–".join(str(y) for y in (summary.incident_years[0], summary.incident_years[-1]))
        if summary.incident_years
        else "-",
        margins=summary.margin_rows,
    )


def _shown_url(url: str | None) -> str:
    """The database URL without a password."""
    shown = url or database_url()
    try:
        return make_url(shown).render_as_string(hide_password=True)
    except ArgumentError:  # an unparsable URL is reported when connecting
        return shown


@demo_app.command("reset", help=t("cli.demo.reset.help"))
def reset_command(database_url_option: DatabaseOption = None, lang: LangOption = None) -> None:
    """Restore the demo municipality: its responses, codes and datasets, seeded again."""
    lang = lang or current_language()
    try:
        summary = reset_demo(database_url_option)
    except InvalidInput as invalid:
        raise fail(invalid.problems, lang) from None
    except SQLAlchemyError as error:
        raise _database_failed(error, lang) from None
    typer.echo(_demo_line("installation.demo.reset_done", summary, lang))


def _database_failed(error: SQLAlchemyError, lang: str) -> typer.Exit:
    """A database that cannot be reached or used: one line, exit 1 (no traceback)."""
    original = getattr(error, "orig", None)
    reason = (str(original or error).splitlines() or [type(error).__name__])[0]
    typer.echo(
        f"{t('problem.error', lang)}: {t('installation.database_failed', lang, reason=reason)}",
        err=True,
    )
    return typer.Exit(1)


@demo_app.command("remove", help=t("cli.demo.remove.help"))
def remove_command(database_url_option: DatabaseOption = None, lang: LangOption = None) -> None:
    """Remove the demo's responses, codes and datasets (before real data is uploaded); the
    demo does not come back at the next start, ``demo reset`` restores it."""
    lang = lang or current_language()
    try:
        remove_demo_data(database_url_option)
    except SQLAlchemyError as error:
        raise _database_failed(error, lang) from None
    typer.echo(t("installation.demo.removed", lang, name=DEMO.name))
