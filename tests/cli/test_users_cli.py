from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app
from storage import Accounts, SignInResult, UserRole

GOOD = "korrekt-Pferd-Batterie"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def verify(url: str, name: str, password: str) -> SignInResult:
    with Accounts(url) as accounts:
        return accounts.verify(name, password)


def user_names(url: str) -> list[str]:
    with Accounts(url) as accounts:
        return [u.name for u in accounts.users()]


def invoke(runner: CliRunner, url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["users", *args, "--database-url", url, "--lang", "de"], input=stdin
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_add_with_hidden_prompt_twice_and_list(runner: CliRunner, database_url: str) -> None:
    code, out, _ = invoke(runner, database_url, "add", "Mara", stdin=f"{GOOD}\n{GOOD}\n")
    assert code == 0
    assert "„mara“" in out
    assert GOOD not in out  # hidden input is not echoed
    assert verify(database_url, "mara", GOOD).ok
    code, out, _ = invoke(runner, database_url, "list")
    assert code == 0
    assert "mara | manager |" in out
    assert "argon2" not in out


def test_add_from_stdin_with_role(runner: CliRunner, sqlite_url: str) -> None:
    code, _, _ = invoke(
        runner, sqlite_url, "add", "chefin", "--role", "admin", "--password-stdin", stdin=GOOD
    )
    assert code == 0
    assert verify(sqlite_url, "chefin", GOOD).role is UserRole.ADMIN


def test_prompted_passwords_that_differ_are_refused(runner: CliRunner, sqlite_url: str) -> None:
    code, _, err = invoke(runner, sqlite_url, "add", "mara", stdin=f"{GOOD}\n{GOOD}x\n")
    assert code == 1
    assert "Die beiden Eingaben stimmen nicht überein." in err
    assert user_names(sqlite_url) == []


def test_weak_password_exits_1_with_the_policy_message(runner: CliRunner, sqlite_url: str) -> None:
    code, _, err = invoke(runner, sqlite_url, "add", "mara", "--password-stdin", stdin="kurz\n")
    assert code == 1
    assert "Fehler: password: Das Passwort muss mindestens 12 Zeichen lang sein (es hat 4)." in err
    assert "Traceback" not in err
    assert user_names(sqlite_url) == []


def test_empty_stdin_is_refused(runner: CliRunner, sqlite_url: str) -> None:
    code, _, err = invoke(runner, sqlite_url, "add", "mara", "--password-stdin", stdin="")
    assert code == 1
    assert "kein Passwort" in err


def test_duplicate_user_exits_1(runner: CliRunner, sqlite_url: str) -> None:
    invoke(runner, sqlite_url, "add", "mara", "--password-stdin", stdin=GOOD)
    code, _, err = invoke(runner, sqlite_url, "add", "MARA", "--password-stdin", stdin=GOOD)
    assert code == 1
    assert "gibt es schon" in err


def test_unknown_role_is_refused_by_the_parser(runner: CliRunner, sqlite_url: str) -> None:
    code, _, _ = invoke(
        runner, sqlite_url, "add", "mara", "--role", "chef", "--password-stdin", stdin=GOOD
    )
    assert code == 2
    assert user_names(sqlite_url) == []


def test_set_password(runner: CliRunner, sqlite_url: str) -> None:
    invoke(runner, sqlite_url, "add", "mara", "--password-stdin", stdin=GOOD)
    code, _, _ = invoke(
        runner, sqlite_url, "set-password", "mara", "--password-stdin", stdin="ganz-neues-Passwort"
    )
    assert code == 0
    assert verify(sqlite_url, "mara", "ganz-neues-Passwort").ok
    code, _, err = invoke(
        runner, sqlite_url, "set-password", "nobody", "--password-stdin", stdin=GOOD
    )
    assert code == 1
    assert "„nobody“" in err


def test_list_when_empty(runner: CliRunner, sqlite_url: str) -> None:
    code, out, _ = invoke(runner, sqlite_url, "list")
    assert code == 0
    assert "noch keine Benutzer" in out


def test_ensure_admin_prints_the_password_once(runner: CliRunner, sqlite_url: str) -> None:
    code, out, _ = invoke(runner, sqlite_url, "ensure-admin")
    assert code == 0
    password = out.strip().rsplit(" ", 1)[-1]
    assert verify(sqlite_url, "admin", password).ok
    code, out, _ = invoke(runner, sqlite_url, "ensure-admin")
    assert code == 0
    assert password not in out
    assert "bereits" in out


def test_remove(runner: CliRunner, sqlite_url: str) -> None:
    invoke(runner, sqlite_url, "add", "mara", "--password-stdin", stdin=GOOD)
    code, out, _ = invoke(runner, sqlite_url, "remove", "mara")
    assert code == 0
    assert "gelöscht" in out
    assert user_names(sqlite_url) == []
    code, _, err = invoke(runner, sqlite_url, "remove", "mara")
    assert code == 1
    assert "„mara“" in err
