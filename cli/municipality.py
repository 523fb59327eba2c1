"""``sicherheitsanalyse municipality``: the municipalities (tenants) of an installation, their
members, adopting data from before municipalities, and a municipality's backup and restore.

These are the administration's commands: they work across municipalities. On PostgreSQL with
row-level security run them with the administration's database URL (a role with BYPASSRLS,
see docs/operations.md); ``export`` and ``import`` also work under the app's role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli._options import DatabaseOption, LangOption, fail, output_file
from core import InvalidInput, Location, Problem, current_language, format_integer, t
from storage import Backups, Municipalities, Store

municipality_app = typer.Typer(help=t("cli.municipality.help"), no_args_is_help=True)

AgsArgument = Annotated[str, typer.Argument(help=t("cli.municipality.ags"))]
AccountArgument = Annotated[str, typer.Argument(help=t("cli.municipality.account"))]


def register(app: typer.Typer) -> None:
    """Add the ``municipality`` command group to ``app``."""
    app.add_typer(municipality_app, name="municipality")


@municipality_app.command("create", help=t("cli.municipality.create.help"))
def create(
    ags: AgsArgument,
    name: Annotated[str, typer.Argument(help=t("cli.municipality.name"))],
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    lang = lang or current_language()
    try:
        with Store(database_url) as store:
            created = Municipalities(store.engine).create(ags, name)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    typer.echo(t("cli.municipality.created", lang, ags=created.ags, name=created.name))


@municipality_app.command("list", help=t("cli.municipality.list.help"))
def list_municipalities(database_url: DatabaseOption = None, lang: LangOption = None) -> None:
    lang = lang or current_language()
    with Store(database_url) as store:
        municipalities = Municipalities(store.engine)
        every = municipalities.all()
        members = {m.ags: municipalities.members(m.ags) for m in every}
        unassigned = municipalities.unassigned()
    for m in every:
        typer.echo(f"{m.ags} | {m.name} | {', '.join(members[m.ags]) or '-'}")
    if unassigned:
        rows = ", ".join(f"{name}: {format_integer(n, lang)}" for name, n in unassigned.items())
        typer.echo(t("municipality.page.unassigned", lang, rows=rows), err=True)


def _membership(ags: str, account: str, database_url: str | None, lang: str, *, add: bool) -> bool:
    try:
        with Store(database_url) as store:
            municipalities = Municipalities(store.engine)
            municipalities.require(ags)
            if add:
                municipalities.add_member(account, ags)
                return True
            return municipalities.remove_member(account, ags)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None


@municipality_app.command("add-member", help=t("cli.municipality.add_member.help"))
def add_member(
    ags: AgsArgument,
    account: AccountArgument,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    lang = lang or current_language()
    _membership(ags, account, database_url, lang, add=True)
    typer.echo(t("municipality.page.member_added", lang, account=account.strip().lower()))


@municipality_app.command("remove-member", help=t("cli.municipality.remove_member.help"))
def remove_member(
    ags: AgsArgument,
    account: AccountArgument,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    lang = lang or current_language()
    if not _membership(ags, account, database_url, lang, add=False):
        where = Location(field="account")
        raise fail([Problem(where, "cli.municipality.no_member", {"account": account})], lang)
    typer.echo(t("municipality.page.member_removed", lang, account=account.strip().lower()))


@municipality_app.command("adopt", help=t("cli.municipality.adopt.help"))
def adopt(
    ags: AgsArgument,
    name: Annotated[str, typer.Argument(help=t("cli.municipality.name"))],
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Give every row no municipality owns (data from before municipalities) to ``ags``,
    creating the municipality if it does not exist yet."""
    lang = lang or current_language()
    try:
        with Store(database_url) as store:
            municipalities = Municipalities(store.engine)
            municipalities.ensure(ags, name)
            adopted = municipalities.adopt(ags)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    rows = ", ".join(f"{table}: {format_integer(n, lang)}" for table, n in adopted.items())
    typer.echo(t("cli.municipality.adopted", lang, ags=ags, rows=rows or "0"))


@municipality_app.command("export", help=t("cli.municipality.export.help"))
def export(
    ags: AgsArgument,
    out: Annotated[Path, typer.Option("-o", "--out", help=t("cli.municipality.out"))],
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    lang = lang or current_language()
    try:
        with Store(database_url) as store:
            data = Backups(store.database).export(ags)
        with output_file(out, "wb") as stream:
            stream.write(data)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    typer.echo(t("cli.municipality.exported", lang, ags=ags, path=str(out)))


@municipality_app.command("import", help=t("cli.municipality.import.help"))
def import_command(
    file: Annotated[Path, typer.Argument(help=t("cli.municipality.file"))],
    drop_codes: Annotated[
        bool, typer.Option("--drop-codes", help=t("cli.municipality.drop_codes"))
    ] = False,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    lang = lang or current_language()
    try:
        try:
            data = file.read_bytes()
        except OSError as error:
            where = Location(file=str(file))
            reason = error.strerror or str(error)
            problem = Problem(where, "cli.municipality.unreadable", {"reason": reason})
            raise InvalidInput([problem]) from None
        with Store(database_url) as store:
            written = Backups(store.database).restore(data, source=str(file), drop_codes=drop_codes)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    rows = ", ".join(f"{table}: {format_integer(n, lang)}" for table, n in written.items() if n)
    typer.echo(t("cli.municipality.imported", lang, path=str(file), rows=rows or "0"))
