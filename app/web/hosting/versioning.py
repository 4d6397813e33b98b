"""The versioned API prefix: `/api/v1/...` is the API's name, `/api/...` an alias kept
for clients written before it (and for the pages, which call the short form).

Routes are declared once, under `/api/`; this middleware maps `/api/v1/<rest>` onto
them before routing, so both names reach the same endpoint, dependencies and limits,
and no route table is duplicated. The OpenAPI schema names the versioned paths only.
A later incompatible version gets its own routers under `/api/v2` and this alias stays
pointing at v1.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

VERSION = "v1"
PREFIX = f"/api/{VERSION}"


def unversioned(path: str) -> str | None:
    """The route path a versioned path names, or None when it is not versioned."""
    if path.startswith(PREFIX + "/"):
        return "/api" + path[len(PREFIX) :]
    return None


class ApiVersion:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            root = scope.get("root_path", "")
            path: str = scope["path"]
            local = path[len(root) :] if root and path.startswith(root) else path
            target = unversioned(local)
            if target is not None:
                scope = {**scope, "path": path[: len(path) - len(local)] + target}
                raw = scope.get("raw_path")
                if isinstance(raw, bytes) and raw.find(PREFIX.encode()) >= 0:
                    scope["raw_path"] = raw.replace(PREFIX.encode(), b"/api", 1)
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(ApiVersion)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        paths: dict[str, Any] = schema.get("paths", {})
        if any(p.startswith("/api/") and unversioned(p) is None for p in paths):
            schema["paths"] = {
                (PREFIX + p[len("/api") :] if p.startswith("/api/") else p): item
                for p, item in paths.items()
            }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
