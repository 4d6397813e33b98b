"""Visitor identity: a random id in a cookie signed with HMAC-SHA256 (settings.secret_key).

Runs belong to the visitor that created them; only that visitor may control them when
ownership is enforced (demo mode), while anyone with a link may watch. A missing or
forged cookie gets a fresh id, set on the response. WebSocket handshakes carry the
cookie too (browsers send it to the same origin) but cannot set one: a socket without a
valid cookie is an anonymous watcher.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "bp_visitor"
MAX_AGE = 30 * 24 * 3600  # seconds


def _sign(secret: bytes, visitor: str) -> str:
    mac = hmac.new(secret, visitor.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode()


def make_cookie_value(secret: bytes, visitor: str) -> str:
    return f"{visitor}.{_sign(secret, visitor)}"


def verify(secret: bytes, value: str) -> str | None:
    """The visitor id if the cookie value carries a valid signature, else None."""
    visitor, _, signature = value.partition(".")
    if not visitor or len(visitor) > 64 or not signature:
        return None
    return visitor if hmac.compare_digest(_sign(secret, visitor), signature) else None


def _cookie_header(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return str(value.decode("latin-1"))
    return ""


def read_visitor(secret: bytes, scope: Scope) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(_cookie_header(scope))
    except Exception:  # a malformed Cookie header is the same as none
        return None
    morsel = jar.get(COOKIE)
    return verify(secret, morsel.value) if morsel is not None else None


class VisitorMiddleware:
    """Puts the visitor id in scope["state"]["visitor"]; sets the cookie when new."""

    def __init__(self, app: ASGIApp, secret: str, embeddable: bool = False) -> None:
        self.app = app
        self.secret = secret.encode()
        # In a frame on another site a SameSite=Lax cookie is never sent back, so every
        # request would be a new visitor. SameSite=None requires Secure; Partitioned
        # (CHIPS) keys the cookie to the embedding site, which browsers that block
        # third-party cookies still accept.
        self.embeddable = embeddable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        visitor = read_visitor(self.secret, scope)
        fresh = visitor is None
        if visitor is None:
            visitor = secrets.token_urlsafe(12)
        scope.setdefault("state", {}).update(visitor=visitor, visitor_new=fresh)
        if scope["type"] == "websocket" or not fresh:
            await self.app(scope, receive, send)
            return
        attributes = "SameSite=Lax"
        if self.embeddable:
            attributes = "SameSite=None; Secure; Partitioned"
        elif scope.get("scheme") == "https":
            attributes += "; Secure"
        cookie = (
            f"{COOKIE}={make_cookie_value(self.secret, visitor)}; Path=/; Max-Age={MAX_AGE}; "
            f"HttpOnly; {attributes}"
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def visitor_id(conn: HTTPConnection) -> str:
    """This request's visitor (the peer address when the middleware is not installed)."""
    state: dict[str, Any] = conn.scope.get("state") or {}
    visitor = state.get("visitor")
    if isinstance(visitor, str):
        return visitor
    return conn.client.host if conn.client else "unknown"
