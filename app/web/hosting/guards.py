"""ASGI middleware that guards every route, including ones added later by other modules.

- `BodyLimit`: request bodies are capped before any handler reads them (413): urlencoded
  form posts at `max_form_bytes`, anything else at `max_body_bytes`.
- `SecurityHeaders`: a CSP without inline script or style, nosniff, Referrer-Policy and
  frame-ancestors (settings.frame_ancestors, 'none' by default) on every HTTP response.
- `OriginCheck`: a WebSocket handshake from another site's page is refused (403) so a
  page elsewhere cannot drive runs with a visitor's cookie; no Origin (a script, not a
  browser) and same-origin are allowed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The only inline styles Plotly 4 truly needs, allowed by hash ('unsafe-hashes' admits these
# exact style attribute values and nothing else). Plotly sets them with setAttribute:
# heatmaps drawn as crisp pixels, colorbar fills, and its pseudo-HTML text tags (its
# TAG_STYLES): a log axis beyond the SI range labels ticks 10<sup>-18</sup>, drawn as a
# tspan with style="font-size:70%" (refused ~39 times a second before it was listed).
# Why hashes: 'unsafe-inline' would admit any style attribute an injected snippet brings
# (CSS exfiltration, UI redress), and nonces do not apply to style attributes at all.
# Its injected <style> element is not needed: we vendor plotly.css and base.html carries
# the `no-inline-styles` marker that turns the injection off.
PLOTLY_STYLE_ATTRS = (
    "".join(
        f"image-rendering: {v}; "
        for v in (
            "optimizeSpeed",
            "-moz-crisp-edges",
            "-o-crisp-edges",
            "-webkit-optimize-contrast",
            "optimize-contrast",
            "crisp-edges",
            "pixelated",
        )
    ),
    "",
    # svg_text_utils TAG_STYLES (plotly.js 4.1.1): sup/sub, s, u, b, i, a, em
    "font-size:70%",
    "text-decoration:line-through",
    "text-decoration:underline",
    "font-weight:bold",
    "font-style:italic",
    "cursor:pointer",
    "font-style:italic;font-weight:bold",
)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    f"style-src-attr 'unsafe-hashes' {' '.join(_sha256(v) for v in PLOTLY_STYLE_ATTRS)}; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int, max_form: int) -> None:
        self.app, self.max_body, self.max_form = app, max_body, max_form

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        limit = self.max_form if kind == "application/x-www-form-urlencoded" else self.max_body
        too_big = f"request body larger than {limit} bytes"
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, too_big)
            return
        # Read the body here (at most `limit` bytes held), then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def with_frame_ancestors(csp: str, sources: str) -> str:
    return csp.replace("frame-ancestors 'none'", f"frame-ancestors {sources}")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, frame_ancestors: str = "'none'") -> None:
        self.app = app
        self.csp = with_frame_ancestors(CSP, frame_ancestors)
        # X-Frame-Options knows no allow-list: it stays DENY unless embedding is allowed,
        # and then frame-ancestors alone decides (browsers prefer it anyway).
        self.frame_options = [(b"x-frame-options", b"DENY")] if frame_ancestors == "'none'" else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            # /docs too: its Swagger UI is vendored and started by a script file.
            (b"content-security-policy", self.csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            *self.frame_options,
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(origin: str, host: str | None, allowed: set[str]) -> bool:
    """Whether a handshake's Origin is this site (its Host header) or explicitly allowed."""
    origin = origin.strip().lower().rstrip("/")
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or host is None:
        return False
    default = ":443" if parts.scheme == "https" else ":80"
    return parts.netloc.removesuffix(default) == host.strip().lower().removesuffix(default)


class OriginCheck:
    def __init__(self, app: ASGIApp, allowed: str = "") -> None:
        self.app = app
        self.allowed = {o.strip().lower().rstrip("/") for o in allowed.split(",") if o.strip()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is not None and not same_origin(
                origin, _header(scope, b"host"), self.allowed
            ):
                await receive()  # websocket.connect
                # Closing before accepting makes the server answer the handshake with 403.
                await send({"type": "websocket.close", "code": 1008, "reason": "cross-origin"})
                return
        await self.app(scope, receive, send)
