"""Downloads for any run (export script, spec, metric history, weights) and its loss
landscape on demand. Errors have the API's one shape (404 unknown run, 409 no weights yet).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from app.nn.families.registry import export_for
from app.runs.service.front_door import RunService
from app.runs.store.metrics_table import to_csv
from app.web.common.deps import get_service, read_json
from app.web.runs.artifact_access import limit_landscapes, live_owner_only

router = APIRouter(tags=["files"])
LANDSCAPE_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"example": {"steps": 21, "span": 1.0, "seed": 0}}},
        "description": "Grid points per axis (odd; capped by settings), half-width of the "
        "slice in units of the filter-normalised directions, and the directions' seed.",
    }
}


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/api/runs/{run_id}/export.py", response_class=PlainTextResponse)
async def export_py(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """A self-contained PyTorch script that trains this run's experiment as the app does."""
    run = await manager.get(run_id)
    spec = manager.validate(run["spec"])  # 422 if the limits shrank since the run
    script = await asyncio.to_thread(export_for, spec)  # builds the data: keep off the loop
    return Response(script, media_type="text/x-python", headers=attachment(f"run-{run_id}.py"))


@router.get("/api/runs/{run_id}/spec.json")
async def spec_json(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """The run's resolved spec: POST it to /api/runs to run the same experiment again."""
    run = await manager.get(run_id)
    body = json.dumps(run["spec"], indent=2) + "\n"
    return Response(body, media_type="application/json", headers=attachment(f"run-{run_id}.json"))


@router.get("/api/runs/{run_id}/metrics.json")
async def metrics_json(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """{"run_id", "status", "task", "layers", "metrics": [frames]}: the stored history."""
    history = await manager.metric_history(run_id)
    return JSONResponse(history, headers=attachment(f"run-{run_id}-metrics.json"))


@router.get("/api/runs/{run_id}/metrics.csv")
async def metrics_csv(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """The same history as one row per frame; per-layer columns named after the layers."""
    history = await manager.metric_history(run_id)
    return Response(
        to_csv(history), media_type="text/csv", headers=attachment(f"run-{run_id}-metrics.csv")
    )


@router.get("/api/runs/{run_id}/weights.pt", dependencies=[Depends(live_owner_only)])
async def weights_pt(run_id: str, manager: RunService = Depends(get_service)) -> Response:
    """`torch.save(model.state_dict())`: now for a running or paused run, else at its end.
    Load with `torch.load(f, weights_only=True)` into the model the spec builds."""
    found = await manager.weights(run_id)
    headers = {**attachment(f"run-{run_id}-step{found.step}.pt"), "X-Step": str(found.step)}
    return Response(found.data, media_type="application/octet-stream", headers=headers)


@router.post(
    "/api/runs/{run_id}/landscape",
    openapi_extra=LANDSCAPE_BODY,
    dependencies=[Depends(live_owner_only), Depends(limit_landscapes)],
)
async def landscape(
    run_id: str, request: Request, manager: RunService = Depends(get_service)
) -> dict[str, Any]:
    """1-D and 2-D slices of the training loss around the run's current weights along
    filter-normalised random directions, with the run's trajectory projected on the plane."""
    result: dict[str, Any] = await manager.landscape(
        run_id, await read_json(request, 4096, default={})
    )
    return result
