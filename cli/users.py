"""``sicherheitsanalyse users``: local manager accounts (used when OIDC is not configured).

Passwords are never taken as command-line arguments (they would end up in the shell
history and the process list): they are prompted twice with hidden input, or read from
standard input with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from cli._options import DatabaseOption, LangOption, fail
from core import InvalidInput, current_language, t
from storage import Accounts, Municipalities, Store, UserRole

users_app = typer.Typer(help=t("cli.users.help"), no_args_is_help=True)

PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help=t("cli.users.password_stdin")),
]


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group to ``app``."""
    app.add_typer(users_app, name="users")


def _error(key: str, lang: str) -> typer.Exit:
    typer.echo(f"{t('problem.error', lang)}: {t(key, lang)}", err=True)
    return typer.Exit(1)


def _read_password(password_stdin: bool, lang: str) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _error("accounts.password_stdin_empty", lang)
        return password
    first = str(typer.prompt(t("accounts.prompt_password", lang), hide_input=True))
    second = str(typer.prompt(t("accounts.prompt_repeat", lang), hide_input=True))
    if first != second:
        raise _error("accounts.passwords_differ", lang)
    return first


def _change_password(
    action: Callable[[Accounts, str], None],
    password_stdin: bool,
    database_url: str | None,
    lang: str,
) -> None:
    """Read a password, hand it to ``action``, and turn bad input into exit code 1."""
    password = _read_password(password_stdin, lang)
    try:
        with Accounts(database_url) as accounts:
            action(accounts, password)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None


@users_app.command("add", help=t("cli.users.add.help"))
def add(
    name: Annotated[str, typer.Argument(help=t("cli.users.new_name"))],
    role: Annotated[UserRole, typer.Option(help=t("cli.users.role"))] = UserRole.MANAGER,
    password_stdin: PasswordStdinOption = False,
    municipality: Annotated[
        list[str] | None, typer.Option("--municipality", help=t("cli.users.municipality"))
    ] = None,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Create a user; the password is stored only as an argon2 hash."""
    lang = lang or current_language()
    keys = list(municipality or [])
    with Store(database_url) as store:  # the municipalities are checked before the account
        municipalities = Municipalities(store.engine)
        try:
            for ags in keys:
                municipalities.require(ags, "--municipality")
        except InvalidInput as error:
            raise fail(error.problems, lang) from None
        _change_password(
            lambda accounts, password: accounts.add_user(name, password, role),
            password_stdin,
            database_url,
            lang,
        )
        for ags in keys:
            municipalities.add_member(name, ags)
    typer.echo(t("accounts.user_added", lang, name=name.strip().lower(), role=role.value))


@users_app.command("set-password", help=t("cli.users.set_password.help"))
def set_password(
    name: Annotated[str, typer.Argument(help=t("cli.users.name"))],
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Replace a user's password (this also lifts a sign-in throttle)."""
    lang = lang or current_language()
    _change_password(
        lambda accounts, password: accounts.set_password(name, password),
        password_stdin,
        database_url,
        lang,
    )
    typer.echo(t("accounts.password_set", lang, name=name.strip().lower()))


@users_app.command("remove", help=t("cli.users.remove.help"))
def remove(
    name: Annotated[str, typer.Argument(help=t("cli.users.name"))],
    database_url: DatabaseOption = None,
    lang: LangOption = None,
) -> None:
    """Delete a user (the last administrator cannot be deleted)."""
    lang = lang or current_language()
    try:
        with Accounts(database_url) as accounts:
            accounts.remove_user(name)
    except InvalidInput as error:
        raise fail(error.problems, lang) from None
    typer.echo(t("accounts.user_removed", lang, name=name.strip().lower()))


@users_app.command("list", help=t("cli.users.list.help"))
def list_users(database_url: DatabaseOption = None, lang: LangOption = None) -> None:
    """List the users with role and creation day (never a password hash)."""
    lang = lang or current_language()
    with Accounts(database_url) as accounts:
        users = accounts.users()
    if not users:
        typer.echo(t("accounts.no_users", lang))
        return
    typer.echo(t("accounts.list_header", lang))
    for user in users:
        typer.echo(f"{user.name} | {user.role.value} | {user.created_on.isoformat()}")


@users_app.command("ensure-admin", help=t("cli.users.ensure_admin.help"))
def ensure_admin(database_url: DatabaseOption = None, lang: LangOption = None) -> None:
    """On the very first run, create ``admin`` and print its generated password once."""
    announce_first_admin(database_url, lang or current_language())


def announce_first_admin(database_url: str | None, lang: str) -> None:
    """Create the first administrator if there is none and print its password this once.

    ``sicherheitsanalyse setup`` (run by ``make run``) calls this, so the first start shows
    the generated password in the terminal; later starts only say that an admin exists.
    """
    with Accounts(database_url) as accounts:
        password = accounts.ensure_admin()
    if password is None:
        typer.echo(t("accounts.admin_exists", lang))
    else:
        typer.echo(t("accounts.admin_created", lang, password=password))
