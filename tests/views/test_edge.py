"""The HTTP edge, driven as an ASGI server would drive it."""

from __future__ import annotations

import asyncio
from typing import Any

from views._edge import SECURITY_HEADERS, EdgeMiddleware


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
    asyncio.run(EdgeMiddleware(_inner)(scope, receive, send))
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

    asyncio.run(
        EdgeMiddleware(inner)({"type": "websocket", "path": "/_stcore/stream"}, nothing, ignore)
    )
    assert seen == ["websocket"]
