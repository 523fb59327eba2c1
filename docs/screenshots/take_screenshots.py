"""Take the README's screenshots: ``.venv/bin/python docs/screenshots/take_screenshots.py``.

Sets up a throw-away installation with the demo municipality, starts ``streamlit run`` on a
free loopback port, signs in with Debian's chromium and photographs the priorities page
(table and quadrant chart) and the downloaded report.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from app import setup_installation
from core import t
from views import manager as manager_pages

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"streamlit did not start at {url}")


def _settle(page: Page, extra_ms: int = 1500) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(extra_ms)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/screenshots.db"
        report = setup_installation(url, questionnaires=ROOT / "questionnaires")
        assert report.admin_password is not None
        port = _free_port()
        env = {**os.environ, "SICHERHEITSANALYSE_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        app = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(app)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1900})
                page.goto(f"{app}/{manager_pages.SIGNIN_PATH}")
                _settle(page)
                page.get_by_label(t("manager.signin.name", "de")).fill("admin")
                page.get_by_label(t("manager.signin.password", "de")).fill(report.admin_password)
                page.get_by_role("button", name=t("manager.signin.submit", "de")).click()
                _settle(page, 3000)
                page.get_by_role("link", name=t("manager.priorities.title", "de")).click()
                _settle(page, 8000)
                page.screenshot(path=OUT / "priorities.png", full_page=True)
                page.get_by_role("link", name=t("manager.exports.title", "de")).click()
                _settle(page, 8000)
                with page.expect_download() as download:
                    page.get_by_role(
                        "button", name=t("manager.exports.download_report_html", "de")
                    ).click()
                report_file = Path(scratch) / "report.html"
                download.value.save_as(report_file)
                page.set_viewport_size({"width": 1100, "height": 1400})
                page.goto(report_file.as_uri())
                _settle(page, 3000)
                page.screenshot(path=OUT / "report.png")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {OUT / 'priorities.png'} and {OUT / 'report.png'}")


if __name__ == "__main__":
    main()
