"""HTTP details every route owes its clients, as ASGI middleware (covers routes added later):

- `RetryAfter`: every 429 carries `Retry-After` (a route that knows the wait sets its own;
  the rest, queue full or a visitor's run cap, get a short default).
- `AllowedMethods`: `OPTIONS` on any path answers 204 with `Allow` listing the methods its
  routes take (404 if none), and a 405 names all of them, not only the first route's.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.hosting.socket_cap import SocketCap

DEFAULT_RETRY_SECONDS = 5  # a queue slot or a run of one's own frees up in about this long
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class RetryAfter:
    def __init__(self, app: ASGIApp, seconds: int = DEFAULT_RETRY_SECONDS) -> None:
        self.app, self.value = app, str(seconds).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_retry(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"retry-after" for k, _ in headers):
                    message = {**message, "headers": [*headers, (b"retry-after", self.value)]}
            await send(message)

        await self.app(scope, receive, send_with_retry)


def allowed_methods(router_app: ASGIApp, scope: Scope) -> list[str]:
    """The methods some route of the app takes at this path (the router's own matching)."""
    routes = getattr(getattr(router_app, "router", None), "routes", [])
    allowed = []
    for method in METHODS:
        probe = {**scope, "method": method}
        for route in routes:
            if route.matches(probe)[0] != Match.FULL:
                continue
            # A mount (static files) matches any method but serves only these.
            if not isinstance(route, Mount) or method in ("GET", "HEAD"):
                allowed.append(method)
            break
    return [*allowed, "OPTIONS"] if allowed else []


class AllowedMethods:
    def __init__(self, app: ASGIApp, routes_of: ASGIApp) -> None:
        self.app, self.routes_of = app, routes_of  # routes_of: the FastAPI app (its router)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(self.routes_of, scope)
            if allowed:
                headers = [(b"allow", ", ".join(allowed).encode())]
                await send({"type": "http.response.start", "status": 204, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
            else:
                body = b'{"detail":"Not Found"}'
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 404, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = ", ".join(allowed_methods(self.routes_of, scope)).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_with_allow)


def install(app: FastAPI) -> None:
    """Called by create_app() before hosting.install(): these sit inside the visitor
    middleware (the socket cap reads the visitor) and the security headers."""
    settings = app.state.settings
    app.add_middleware(RetryAfter)
    app.add_middleware(AllowedMethods, routes_of=app)
    per_visitor, per_address = settings.max_sockets_per_visitor, settings.max_sockets_per_address
    if per_visitor > 0 or per_address > 0:
        app.add_middleware(SocketCap, per_visitor=per_visitor, per_address=per_address)
