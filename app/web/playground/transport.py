"""The playground's transport: Play / Pause / Step / Reset, live changes, and the run pages.

HTML fragments over HTMX; the run itself is driven through the same RunService as the JSON
API, so the page and API clients see the same runs.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.nn.spec.experiment import Spec, validate_spec
from app.runs.errors import Busy, RunError
from app.runs.service.live_changes import BOUNDS
from app.web.common import field_messages
from app.web.common.deps import client_id, get_service
from app.web.common.form_keys import FormFieldError
from app.web.data.tools import attach_points
from app.web.hosting.ownership import NOT_YOURS, owns_quietly
from app.web.hosting.ratelimit import check_create_rate, too_many_message
from app.web.playground.forms import flatten, form_to_spec
from app.web.playground.page_runs import page_key, page_runs, stop_others

router = APIRouter(include_in_schema=False)

# live key -> where it lives in the spec
LIVE_PATHS = (
    {"lr": "train.optimizer.lr", "grad_clip": "train.grad_clip.max"}
    | {key: f"train.optimizer.{key}" for key in ("momentum", "alpha", "eps", "beta1", "beta2")}
    | {key: f"train.{key}" for key in ("l1", "l2", "weight_decay", "input_noise")}
    | {"pace": "stream.pace"}
)
assert set(LIVE_PATHS) == {"lr", *BOUNDS}


def live_diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, float], bool]:
    """(live-tunable changes, whether anything else changed too)."""
    before, after = flatten(old), flatten(new)
    live_paths = {path: key for key, path in LIVE_PATHS.items()}
    changes: dict[str, float] = {}
    other = False
    for path in set(before) | set(after):
        if before.get(path) == after.get(path):
            continue
        if path in live_paths and path in before and path in after:
            changes[live_paths[path]] = float(after[path])
        else:
            other = True
    return changes, other


def panel(
    request: Request, run: dict[str, Any] | None, message: str = "", status: int = 200
) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "partials/_run.html", {"run": run, "message": message}, status_code=status
    )


async def current_run(request: Request, run_id: str) -> dict[str, Any] | None:
    if not run_id:
        return None
    try:
        return await get_service(request).get(run_id)
    except RunError:
        return None


async def form_spec(request: Request) -> tuple[dict[str, Any], str, str]:
    """(spec tree, the page's current run id, the page's key for PageRuns)."""
    form = await request.form()
    max_layers = request.app.state.settings.limits().max_layers
    tree = form_to_spec([(k, str(v)) for k, v in form.multi_items()], max_layers)
    await attach_points(request, tree, form)  # custom points named by ui.pts
    return tree, str(form.get("ui.run") or ""), page_key(request, str(form.get("ui.page") or ""))


@router.post("/ui/play", response_class=HTMLResponse)
async def play(request: Request) -> Response:
    """Start a run from the form; resume the current one when it is paused and unchanged.

    Clicks of one page are handled one at a time, and each stops every other run the page
    started: after any burst of Play and Reset clicks only the last click's run trains."""
    try:
        tree, run_id, key = await form_spec(request)
    except FormFieldError as exc:  # a field name no form has (app/web/common/form_keys.py)
        return panel(request, None, str(exc), 422)
    async with page_runs(request).lock(key):
        response, kept = await _play(request, tree, run_id, key)
        await stop_others(request, key, kept)
    return response


async def _play(
    request: Request, tree: dict[str, Any], run_id: str, key: str
) -> tuple[Response, str | None]:
    manager = get_service(request)
    try:
        spec = validate_spec(tree, request.app.state.settings.limits())
    except ValidationError:
        return panel(request, None, "Fix the highlighted settings first.", 422), None
    run = await current_run(request, run_id)
    if run is not None and not await owns_quietly(request, run["id"]):
        run = None  # someone else's run (a shared link): train our own copy, leave theirs
    resolved = spec.model_dump(mode="json")
    if run is not None and run["status"] in ("running", "paused", "queued"):
        _, other = live_diff(run["spec"], resolved)
        if not other:
            if run["status"] == "paused":
                await manager.resume(run["id"])
                run = await manager.get(run["id"])
            page_runs(request).add(key, client_id(request), run["id"])
            return panel(request, run), run["id"]
        with contextlib.suppress(RunError):  # it may have ended meanwhile
            await manager.stop(run["id"])
    await stop_others(request, key, None)  # free this page's slots before asking for one
    wait = await check_create_rate(request)
    if wait > 0:
        return panel(request, None, too_many_message(wait), 429), None
    try:
        created = await manager.create(resolved, client_id(request))
    except RunError as exc:
        status = 429 if isinstance(exc, Busy) else 409
        return panel(request, None, str(exc.detail), status), None
    page_runs(request).add(key, client_id(request), created["id"])
    return panel(request, await manager.get(created["id"])), created["id"]


@router.post("/ui/reset", response_class=HTMLResponse)
async def reset(request: Request) -> Response:
    """Stop the current run and every other run this page started; the next Play starts
    from fresh weights."""
    try:
        _, run_id, key = await form_spec(request)
    except FormFieldError as exc:
        return panel(request, None, str(exc), 422)
    async with page_runs(request).lock(key):
        run = await current_run(request, run_id)
        mine = run is not None and await owns_quietly(request, run["id"])
        if run is not None and mine and run["status"] in ("running", "paused", "queued"):
            with contextlib.suppress(RunError):
                await get_service(request).stop(run["id"])
        await stop_others(request, key, None)
    return panel(request, None, "Reset: press Play to train from fresh weights.")


@router.post("/ui/reattach/{run_id}/stop", response_class=HTMLResponse)
async def stop_unwatched(request: Request, run_id: str) -> Response:
    """The reattach offer's "stop": only a run this visitor started from a playground page."""
    if run_id not in page_runs(request).of_visitor(client_id(request)):
        return Response("not one of your playground runs", status_code=404)
    with contextlib.suppress(RunError):  # it may have ended meanwhile: the same outcome
        await get_service(request).stop(run_id, "stopped by the user (from a reopened page)")
    return HTMLResponse(f'<div class="reattach-run" role="status">Stopped run {run_id[:4]}.</div>')


@router.post("/ui/runs/{run_id}/{action}")
async def control(request: Request, run_id: str, action: str) -> Response:
    manager = get_service(request)
    if not await owns_quietly(request, run_id):
        return Response(NOT_YOURS, status_code=403)
    try:
        if action == "pause":
            await manager.pause(run_id)
        elif action == "step":
            run = await manager.get(run_id)
            if run["status"] == "running":
                await manager.pause(run_id)
            await manager.step(run_id, 1)
        else:
            return Response(f"unknown action {action!r}", status_code=404)
    except RunError as exc:
        return Response(str(exc.detail), status_code=409)
    return Response(status_code=204)


async def apply_live(request: Request, run_id: str, spec: Spec) -> str:
    """Live-tunable edits go to the running run; other edits wait for the next Play."""
    run = await current_run(request, run_id)
    if run is None or run["status"] not in ("running", "paused"):
        return ""
    if not await owns_quietly(request, run["id"]):
        return "You are watching another visitor's run: press Play to train your own copy."
    changes, other = live_diff(run["spec"], spec.model_dump(mode="json"))
    if changes:
        try:
            await get_service(request).set_params(run["id"], changes)
        except RunError as exc:
            detail = exc.detail
            if isinstance(detail, list):  # field errors name live keys: name their controls
                detail = field_messages.summary(
                    {**e, "field": LIVE_PATHS.get(e["field"], e["field"])} for e in detail
                )
            return f"Could not apply live: {detail}"
    if other:
        return "Other changes apply when you press Reset or Play."
    return (
        "Applied live: " + ", ".join(f"{k} = {v:g}" for k, v in changes.items()) if changes else ""
    )
