"""The JSON API: runs (create, list, inspect, control, delete), their events, the spec.

Documented at /docs and in docs/API.md. Every refusal has one shape: 404/409/413/429/503
{"detail": "reason"} and 422 {"detail": [{"field", "message"}]}.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from app.nn.spec.experiment import validate_spec
from app.runs.errors import Busy, Conflict, Forbidden, Invalid, NotFound, RunError, Unavailable
from app.runs.service.front_door import RunService
from app.runs.service.live_changes import VIEW_LISTS, live_keys
from app.settings import Settings
from app.web.common.choices import describe_choices
from app.web.common.deps import client_id, get_app_settings, get_service, read_json
from app.web.common.query_bounds import MAX_OFFSET, MAX_SEQ
from app.web.hosting.openapi_errors import document_errors
from app.web.hosting.ownership import require_owner
from app.web.hosting.ratelimit import limit_creation
from app.web.runs.openapi_spec import spec_schema

router = APIRouter()
STATUS_OF = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Busy: 429,
    Invalid: 422,
    Unavailable: 503,
}
OWNER_ONLY = [Depends(require_owner)]  # control endpoints: the run's visitor only (demo)
SPEC_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Spec"}}},
        "description": "An experiment spec; every field is optional ({} is the default run).",
    }
}
PARAMS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        key: {
                            "type": "array",
                            "items": {"type": "number", "minimum": lo, "maximum": hi},
                            "minItems": length,
                            "maxItems": length,
                        }
                        for key, (length, lo, hi) in VIEW_LISTS.items()
                    },
                    "additionalProperties": {"type": "number"},
                },
                "example": {"lr": 0.1},
            }
        },
        "description": f"Live-tunable hyper-parameters: {', '.join(live_keys())}. "
        "view_pixels: a drawn 8x8 digit for a cnn run's views, 64 grey levels in [0, 16].",
    }
}
STEP_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"example": {"n": 10}}},
        "description": "How many optimizer steps to take (default 1); the run stays paused.",
    }
}


def install_error_handlers(app: FastAPI) -> None:
    async def run_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RunError)
        return JSONResponse({"detail": exc.detail}, status_code=STATUS_OF.get(type(exc), 400))

    async def request_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p not in ("query", "path")),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_exception_handler(RunError, run_error)
    app.add_exception_handler(RequestValidationError, request_error)


def install_openapi(app: FastAPI) -> None:
    """/docs shows the Spec schema for POST /api/runs, whose body we parse ourselves."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            limits = app.state.settings.limits()  # the real bounds and the registries' keys
            spec = spec_schema(limits, ref_template="#/components/schemas/{model}")
            defs = spec.pop("$defs", {})
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update({**defs, "Spec": spec})
            app.openapi_schema = document_errors(schema)  # our 4xx shapes, per operation
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.get("/healthz", tags=["service"])
async def healthz(manager: RunService = Depends(get_service)) -> dict[str, Any]:
    return manager.health()


@router.post(
    "/api/runs",
    status_code=201,
    tags=["runs"],
    openapi_extra=SPEC_BODY,
    dependencies=[Depends(limit_creation)],
)
async def create_run(
    request: Request,
    paused: bool = Query(False, description="start paused (then step or resume)"),
    manager: RunService = Depends(get_service),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Validate a spec and queue a run -> {"id", "status"}."""
    data = await read_json(request, settings.max_body_bytes, default={})
    return await manager.create(data, client_id(request), paused)


@router.get("/api/runs", tags=["runs"])
async def list_runs(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    manager: RunService = Depends(get_service),
) -> dict[str, Any]:
    """Runs, newest first, with their status and summary."""
    return await manager.list_runs(limit, offset)


@router.get("/api/runs/{run_id}", tags=["runs"])
async def get_run(run_id: str, manager: RunService = Depends(get_service)) -> dict[str, Any]:
    manager.viewers.touch(run_id)  # polling a run counts as watching it
    return await manager.get(run_id)


@router.get("/api/runs/{run_id}/events", tags=["runs"])
async def run_events(
    run_id: str,
    after: int = Query(0, ge=0, le=MAX_SEQ, description="last seq already seen"),
    manager: RunService = Depends(get_service),
) -> Response:
    """Events after seq `after` (what a WebSocket would replay), as one JSON object."""
    events, status, last_seq = await manager.events(run_id, after)
    manager.viewers.touch(run_id)
    head = json.dumps({"run_id": run_id, "status": status, "last_seq": last_seq})[:-1]
    body = head.encode() + b',"events":[' + b",".join(e.data for e in events) + b"]}"
    return Response(body, media_type="application/json")


async def _action(request: Request, manager: RunService, run_id: str, action: str) -> Any:
    if action == "pause":
        return await manager.pause(run_id)
    if action == "resume":
        return await manager.resume(run_id)
    if action == "stop":
        return await manager.stop(run_id)
    body = await read_json(request, 4096, default={})
    n = body.get("n", 1) if isinstance(body, dict) else body
    if isinstance(n, bool) or not isinstance(n, int):
        raise Invalid([{"field": "n", "message": f"expected an integer, got {n!r}"}])
    return await manager.step(run_id, n)


@router.post("/api/runs/{run_id}/pause", tags=["control"], dependencies=OWNER_ONLY)
async def pause(run_id: str, request: Request, m: RunService = Depends(get_service)) -> Any:
    return await _action(request, m, run_id, "pause")


@router.post("/api/runs/{run_id}/resume", tags=["control"], dependencies=OWNER_ONLY)
async def resume(run_id: str, request: Request, m: RunService = Depends(get_service)) -> Any:
    return await _action(request, m, run_id, "resume")


@router.post("/api/runs/{run_id}/stop", tags=["control"], dependencies=OWNER_ONLY)
async def stop(run_id: str, request: Request, m: RunService = Depends(get_service)) -> Any:
    return await _action(request, m, run_id, "stop")


@router.post(
    "/api/runs/{run_id}/step", tags=["control"], openapi_extra=STEP_BODY, dependencies=OWNER_ONLY
)
async def step(run_id: str, request: Request, m: RunService = Depends(get_service)) -> Any:
    return await _action(request, m, run_id, "step")


@router.patch(
    "/api/runs/{run_id}", tags=["control"], openapi_extra=PARAMS_BODY, dependencies=OWNER_ONLY
)
async def set_params(
    run_id: str, request: Request, manager: RunService = Depends(get_service)
) -> dict[str, Any]:
    """Change live hyper-parameters between steps -> {"id", "status", "applied"}."""
    return await manager.set_params(run_id, await read_json(request, 4096))


@router.delete("/api/runs/{run_id}", status_code=204, tags=["runs"], dependencies=OWNER_ONLY)
async def delete_run(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """Forget a run (a training run is stopped first)."""
    await manager.delete(run_id)
    return Response(status_code=204)


@router.get("/api/spec/schema", tags=["spec"])
async def get_spec_schema(settings: Settings = Depends(get_app_settings)) -> dict[str, Any]:
    """The spec's JSON schema with this server's bounds and the allowed keys."""
    return spec_schema(settings.limits())


@router.get("/api/spec/choices", tags=["spec"])
async def spec_choices() -> dict[str, list[dict[str, Any]]]:
    """Each family of choices (datasets, activations, optimizers, ...) from its registry."""
    return describe_choices()


@router.get("/api/spec/default", tags=["spec"])
async def spec_default(settings: Settings = Depends(get_app_settings)) -> dict[str, Any]:
    return validate_spec({}, settings.limits()).model_dump(mode="json")


@router.get("/api/limits", tags=["spec"])
async def limits(settings: Settings = Depends(get_app_settings)) -> dict[str, Any]:
    """Spec bounds and service limits, for forms and clients."""
    return {
        "spec": settings.limits().as_dict(),
        "live_params": live_keys(),
        "max_queued": settings.max_queued,
        "max_runs_per_client": settings.max_runs_per_client,
        "demo": settings.demo,
        "owner_only": settings.owner_only,
        "idle_run_seconds": settings.idle_run_seconds,
        "create_per_minute": settings.create_per_minute,
        "max_training_runs": settings.max_training_runs or settings.worker_count(),
        "max_run_seconds": settings.max_run_seconds,
        "max_paused_seconds": settings.max_paused_seconds,
        "frame_rate": settings.frame_rate_max,
        "snapshot_rate": settings.snapshot_rate,
        "snapshot_rate_busy": settings.snapshot_rate_busy,
    }
