"""The HTTP edge of the app: security headers on every response and Streamlit endpoints that a
public survey must not offer, enforced in the process itself (``serve.py`` runs the pages as an
``st.App`` behind this middleware), so they hold without a reverse proxy too.

* ``Content-Security-Policy: frame-ancestors 'self'`` and ``X-Frame-Options: SAMEORIGIN``: no
  other site can frame the survey or the manager pages (click-jacking).
* ``Referrer-Policy: no-referrer``: a resident who follows a link leaves no survey URL behind.
* ``X-Content-Type-Options: nosniff``; ``Permissions-Policy`` switches off camera, microphone,
  geolocation and the like, which no page uses.
* ``/_stcore/metrics`` answers 404: Streamlit's metrics are for hosting platforms, not for
  anyone on the internet (session counts and cache sizes tell when the manager is working).

What a reverse proxy in front must add (TLS, HSTS, sticky sessions) is in docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Headers added to every HTTP response.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (
        b"permissions-policy",
        b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    ),
)
#: Path endings answered with 404 whatever the base URL path.
CLOSED_PATHS: tuple[str, ...] = ("/_stcore/metrics",)


class EdgeMiddleware:
    """ASGI middleware: closes :data:`CLOSED_PATHS`, adds :data:`SECURITY_HEADERS`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path.rstrip("/").endswith(CLOSED_PATHS):
            await _not_found(send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self._app(scope, receive, send_with_headers)


async def _not_found(send: Send) -> None:
    body = b"Not Found"
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
