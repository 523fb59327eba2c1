"""Privacy audit (docs/privacy.md): a coded respondent answers in the browser session with
every log at DEBUG and SQL logging on; neither the logs nor the database file hold the code,
a time of day, an address or a browser, and nothing ties the code to the answers."""

from __future__ import annotations

import logging
import re
import sqlite3
import tomllib
from pathlib import Path

import pytest

from storage import Store
from survey import Access
from tests.views.test_survey_page import Survey, publish, store  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
MINI = Path(__file__).resolve().parent / "fixtures" / "mini_survey.yaml"
FREE_TEXT = "Marktplatz-Ecke-7Q"
TIME_OF_DAY = re.compile(rb"(?<!\d)([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(?!\d)")
ADDRESS_OR_BROWSER = re.compile(rb"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|Mozilla|Chrome|Safari")


def _database_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:  # fold the WAL into the file first
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_coded_submission_leaves_no_time_code_or_address_behind(
    store: Store,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    q = publish(store, MINI, access=Access.CODE)
    [code] = store.create_codes(q.id, 1).codes
    survey = Survey(store, q).run()
    survey.at.text_input[0].input("  " + code.lower().replace("-", " ") + " ")
    survey.click("Code prüfen").click("Befragung beginnen")
    survey.answer("consent", True).click("Weiter")
    survey.answer("safe_night", 2).answer("avoid", True).answer("avoid_where", FREE_TEXT)
    survey.click("Speichern und später fortsetzen")  # a draft under the code, then submitted
    survey.click("Weiter").click("Weiter").answer("years", 40).click("Antworten absenden")
    assert "Vielen Dank!" in survey.texts()
    [response_id] = survey.responses()["response_id"].tolist()
    # The code never reaches the URL (a proxy's access log keeps URLs): only survey and lang.
    assert set(survey.at.query_params) <= {"survey", "lang"}
    assert code not in str(dict(survey.at.query_params))

    logs = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    for secret in (code, code.replace("-", ""), FREE_TEXT, str(response_id)):
        assert secret not in logs, secret

    url = str(store.engine.url)
    store.close()
    dump = _database_bytes(url)
    for secret in (code, code.replace("-", "")):
        assert secret.encode() not in dump
    assert not ADDRESS_OR_BROWSER.search(dump)
    times = {m.group(0) for m in TIME_OF_DAY.finditer(dump)}
    assert not times, times


def test_no_page_or_storage_module_reads_request_headers_or_addresses() -> None:
    """Streamlit offers the browser's headers and IP through ``st.context``; nothing uses it."""
    sources = [
        *(
            p
            for package in ("views", "app", "survey", "storage")
            for p in ROOT.glob(f"{package}/*.py")
        ),
        ROOT / "survey_app.py",
    ]
    pattern = re.compile(r"st\.context|remote_ip|user[-_]agent|X-Forwarded-For", re.IGNORECASE)
    offenders = [p.name for p in sources if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


def test_the_app_config_shows_no_tracebacks_logs_no_addresses_and_phones_home_never() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["logger"]["level"] in {"warning", "error"}  # Streamlit's INFO names clients
    assert config["browser"]["gatherUsageStats"] is False
