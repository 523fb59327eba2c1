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
* ``/media/*`` (where Streamlit serves every ``st.download_button`` file, at a URL that works
  for anyone while the session lives) answers 404 unless the request carries a *download
  pass*: a random cookie that a signed-in manager page set in its own browser
  (:func:`grant_download_pass`) and registered here, valid while that session keeps using
  the pages, revoked at sign-out. Only manager pages offer downloads; the survey uses no
  media at all. The cookie is ``SameSite=Strict``, so another site cannot make the browser
  send it.

What a reverse proxy in front must add (TLS, HSTS, sticky sessions) is in docs/operations.md.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
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
#: Where Streamlit serves media files (downloads), below the base URL path. Not to be confused
#: with the frontend's own ``/static/media/`` (fonts), which stays open.
MEDIA_ROUTE = "media/"
#: The download pass's cookie and how long a pass lives after the page last renewed it.
PASS_COOKIE = "sa_download_pass"  # noqa: S105 (a cookie name, not a secret)
PASS_SECONDS = 2 * 3600.0
_PASS_STATE_KEY = "edge.download_pass"  # noqa: S105 (a session-state key)


#: The script :func:`grant_download_pass` returns; nothing else on a page sets this cookie.
_COOKIE_SCRIPT = (
    "<script>document.cookie = '{cookie}={token}; path=/; SameSite=Strict'"
    " + (location.protocol === 'https:' ? '; Secure' : '');</script>"
)

_passes: dict[str, float] = {}
_passes_lock = threading.Lock()


def grant_download_pass(state: MutableMapping[Any, Any]) -> str:
    """Give this browser session a download pass and return the script that sets its cookie.

    ``state`` is the session's ``st.session_state``: the pass is made once per session and
    renewed on every call, so it lives while the manager keeps working. Call it on every
    manager page that offers downloads, and render the returned ``<script>`` with
    ``st.html(..., unsafe_allow_javascript=True)``.
    """
    token = state.get(_PASS_STATE_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        state[_PASS_STATE_KEY] = token
    now = time.monotonic()
    with _passes_lock:
        for stale in [t for t, until in _passes.items() if until < now]:
            del _passes[stale]
        _passes[token] = now + PASS_SECONDS
    return _COOKIE_SCRIPT.format(cookie=PASS_COOKIE, token=token)


def is_download_pass_script(html: str) -> bool:
    """Whether ``html`` is exactly the script of :func:`grant_download_pass` (for tests that
    check that no other script reaches a page)."""
    pattern = re.escape(_COOKIE_SCRIPT.format(cookie=PASS_COOKIE, token="TOKEN"))  # noqa: S106
    return re.fullmatch(pattern.replace("TOKEN", "[A-Za-z0-9_-]{43}"), html) is not None


def revoke_download_pass(state: MutableMapping[Any, Any]) -> None:
    """End this session's download pass (sign-out): its downloads answer 404 from now on."""
    token = state.pop(_PASS_STATE_KEY, None)
    with _passes_lock:
        _passes.pop(str(token), None)


def _media_prefix() -> str:
    """``/<base url path>/media/`` as Streamlit routes it (``server.baseUrlPath``)."""
    from streamlit import config  # read per request: tests and the CLI may change it

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{MEDIA_ROUTE}" if base else f"/{MEDIA_ROUTE}"


def _has_download_pass(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() != b"cookie":
            continue
        try:
            cookie = SimpleCookie(value.decode("latin-1"))
        except CookieError:
            return False
        morsel = cookie.get(PASS_COOKIE)
        if morsel is None:
            continue
        with _passes_lock:
            until = _passes.get(morsel.value)
        return until is not None and until >= time.monotonic()
    return False


class EdgeMiddleware:
    """ASGI middleware: closes :data:`CLOSED_PATHS` and media without a download pass, adds
    :data:`SECURITY_HEADERS`."""

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
        if path.startswith(_media_prefix()) and not _has_download_pass(scope):
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
