"""The JSON API of comparisons and optimizer races (docs/API.md "Comparisons", "Races").

POST /api/comparisons and /api/races queue a job on the run service (same queue, limits
and workers as runs); GET answers its state; pause / resume / step / stop control it; its
events are GET /.../events?after=N or WS /ws/comparisons/{id} and /ws/races/{id} (ws_compare).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.nn.race.race import FUNCTIONS, contour_grid, describe
from app.runs.errors import Invalid, NotFound
from app.settings import Settings
from app.web.common.deps import client_id, get_app_settings, get_service, read_json
from app.web.common.query_bounds import MAX_SEQ
from app.web.compare.sweeps import sweep_of
from app.web.hosting.ownership import check_owner
from app.web.hosting.ratelimit import limit_creation

router = APIRouter()
ACTIONS = ("pause", "resume", "step", "stop")
COMPARISON_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "base": {"data": {"dataset": "xor", "val_fraction": 0.2}},
                    "members": [
                        {"optimizer": {"name": "sgd", "lr": 0.03}},
                        {"optimizer": {"name": "momentum", "lr": 0.03, "momentum": 0.9}},
                        {"optimizer": {"name": "adam", "lr": 0.01}, "label": "Adam"},
                    ],
                }
            }
        },
        "description": "A base spec and 2 to 8 members (optimizer, schedule, batch_size, "
        "l1, l2, weight_decay, grad_clip, label, overrides).",
    }
}
RACE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "function": "bowl",
                    "racers": [{"name": "sgd", "lr": 0.02}, {"name": "momentum", "lr": 0.02}],
                    "start": [-4, -3],
                    "steps": 300,
                }
            }
        },
    }
}


async def _n(request: Request) -> int:
    body = await read_json(request, 4096, default={})
    n = body.get("n", 1) if isinstance(body, dict) else body
    if isinstance(n, bool) or not isinstance(n, int):
        raise Invalid([{"field": "n", "message": f"expected an integer, got {n!r}"}])
    return n


async def _control(request: Request, kind: str, job_id: str, action: str) -> dict[str, Any]:
    service = get_service(request)
    if action not in ACTIONS:
        raise NotFound(f"unknown action {action!r}; use {', '.join(ACTIONS)}")
    await service.job_row(kind, job_id)
    await check_owner(request, job_id)
    n = await _n(request) if action == "step" else 1
    return await service.control_job(kind, job_id, action, n)


async def _events(request: Request, kind: str, job_id: str, after: int) -> Response:
    service = get_service(request)
    if not await service.job_exists(kind, job_id):
        raise NotFound(f"no {kind} {job_id!r}")
    service.viewers.touch(job_id)  # polling a job counts as watching it
    events, status, last_seq = await service.events(job_id, after)
    head = json.dumps({"id": job_id, "status": status, "last_seq": last_seq})[:-1]
    body = head.encode() + b',"events":[' + b",".join(e.data for e in events) + b"]}"
    return Response(body, media_type="application/json")


# ---- comparisons ------------------------------------------------------------------------
@router.post(
    "/api/comparisons",
    status_code=201,
    tags=["comparisons"],
    openapi_extra=COMPARISON_BODY,
    dependencies=[Depends(limit_creation)],
)
async def create_comparison(
    request: Request,
    paused: bool = Query(False, description="start paused at step 0 (then step or resume)"),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Queue a comparison -> {"id", "status", "members": [member run ids]}."""
    data = await read_json(request, settings.max_body_bytes)
    return await get_service(request).create_comparison(data, client_id(request), paused)


@router.get("/api/comparisons/{comparison_id}", tags=["comparisons"])
async def get_comparison(
    comparison_id: str, request: Request, settings: Settings = Depends(get_app_settings)
) -> dict[str, Any]:
    """The comparison; `sweep`: members over several sequence lengths T read as one series
    per model (score at each T, the first T it fails at), else null."""
    view = await get_service(request).comparison(comparison_id)
    return {**view, "sweep": sweep_of(view, settings.limits())}


@router.get("/api/comparisons/{comparison_id}/events", tags=["comparisons"])
async def comparison_events(
    comparison_id: str, request: Request, after: int = Query(0, ge=0, le=MAX_SEQ)
) -> Response:
    return await _events(request, "comparison", comparison_id, after)


@router.post("/api/comparisons/{comparison_id}/{action}", tags=["comparisons"])
async def control_comparison(comparison_id: str, action: str, request: Request) -> Any:
    """pause | resume | step (body {"n": 10}) | stop: all members at once."""
    return await _control(request, "comparison", comparison_id, action)


# ---- races ------------------------------------------------------------------------------
@router.get("/api/races/functions", tags=["races"])
async def race_functions() -> list[dict[str, Any]]:
    """The 2-D test functions: ranges, start point, minima, saddles, target."""
    return [describe(key) for key in FUNCTIONS]


@router.get("/api/races/functions/{key}", tags=["races"])
async def race_function(key: str, size: int = Query(80, ge=10, le=200)) -> dict[str, Any]:
    """One function with its values on a size x size grid (rows = y) for a contour plot."""
    if key not in FUNCTIONS:
        raise NotFound(FUNCTIONS.unknown_message(key))
    return {**describe(key), "grid": contour_grid(key, size)}


@router.post(
    "/api/races",
    status_code=201,
    tags=["races"],
    openapi_extra=RACE_BODY,
    dependencies=[Depends(limit_creation)],
)
async def create_race(
    request: Request,
    paused: bool = Query(False),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Queue a race -> {"id", "status"}; watch it on WS /ws/races/{id}."""
    data = await read_json(request, settings.max_body_bytes)
    return await get_service(request).create_race(data, client_id(request), paused)


@router.get("/api/races/{race_id}", tags=["races"])
async def get_race(race_id: str, request: Request) -> dict[str, Any]:
    return await get_service(request).race(race_id)


@router.get("/api/races/{race_id}/events", tags=["races"])
async def race_events(
    race_id: str, request: Request, after: int = Query(0, ge=0, le=MAX_SEQ)
) -> Response:
    return await _events(request, "race", race_id, after)


@router.post("/api/races/{race_id}/{action}", tags=["races"])
async def control_race(race_id: str, action: str, request: Request) -> Any:
    return await _control(request, "race", race_id, action)
