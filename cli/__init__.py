"""The ``sicherheitsanalyse`` command line.

Each area registers its commands from its own module, so the CLI stays thin: commands parse
arguments, call ``survey`` / ``scoring``, and print. Bad input exits 1 with one line per
problem, never a traceback.
"""

from __future__ import annotations

import typer

from cli import codes, demo, municipality, paper, questionnaire, report, responses, score, users
from core import t

app = typer.Typer(
    name="sicherheitsanalyse",
    help=t("cli.help"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (questionnaire, codes, score, report, users, demo, responses, paper, municipality):
    module.register(app)


def main() -> None:
    app()
