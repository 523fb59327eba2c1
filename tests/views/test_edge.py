"""The HTTP edge, driven as an ASGI server would drive it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from views._edge import (
    PASS_COOKIE,
    SECURITY_HEADERS,
    EdgeMiddleware,
    grant_download_pass,
    revoke_download_pass,
)


def run_alone(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on a fresh event loop in its own thread: after the browser tests
    Playwright's loop still runs in the main thread, and asyncio.run would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-inner", b"1")]})
    await send({"type": "http.response.body", "body": b"page"})


def _request(path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "method": "GET", "headers": []}
    run_alone(EdgeMiddleware(_inner)(scope, receive, send))
    return sent


def test_every_response_carries_the_security_headers() -> None:
    start = _request("/anmelden")[0]
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-security-policy"] == b"frame-ancestors 'self'"
    assert headers[b"x-frame-options"] == b"SAMEORIGIN"
    assert headers[b"x-inner"] == b"1"
    assert set(SECURITY_HEADERS) <= set(start["headers"])


def test_the_metrics_endpoint_is_closed_under_any_base_path() -> None:
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/sicherheit/_stcore/metrics"):
        start, body = _request(path)
        assert start["status"] == 404
        assert body["body"] == b"Not Found"


def test_websockets_pass_untouched() -> None:
    seen: list[str] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(message: dict[str, Any]) -> None:
        return None

    run_alone(
        EdgeMiddleware(inner)({"type": "websocket", "path": "/_stcore/stream"}, nothing, ignore)
    )
    assert seen == ["websocket"]


def _request_with_cookie(path: str, cookie: str | None) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"cookie", cookie.encode())] if cookie is not None else []
    scope = {"type": "http", "path": path, "method": "GET", "headers": headers}
    run_alone(EdgeMiddleware(_inner)(scope, receive, send))
    return int(sent[0]["status"])


def test_a_download_url_answers_only_a_browser_with_the_sessions_pass() -> None:
    """Before: the report's /media/<hash>.html answered 200 to an anonymous client while the
    manager's session lived. Now only the browser holding the manager session's pass gets it,
    and not after sign-out."""
    state: dict[str, Any] = {}
    script = grant_download_pass(state)
    token = state["edge.download_pass"]
    assert f"{PASS_COOKIE}={token}" in script
    assert "SameSite=Strict" in script
    url = "/media/0f3c9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d.html"
    assert _request_with_cookie(url, None) == 404  # the anonymous client
    assert _request_with_cookie(url, f"{PASS_COOKIE}=guessed-value") == 404
    assert _request_with_cookie(url, "_streamlit_xsrf=2|aa|bb|1") == 404
    assert _request_with_cookie(url, f"other=1; {PASS_COOKIE}={token}") == 200
    revoke_download_pass(state)
    assert _request_with_cookie(url, f"{PASS_COOKIE}={token}") == 404


def test_the_frontends_own_static_media_stay_open() -> None:
    assert _request_with_cookie("/static/media/SourceSansVF-Upright.ttf.woff2", None) == 200
