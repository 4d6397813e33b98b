"""Shared request plumbing: the run service from app state, client identity, bounded JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from app.runs.errors import Invalid
from app.runs.service.front_door import RunService
from app.settings import Settings
from app.web.common.visitor import visitor_id

_EMPTY = object()


def get_service(conn: HTTPConnection) -> RunService:
    """The run layer's front door, built by the app's lifespan (app/main.py)."""
    service: RunService = conn.app.state.service
    return service


def get_app_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def client_id(conn: HTTPConnection) -> str:
    """Who a run belongs to (ownership, per-visitor limit): the signed visitor cookie's id
    (common/visitor.py). Rate limits use the peer address instead (hosting/ratelimit.py)."""
    return visitor_id(conn)


async def read_json(request: Request, limit: int, default: Any = _EMPTY) -> Any:
    """The body as JSON, read with a size cap (a huge body must not exhaust memory);
    an empty body is `default` when one is given."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"request body larger than {limit} bytes")
    if not body.strip() and default is not _EMPTY:
        return default
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Invalid([{"field": "body", "message": f"invalid JSON: {exc}"}]) from None
