"""Two replicas behind Caddy (``deploy/Caddyfile``): what the proxy adds and keeps out, that a
browser stays on one replica, that both replicas serve, and a survey completed through it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPResponse
from typing import Any

import pytest
from playwright.sync_api import sync_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from survey import Form, Questionnaire, load_questionnaire
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_survey_journey import LANG, MINI, PHONE, Respondent
from tests.deploy.conftest import Deployment
from tests.fixtures import municipality_store
from tests.serving import insecure_context
from views._widgets import question_label

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

STICKY_COOKIE = "sa_replica"


def get(url: str, cookie: str | None = None) -> HTTPResponse:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        answer: HTTPResponse = urllib.request.urlopen(
            request, timeout=30, context=insecure_context()
        )
    except urllib.error.HTTPError as error:
        return error  # type: ignore[return-value]  # an HTTPError is the response
    answer.read()
    return answer


def sticky_cookie(answer: HTTPResponse) -> str:
    """The ``name=value`` of the proxy's sticky cookie set on ``answer``."""
    for header in answer.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.startswith(f"{STICKY_COOKIE}="):
            return pair
    raise AssertionError(f"no {STICKY_COOKIE} cookie in {answer.headers.get_all('Set-Cookie')}")


def replica_of(cookie: str, deployment: Deployment) -> int:
    """Which replica (its port) the cookie names: Caddy's cookie policy stores the HMAC-SHA256
    of the upstream's address (the key is empty: no ``lb_policy`` secret is set)."""
    value = cookie.split("=", 1)[1]
    for port in deployment.replica_ports:
        digest = hmac.new(b"", f"127.0.0.1:{port}".encode(), hashlib.sha256).hexdigest()
        if digest == value:
            return port
    raise AssertionError(f"the cookie {cookie} names no replica")


def session_id(deployment: Deployment, cookie: str, existing: str | None = None) -> str:
    """Open the app's WebSocket as the browser does (with the sticky cookie), optionally
    asking to resume session ``existing``; the id of the session the server runs."""
    ws_url = deployment.url.replace("https", "wss", 1) + "/_stcore/stream"
    protocols: list[Any] = ["streamlit", "no-xsrf-token", *([existing] if existing else [])]
    with connect(
        ws_url,
        subprotocols=protocols,
        additional_headers={"Cookie": cookie, "Origin": deployment.url},
        ssl=insecure_context(),
        open_timeout=30,
    ) as socket:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        socket.send(rerun.SerializeToString())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=deadline - time.monotonic()))
            if message.WhichOneof("type") == "new_session":
                return str(message.new_session.initialize.session_id)
    raise AssertionError("no new_session message within 60 s")


def test_security_headers_on_every_response(deployment: Deployment) -> None:
    for path in ("/", "/_stcore/health", "/?survey=unbekannt", "/_stcore/metrics"):
        headers = get(deployment.url + path).headers
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000"), path
        assert headers["Content-Security-Policy"] == "frame-ancestors 'self'", path
        assert headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert "camera=()" in headers["Permissions-Policy"], path
        assert headers["Server"] is None, path


def test_metrics_are_closed_at_the_proxy(deployment: Deployment) -> None:
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/x/_stcore/metrics"):
        assert get(deployment.url + path).status == 404, path
    assert get(deployment.url + "/_stcore/health").status == 200


def test_sticky_cookie_keeps_a_browser_on_one_replica_and_both_serve(
    deployment: Deployment,
) -> None:
    # New visitors are spread: among 30 first visits both replicas are named (a chance of
    # 2 * 2**-30 that a random choice names one only).
    cookies = [sticky_cookie(get(deployment.url + "/")) for _ in range(30)]
    by_replica = {replica_of(cookie, deployment): cookie for cookie in cookies}
    assert set(by_replica) == set(deployment.replica_ports)
    for port, cookie in by_replica.items():
        # A browser that sends its cookie gets no new one, and its session is found again on
        # every reconnection: only the replica that holds a session can resume it.
        assert "Set-Cookie" not in str(get(deployment.url + "/", cookie).headers), port
        first = session_id(deployment, cookie)
        for _ in range(5):
            assert session_id(deployment, cookie, existing=first) == first, port
    # Without the cookie a reconnection may land on the other replica, which has no such
    # session: the cookie, not luck, kept the session above.
    other = by_replica[deployment.replica_ports[0]]
    owner = session_id(deployment, by_replica[deployment.replica_ports[1]])
    assert session_id(deployment, other, existing=owner) != owner


def test_a_survey_is_completed_through_the_proxy(deployment: Deployment) -> None:
    """A resident on a phone, through the proxy: the page, the WebSocket and every rerun reach
    the replica that holds the session (the same path as the mini-survey journey)."""
    questionnaire = load_questionnaire(MINI)
    with municipality_store(deployment.database_url) as store:
        store.publish_questionnaire(questionnaire, MINI.read_text(encoding="utf-8"))
    # Playwright's sync API runs one instance per thread, and the browser tests' session-wide
    # one may be open in this thread: this journey gets a thread and a chromium of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        cookies = pool.submit(_answer_through_proxy, deployment.url, questionnaire).result()
    assert STICKY_COOKIE in cookies
    with municipality_store(deployment.database_url) as store:
        responses = store.responses(questionnaire)
    assert len(responses) == 1
    assert responses.iloc[0]["years"] == 12


def _answer_through_proxy(url: str, questionnaire: Questionnaire) -> set[str]:
    """The mini survey answered in chromium at ``url``; the names of the cookies it got."""
    form = Form(questionnaire)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport=PHONE, ignore_https_errors=True, locale="de-DE")
        try:
            page = context.new_page()
            page.set_default_timeout(Respondent.step_timeout_ms)  # the machine is shared
            respondent = Respondent(page, form)
            respondent.page.goto(f"{url}/?survey={questionnaire.id}")
            respondent.see("Befragung beginnen")
            respondent.click("Befragung beginnen")
            consent = question_label(form, questionnaire.item("consent"), LANG)
            respondent.choose(consent, "Ja")
            respondent.click("Weiter")
            respondent.click("Weiter")
            respondent.see("trotzdem weiter?")
            respondent.click("Weiter")
            label = respondent.text(questionnaire.item("years").label)
            years = page.get_by_role("spinbutton", name=label)
            years.fill("12")
            years.press("Tab")
            respondent.settle()
            respondent.click("Antworten absenden")
            respondent.see("Vielen Dank!")
            return {str(c["name"]) for c in context.cookies()}
        finally:
            context.close()
            chromium.close()


def test_access_log_holds_no_address_agent_query_or_time_of_day(deployment: Deployment) -> None:
    get(deployment.url + "/?survey=mini&lang=de")
    lines = [json.loads(line) for line in deployment.access_log.read_text().splitlines()]
    assert lines, "the proxy logs requests"
    for entry in lines:
        request = entry["request"]
        assert not {"remote_ip", "remote_port", "client_ip", "headers", "tls"} & set(request)
        assert "?" not in request["uri"]
        assert "resp_headers" not in entry
        assert len(str(entry["ts"])) == len("2026-11-27"), entry["ts"]
    raw = deployment.access_log.read_text()
    assert "127.0.0.1" not in raw.replace(f'"host":"{deployment.url[8:]}"', "")
    assert "Mozilla" not in raw
    assert "Python-urllib" not in raw
