"""The playground's data tools: TF Playground import, CSV upload, drawn points, and the
page URL keys that carry them.

Two URL keys beyond the spec's compact form (app/nn/spec/url.py):
- `pts=<key>`: a stored custom dataset (content-addressed: uploaded or drawn points are too
  many for a link). An unknown key opens the defaults with a message.
- `tfp=<link>`: a TF Playground link to import; the page shows what differs, then replaces
  the address with the experiment's own compact URL.
The form carries the key in a hidden `ui.pts` input (outside the swapped controls, bound
with form="controls"); `ui.use_pts=1` switches the dataset to those points.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.nn.data.points import CUSTOM
from app.nn.families.registry import export_for
from app.nn.spec.base import error_text
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.spec.tfp import import_tfp
from app.nn.spec.url import from_query
from app.runs.errors import Invalid, NotFound, RunError
from app.runs.store.blobs import points_key
from app.web.common.deps import get_service
from app.web.common.playground_url import page_url_query, with_page_defaults
from app.web.data.api import csv_dataset, tfp_spec

router = APIRouter(include_in_schema=False)
PTS, TFP = "pts", "tfp"


def tools(request: Request) -> dict[str, Any]:
    """What the data-tools partial shows for this request (set while reading the URL)."""
    state: dict[str, Any] | None = getattr(request.state, "data_tools", None)
    if state is None:
        state = request.state.data_tools = {"pts": "", "tfp": "", "notes": [], "canonical": ""}
    return state


def url_query(spec: Spec) -> str:
    """The spec's compact query plus `pts=<key>` for custom points (already stored)."""
    query = page_url_query(spec)
    if spec.data.points is not None:
        query += ("&" if query else "") + f"{PTS}={points_key(spec.data.points)}"
    return query


async def expand_query(request: Request, query: dict[str, str]) -> dict[str, Any]:
    """The spec dict of a page URL (compact keys, `pts`, `tfp`); ValueError if it cannot be."""
    state = tools(request)
    query = dict(query)
    link, key = query.pop(TFP, None), query.pop(PTS, None)
    limits = request.app.state.settings.limits()
    if link is not None:
        state["tfp"] = link
        spec, notes = import_tfp(link, limits)
        with_page_defaults(query, spec)  # TensorFlow Playground trains until paused too
        if query:
            notes.append(f"other URL keys ignored for the import: {', '.join(sorted(query))}")
        state["notes"] = notes
        state["canonical"] = "/?" + url_query(validate_spec(spec, limits))
        return spec
    spec = with_page_defaults(query, from_query(query))
    if key:
        data = spec.setdefault("data", {})
        try:
            points = await get_service(request).load_points(key)
        except NotFound:
            if data.get("dataset") == CUSTOM:
                raise ValueError(
                    f"{PTS}={key}: no such dataset is stored on this server (drawn or uploaded "
                    "points live on the server that stored them)"
                ) from None
            return spec
        state["pts"] = key
        if data.get("dataset") == CUSTOM:
            data["points"] = points
    return spec


async def attach_points(request: Request, tree: dict[str, Any], form: FormData) -> None:
    """Put the stored points named by the form's `ui.pts` into a custom-dataset spec tree
    (without a key, those of the run on show: a run page opened from a link has none)."""
    key = str(form.get("ui.pts") or "")
    data = tree.setdefault("data", {})
    if not isinstance(data, dict):
        return
    if key and form.get("ui.use_pts") == "1":
        data["dataset"] = CUSTOM
    if data.get("dataset") != CUSTOM:
        return
    manager = get_service(request)
    if not key:
        key = await points_of_run(request, str(form.get("ui.run") or ""))
    if key:
        with contextlib.suppress(NotFound):  # else validation says custom needs points
            data["points"] = await manager.load_points(key)


async def points_of_run(request: Request, run_id: str) -> str:
    """The stored key of a run's custom points ("" if none), storing them if need be."""
    if not run_id:
        return ""
    manager = get_service(request)
    try:
        run = await manager.get(run_id)
    except RunError:
        return ""
    points = (run["spec"].get("data") or {}).get("points")
    return str((await manager.save_points(points))["pts"]) if points else ""


def result(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "partials/_import_result.html",
        {"tools": tools(request), **ctx},
        status_code=status,
    )
    return response


def problems(exc: RunError | HTTPException) -> list[str]:
    if isinstance(exc, HTTPException):
        return [str(exc.detail)]
    detail = exc.detail
    if isinstance(detail, list):
        return [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in detail]
    return [str(detail)]


@router.post("/ui/import/tfp", response_class=HTMLResponse)
async def ui_import_tfp(request: Request) -> Response:
    """Check the link here (errors stay in the box), then open it as /?tfp=<link>."""
    form = await request.form()
    link = str(form.get(TFP) or "").strip()
    try:
        tfp_spec({"url": link}, request.app.state.settings)
    except Invalid as exc:
        return result(request, 422, errors=problems(exc), kind="tfp")
    target = f"/?{TFP}={quote(link, safe='')}"
    return Response("Opening…", headers={"HX-Redirect": target})


@router.post("/ui/import/csv", response_class=HTMLResponse)
async def ui_import_csv(request: Request) -> Response:
    """Store an uploaded CSV; the page then switches the form to those points."""
    try:
        found = await csv_dataset(request, get_service(request), request.app.state.settings)
    except (RunError, HTTPException) as exc:
        status = exc.status_code if isinstance(exc, HTTPException) else 422
        return result(request, status, errors=problems(exc), kind="csv")
    return result(request, uploaded=found, kind="csv")


@router.get("/ui/export.py")
async def ui_export(request: Request) -> Response:
    """The export script of the experiment in the page URL (no run needed)."""
    query = dict(request.query_params)
    try:
        data = await expand_query(request, query)
        spec = validate_spec(data, request.app.state.settings.limits())
    except ValidationError as exc:
        return Response(f"cannot export: {error_text(exc)}\n", 422, media_type="text/plain")
    except ValueError as exc:
        return Response(f"cannot export: {exc}\n", 422, media_type="text/plain")
    script = await asyncio.to_thread(export_for, spec)
    headers = {"Content-Disposition": 'attachment; filename="experiment.py"'}
    return Response(script, media_type="text/x-python", headers=headers)
