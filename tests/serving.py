"""The processes that the browser and deployment tests and the benchmarks start: the app
(``streamlit run serve.py`` on a loopback port) and Caddy with ``deploy/Caddyfile`` in front
of replicas. ``bench/`` imports this module; the tests never import from ``bench/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CADDYFILE = ROOT / "deploy" / "Caddyfile"
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def streamlit_command(script: Path, port: int) -> list[str]:
    """``streamlit run <script>`` on ``127.0.0.1:<port>``, headless."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]


def insecure_context() -> ssl.SSLContext:
    """TLS without verification: Caddy's ``internal`` CA on a loopback address."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Started:
    """A process started here, with its log file and the port it serves."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait_healthy(self, url: str) -> None:
        """Wait until ``url`` answers 200; stop the process and raise if it does not."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args!r} exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=insecure_context()) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{url} did not become healthy within {STARTUP_SECONDS} s")
            time.sleep(0.3)


def _start(command: list[str], env: Mapping[str, str], log: Path, port: int) -> Started:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    return Started(process, log, port)


def start_app(script: Path, env: Mapping[str, str], log: Path) -> Started:
    """``streamlit run <script>`` with ``env`` added to this environment, healthy."""
    port = free_port()
    started = _start(
        streamlit_command(script, port),
        {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **env},
        log,
        port,
    )
    started.wait_healthy(f"http://127.0.0.1:{port}/_stcore/health")
    return started


def start_caddy(workdir: Path, upstreams: Sequence[int]) -> Started:
    """Caddy with ``deploy/Caddyfile`` on a free loopback port (TLS from its ``internal``
    CA, its data in ``workdir``) in front of the replicas on ``upstreams``, healthy; its
    access log is ``workdir / "access.log"``."""
    caddy = shutil.which("caddy")
    if caddy is None:
        raise RuntimeError("caddy is not installed (apt-get install caddy)")
    port = free_port()
    env = {
        **os.environ,
        "SICHERHEITSANALYSE_SITE": f"https://127.0.0.1:{port}",
        "SICHERHEITSANALYSE_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in upstreams),
        "SICHERHEITSANALYSE_TLS": "internal",
        "SICHERHEITSANALYSE_ACCESS_LOG": str(workdir / "access.log"),
        "SICHERHEITSANALYSE_HTTP_PORT": str(free_port()),
        "SICHERHEITSANALYSE_CADDY_ADMIN": "off",
        "XDG_DATA_HOME": str(workdir / "caddy-data"),
        "XDG_CONFIG_HOME": str(workdir / "caddy-config"),
    }
    command = [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    started = _start(command, env, workdir / "caddy.log", port)
    started.wait_healthy(f"https://127.0.0.1:{port}/_stcore/health")
    return started
