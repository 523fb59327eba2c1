"""Browser tests: ``streamlit run serve.py`` on a free loopback port, driven by Debian chromium.

The app gets its own SQLite file through ``SICHERHEITSANALYSE_DATABASE_URL``. Chromium is the
system's (``/usr/bin/chromium``), never a Playwright download. Where it is missing the tests
skip with the reason, except under ``CI=true``, where they must run and so fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serving import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 90


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str


@pytest.fixture
def app_database_url(tmp_path: Path) -> str:
    """The app's database; tests fill it (publish questionnaires, create codes) before use."""
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def running_app(app_database_url: str, tmp_path: Path) -> Iterator[RunningApp]:
    """``streamlit run serve.py`` (the production entry point: the pages behind the HTTP edge,
    views/_edge.py) as a subprocess; stopped after the test."""
    port = _free_port()
    env = {
        **os.environ,
        "SICHERHEITSANALYSE_DATABASE_URL": app_database_url,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        streamlit_command(ROOT / "serve.py", port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited early:\n{(tmp_path / 'streamlit.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy within {STARTUP_SECONDS} s")
            time.sleep(0.5)
        yield RunningApp(url=base, database_url=app_database_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian chromium through Playwright's sync API."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        _skip_or_fail(f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as missing:  # pragma: no cover - playwright is a test dependency
        _skip_or_fail(f"playwright is not installed: {missing}")
        raise
    executable = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
