"""A cap on open WebSockets per visitor and per address (demo mode), as ASGI middleware so
every socket route (runs, comparisons, races, and any added later) is covered.

Each open socket holds a task and a cursor on a run's log; without a cap one visitor could
open thousands. A visitor id costs one cookie-less request to mint, so sockets are counted
twice: per visitor (a browser with its cookie; a handshake without a valid cookie counts as
its address) and per address (a larger cap: several people may share one). A handshake
over either cap is refused before it is accepted: HTTP 429 with Retry-After where the
server supports denial responses (uvicorn does), else a 403 close.
"""

from __future__ import annotations

import json
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_SECONDS = 10


class SocketCap:
    def __init__(self, app: ASGIApp, per_visitor: int, per_address: int) -> None:
        self.app, self.per_visitor, self.per_address = app, per_visitor, per_address
        self.open: Counter[str] = Counter()  # key -> sockets open now

    def keys(self, scope: Scope) -> list[tuple[str, int]]:
        state = scope.get("state") or {}
        client = scope.get("client")
        address = "addr:" + (client[0] if client else "unknown")
        visitor = state.get("visitor") if not state.get("visitor_new") else None
        keys = []
        if self.per_visitor > 0:
            keys.append(("visitor:" + visitor if visitor else address + "#v", self.per_visitor))
        if self.per_address > 0:
            keys.append((address, self.per_address))
        return keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        keys = self.keys(scope)
        full = next((cap for key, cap in keys if self.open[key] >= cap), None)
        if full is not None:
            await refuse(scope, receive, send, f"at most {full} open sockets per visitor")
            return
        for key, _ in keys:
            self.open[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for key, _ in keys:
                self.open[key] -= 1
                if self.open[key] <= 0:
                    del self.open[key]


async def refuse(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
    await receive()  # websocket.connect
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_SECONDS).encode()),
        ]
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
