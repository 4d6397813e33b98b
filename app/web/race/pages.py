"""The optimizer race page: pick a 2-D test function and optimizers (the networks' own
registry and hyper-parameters), click a start point on the contour, watch them race.

The form round-trips through /ui/race/form (per-field messages, add / remove racers,
presets); Play queues a race on the run service (a worker job, never the event loop) and
race.js animates its steps from WS /ws/races/{id}.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.race.race import FUNCTIONS, MAX_RACERS, RaceSpec, validate_race
from app.nn.spec.base import error_list
from app.runs.errors import Busy, RunError
from app.web.common import choices, field_messages
from app.web.common.deps import client_id, get_service
from app.web.common.form_keys import small_int
from app.web.compare.pages import COLORS
from app.web.hosting.ownership import owns_quietly
from app.web.hosting.ratelimit import check_create_rate, too_many_message

router = APIRouter(include_in_schema=False)
DEFAULT_RACERS = [
    {"name": "sgd", "lr": 0.02},
    {"name": "momentum", "lr": 0.02},
    {"name": "nesterov", "lr": 0.02},
    {"name": "adam", "lr": 0.3},
]
PRESETS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "momentum": (
        "SGD vs momentum",
        [{"name": "sgd", "lr": 0.02}, {"name": "momentum", "lr": 0.02}],
    ),
    "adaptive": (
        "Adaptive methods",
        [
            {"name": "adagrad", "lr": 0.5},
            {"name": "rmsprop", "lr": 0.05},
            {"name": "adam", "lr": 0.3},
        ],
    ),
    "all": ("Everyone", DEFAULT_RACERS),
}


def form_to_request(items: list[tuple[str, str]]) -> tuple[dict[str, Any], str]:
    """(race request, ui action) from the posted form."""
    fields: dict[str, str] = {}
    for key, value in items:
        fields[key] = value  # the last value wins (hidden "off" + checkbox)
    count = small_int(fields.get("ui.racers", ""), 0)
    racers = []
    for i in range(min(count, MAX_RACERS)):
        p = f"racers.{i}."
        name = fields.get(p + "name", "sgd")
        racer: dict[str, Any] = {"name": name, "lr": fields.get(p + "lr", "")}
        allowed = OPTIMIZERS[name].param_defaults() if name in OPTIMIZERS else {}
        racer.update({k: fields[p + k] for k in allowed if fields.get(p + k, "") != ""})
        racers.append(racer)
    data: dict[str, Any] = {"function": fields.get("function", "bowl"), "racers": racers}
    data["steps"] = fields.get("steps", "300")
    if fields.get("start.0", "") != "" and fields.get("start.1", "") != "":
        data["start"] = [fields["start.0"], fields["start.1"]]
    return data, fields.get("ui.action", "")


def apply_racer_action(data: dict[str, Any], action: str) -> None:
    racers = data["racers"]
    name, _, arg = action.partition(":")
    if name == "add_racer" and len(racers) < MAX_RACERS:
        racers.append(dict(racers[-1]) if racers else {"name": "sgd", "lr": 0.02})
    elif name == "remove_racer" and len(racers) > 1:
        if 0 <= small_int(arg) < len(racers):  # a stale or forged index removes nothing
            racers.pop(small_int(arg))
    elif name == "preset" and arg in PRESETS:
        data["racers"] = [dict(r) for r in PRESETS[arg][1]]
    elif name == "function":  # a new function starts from its own default point
        data.pop("start", None)


def race_context(request: Request, data: dict[str, Any]) -> tuple[dict[str, Any], RaceSpec | None]:
    try:
        spec: RaceSpec | None = validate_race(data, request.app.state.settings.limits())
        errors: list[dict[str, str]] = []
    except ValidationError as exc:
        spec, errors = None, field_messages.for_page(error_list(exc))
    if spec is not None:
        racers = [r.model_dump(mode="json") for r in spec.racers]
        function, steps = spec.function, spec.steps
        start = list(spec.start) if spec.start else list(FUNCTIONS[spec.function].start)
    else:
        racers = [r if isinstance(r, dict) else {} for r in data.get("racers") or []]
        function, steps = str(data.get("function", "bowl")), data.get("steps", 300)
        start = data.get("start") or list(
            FUNCTIONS[function].start if function in FUNCTIONS else (0, 0)
        )
    values: dict[str, Any] = {
        "function": function,
        "steps": steps,
        "start.0": start[0],
        "start.1": start[1],
    }
    for i, racer in enumerate(racers):
        values.update({f"racers.{i}.{k}": v for k, v in racer.items()})
    ctx = {
        "values": values,
        "errors": {e["field"]: e["text"] for e in errors},
        "error_summary": errors,
        "functions": [FUNCTIONS[k] for k in FUNCTIONS],
        "function": FUNCTIONS[function] if function in FUNCTIONS else None,  # noqa: SIM401
        "n_racers": len(racers),
        "racer_optimizers": [choices.entry_or_default("optimizers", r.get("name")) for r in racers],
        "choices": choices.all_choices(),
        "presets": [(k, label) for k, (label, _) in PRESETS.items()],
        "colors": COLORS,
        "max_racers": MAX_RACERS,
    }
    return ctx, spec


def templates(request: Request) -> Any:
    return request.app.state.templates


@router.get("/race", response_class=HTMLResponse)
def race_page(request: Request) -> Response:
    ctx, _ = race_context(request, {"function": "bowl", "racers": DEFAULT_RACERS, "steps": 300})
    ctx.update(nav="race", notice="", race=None, message="")
    return templates(request).TemplateResponse(request, "race.html", ctx)


@router.post("/ui/race/form", response_class=HTMLResponse)
async def race_form(request: Request) -> Response:
    form = await request.form()
    data, action = form_to_request([(k, str(v)) for k, v in form.multi_items()])
    if action:
        apply_racer_action(data, action)
    ctx, _ = race_context(request, data)
    return templates(request).TemplateResponse(request, "partials/_race_form.html", ctx)


def run_panel(
    request: Request, race: dict[str, Any] | None, message: str = "", status: int = 200
) -> Response:
    ctx = {"race": race, "message": message, "colors": COLORS}
    return templates(request).TemplateResponse(
        request, "partials/_race_run.html", ctx, status_code=status
    )


@router.post("/ui/race/play", response_class=HTMLResponse)
async def race_play(request: Request) -> Response:
    service = get_service(request)
    form = await request.form()
    data, _ = form_to_request([(k, str(v)) for k, v in form.multi_items()])
    _, spec = race_context(request, data)
    if spec is None:
        return run_panel(request, None, "Fix the highlighted settings first.", 422)
    current = str(form.get("ui.race") or "")
    if current and await owns_quietly(request, current):
        with contextlib.suppress(RunError):  # it may have ended already
            await service.control_job("race", current, "stop")
    wait = await check_create_rate(request)
    if wait > 0:
        return run_panel(request, None, too_many_message(wait), 429)
    try:
        created = await service.create_race(spec.model_dump(mode="json"), client_id(request))
    except RunError as exc:
        return run_panel(request, None, str(exc.detail), 429 if isinstance(exc, Busy) else 409)
    return run_panel(request, await service.race(created["id"]))


@router.post("/ui/race/{race_id}/stop")
async def race_stop(request: Request, race_id: str) -> Response:
    try:
        if not await owns_quietly(request, race_id):
            return Response("only the visitor who started this race can stop it", status_code=403)
        await get_service(request).control_job("race", race_id, "stop")
    except RunError as exc:
        return Response(str(exc.detail), status_code=409)
    return Response(status_code=204)
