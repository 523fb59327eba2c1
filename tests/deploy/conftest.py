"""Two app replicas on one PostgreSQL database behind Caddy with ``deploy/Caddyfile``, all on
loopback ports, for the whole module; stopped and dropped afterwards.

Caddy is the Debian package (``apt-get install caddy``; ``.ci/run`` installs it). Where Caddy
or PostgreSQL is missing the tests skip with the reason, except under ``CI=true``, where they
must run and so fail instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import DATABASE_URL_ENV_VAR
from tests.browser.conftest import CHROMIUM, _skip_or_fail
from tests.databases import postgres_unreachable_reason, scratch_postgres_database
from tests.serving import ROOT, Started, start_app, start_caddy

KEY_FILE_ENV_VAR = "SICHERHEITSANALYSE_KEY_FILE"


@dataclass(frozen=True)
class Deployment:
    url: str
    database_url: str
    replica_ports: tuple[int, ...]
    access_log: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if shutil.which("caddy") is None:
        _skip_or_fail("caddy is not installed (apt-get install caddy)")
    if not CHROMIUM.exists():
        _skip_or_fail(f"chromium is not installed at {CHROMIUM}")
    reason = postgres_unreachable_reason()
    if reason is not None:
        _skip_or_fail(reason)
    workdir = tmp_path_factory.mktemp("deployment")
    started: list[Started] = []
    key_file = str(workdir / "installation.keys")
    with (
        scratch_postgres_database("sa_deploy") as database_url,
        pytest.MonkeyPatch.context() as patch,
    ):
        # One key file for every replica and for the tests' own Store (docs/operations.md).
        patch.setenv(KEY_FILE_ENV_VAR, key_file)
        env = {DATABASE_URL_ENV_VAR: database_url, KEY_FILE_ENV_VAR: key_file}
        try:
            for index in range(2):
                log = workdir / f"replica{index + 1}.log"
                started.append(start_app(ROOT / "serve.py", env, log))
            ports = tuple(s.port for s in started)
            proxy = start_caddy(workdir, ports)
            started.append(proxy)
            yield Deployment(
                f"https://127.0.0.1:{proxy.port}", database_url, ports, workdir / "access.log"
            )
        finally:
            for process in reversed(started):
                process.stop()
