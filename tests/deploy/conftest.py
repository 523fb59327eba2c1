"""Two app replicas on one PostgreSQL database behind Caddy with ``deploy/Caddyfile``, all on
loopback ports, for the whole module; stopped and dropped afterwards.

Caddy is the Debian package (``apt-get install caddy``; ``.ci/run`` installs it). Where Caddy
or PostgreSQL is missing the tests skip with the reason, except under ``CI=true``, where they
must run and so fail instead.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import DATABASE_URL_ENV_VAR
from tests.browser.conftest import _free_port, _skip_or_fail
from tests.browser.conftest import browser as browser
from tests.conftest import ROOT
from tests.databases import postgres_unreachable_reason, scratch_postgres_database

CADDYFILE = ROOT / "deploy" / "Caddyfile"
STARTUP_SECONDS = 90


def insecure_context() -> ssl.SSLContext:
    """TLS without verification: Caddy's ``internal`` CA on a loopback address."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class Deployment:
    url: str
    database_url: str
    replica_ports: tuple[int, ...]
    access_log: Path
    key_file: Path


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=insecure_context()) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not become healthy within {STARTUP_SECONDS} s")
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    caddy = shutil.which("caddy")
    if caddy is None:
        _skip_or_fail("caddy is not installed (apt-get install caddy)")
    reason = postgres_unreachable_reason()
    if reason is not None:
        _skip_or_fail(reason)
    workdir = tmp_path_factory.mktemp("deployment")
    key_file = workdir / "installation.keys"
    processes: list[subprocess.Popen[bytes]] = []
    with scratch_postgres_database("sa_deploy") as database_url:
        try:
            ports: list[int] = []
            for index in range(2):
                port = _free_port()
                log = workdir / f"replica{index + 1}.log"
                with log.open("wb") as out:
                    processes.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "streamlit",
                                "run",
                                str(ROOT / "serve.py"),
                                "--server.address",
                                "127.0.0.1",
                                "--server.port",
                                str(port),
                                "--server.headless",
                                "true",
                            ],
                            cwd=ROOT,
                            env={
                                **os.environ,
                                DATABASE_URL_ENV_VAR: database_url,
                                "SICHERHEITSANALYSE_KEY_FILE": str(key_file),
                                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
                            },
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
                ports.append(port)
            for port, process, index in zip(ports, processes, range(2), strict=True):
                _wait_healthy(
                    f"http://127.0.0.1:{port}/_stcore/health",
                    process,
                    workdir / f"replica{index + 1}.log",
                )
            proxy_port = _free_port()
            access_log = workdir / "access.log"
            caddy_log = workdir / "caddy.log"
            with caddy_log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [str(caddy), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                        env={
                            **os.environ,
                            "SICHERHEITSANALYSE_SITE": f"https://127.0.0.1:{proxy_port}",
                            "SICHERHEITSANALYSE_UPSTREAMS": " ".join(
                                f"127.0.0.1:{port}" for port in ports
                            ),
                            "SICHERHEITSANALYSE_TLS": "internal",
                            "SICHERHEITSANALYSE_ACCESS_LOG": str(access_log),
                            "SICHERHEITSANALYSE_HTTP_PORT": str(_free_port()),
                            "SICHERHEITSANALYSE_CADDY_ADMIN": "off",
                            "XDG_DATA_HOME": str(workdir / "caddy-data"),
                            "XDG_CONFIG_HOME": str(workdir / "caddy-config"),
                        },
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            url = f"https://127.0.0.1:{proxy_port}"
            _wait_healthy(f"{url}/_stcore/health", processes[-1], caddy_log)
            yield Deployment(url, database_url, tuple(ports), access_log, key_file)
        finally:
            for process in reversed(processes):
                _stop(process)
