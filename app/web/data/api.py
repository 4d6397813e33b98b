"""Import: TensorFlow Playground links, CSV datasets, and stored custom datasets.

A custom dataset (uploaded or drawn) is stored content-addressed; its key travels in page
URLs as `pts=<key>` because thousands of points do not fit in a link.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.datastructures import UploadFile

from app.nn.data.csv_points import CsvError, parse_csv
from app.nn.data.points import infer_task
from app.nn.spec.tfp import import_tfp
from app.runs.errors import Invalid
from app.runs.service.front_door import RunService
from app.settings import Settings
from app.web.common.deps import get_app_settings, get_service, read_json

router = APIRouter(tags=["import"])
MULTIPART_SLACK = 16_384  # multipart headers and boundaries around the file itself
TFP_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "url": "https://playground.tensorflow.org/#activation=relu&dataset=spiral"
                    "&networkShape=8,8&learningRate=0.03&noise=10"
                }
            }
        },
        "description": 'A TF Playground link (or its "#..." fragment); optional "epochs" (100).',
    }
}
CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "text/csv": {"example": "x1,x2,label\n0.5,1.0,1\n-2,0.3,0\n..."},
        },
        "description": "Rows x1, x2, label (a header is optional); a file field named "
        '"file" or the CSV text as the body.',
    }
}


def tfp_spec(data: Any, settings: Settings) -> dict[str, Any]:
    """{"spec", "notes"} for a {"url": ...} body; Invalid naming the bad key otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise Invalid([{"field": "url", "message": 'expected {"url": "<TF Playground link>"}'}])
    epochs = data.get("epochs", 100)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise Invalid([{"field": "epochs", "message": f"{epochs!r}: expected a whole number"}])
    try:
        spec, notes = import_tfp(data["url"], settings.limits(), epochs)
    except ValueError as exc:
        raise Invalid([{"field": "url", "message": str(exc)}]) from None
    return {"spec": spec, "notes": notes}


@router.post("/api/import/tfp", openapi_extra=TFP_BODY)
async def import_tfp_link(
    request: Request, settings: Settings = Depends(get_app_settings)
) -> dict[str, Any]:
    """The equivalent spec of a TF Playground link and notes on what differs."""
    return tfp_spec(await read_json(request, 16_384), settings)


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"request body larger than {limit} bytes")
    return bytes(body)


async def upload_content(request: Request, limit: int) -> bytes:
    """The CSV bytes of a multipart upload (field "file" or "text") or of a raw body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_capped(request, limit + (MULTIPART_SLACK if kind.startswith("multi") else 0))
    if kind != "multipart/form-data":
        return body
    request._body = body  # starlette parses the form from the body we already hold
    form = await request.form(max_files=1, max_fields=8)
    item = form.get("file") or form.get("text")
    if isinstance(item, UploadFile):
        return await item.read(limit + 1)
    if isinstance(item, str) and item:
        return item.encode()
    raise Invalid([{"field": "file", "message": "no file: send a multipart field named 'file'"}])


async def csv_dataset(request: Request, manager: RunService, settings: Settings) -> dict[str, Any]:
    content = await upload_content(request, settings.max_upload_bytes)
    try:
        parsed = parse_csv(
            content, max_bytes=settings.max_upload_bytes, max_rows=settings.max_samples
        )
    except CsvError as exc:
        raise Invalid([{"field": "file", "message": str(exc), "line": exc.line}]) from None
    stored = await manager.save_points(parsed.points)
    return {
        "spec": parsed.data_spec(),
        "notes": parsed.notes,
        "task": parsed.task,
        "classes": parsed.classes,
        "rows": len(parsed.points),
        "scale": parsed.scale,
        "pts": stored["pts"],
    }


@router.post("/api/import/csv", openapi_extra=CSV_BODY)
async def import_csv(
    request: Request,
    manager: RunService = Depends(get_service),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """A validated 2-D dataset: the spec's data part, notes, task, classes and its stored
    key `pts` (use `/?d=custom&pts=<key>` to open it in the playground)."""
    return await csv_dataset(request, manager, settings)


@router.post("/api/datasets", status_code=201)
async def save_dataset(
    request: Request,
    manager: RunService = Depends(get_service),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Store {"points": [[x1, x2, label], ...]} (drawn points) -> {"pts", "count", "task",
    "classes"}; the same points always get the same key."""
    data = await read_json(request, settings.max_body_bytes)
    points = data.get("points") if isinstance(data, dict) else None
    return await manager.save_points(manager.check_points(points))


@router.get("/api/datasets/{key}")
async def get_dataset(key: str, manager: RunService = Depends(get_service)) -> dict[str, Any]:
    """A stored dataset: {"pts", "count", "task", "classes", "points"}."""
    points = await manager.load_points(key)
    task, classes = infer_task([row[2] for row in points])
    return {"pts": key, "count": len(points), "task": task, "classes": classes, "points": points}
