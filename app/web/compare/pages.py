"""The Compare page: members (optimizer + its params, lr, schedule, batch size, model,
regularisation) over a shared base experiment, played together through the run service.

GET /compare?<base compact form>&m=...  (app.nn.compare.url) or /compare?lesson=<slug>;
every edit posts the whole form to /ui/compare/form, which re-renders it with per-field
messages and replaces the URL with the comparison's compact form (a shareable link). Play
creates a comparison (POST /ui/compare/play) whose events compare.js draws.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.lessons.registry import LESSONS, member_specs
from app.nn.compare.plan import Plan, PlanInvalid, validate_plan
from app.nn.compare.url import from_items, to_url_query
from app.nn.compare.variants import variants
from app.nn.data.points import DATASETS
from app.nn.spec.base import error_list
from app.nn.spec.experiment import validate_spec
from app.runs.errors import Busy, RunError
from app.web.common import choices, field_messages
from app.web.common.deps import client_id, get_service
from app.web.common.form_keys import FormFieldError
from app.web.common.playground_url import PAGE_PACE
from app.web.compare.forms import (
    PRESETS,
    apply_member_action,
    form_to_request,
    kept_text,
    members_to_values,
    presets_for,
    request_from_specs,
    resolved_base,
)
from app.web.compare.sweeps import sweep_of
from app.web.hosting.ownership import owns_quietly
from app.web.hosting.ratelimit import check_create_rate, too_many_message
from app.web.playground.forms import flatten, layer_count, spec_to_values
from app.web.playground.pages import apply_action, controls_context

router = APIRouter(include_in_schema=False)
# One colour per member index, everywhere (curves, pictures, table); Plotly's palette.
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
# As the playground's Play: trains until paused, at a pace the eye can follow.
DEFAULT = {
    "base": {
        "data": {"dataset": "xor", "val_fraction": 0.2, "noise": 0.1},
        "train": {"until_paused": True},
        "stream": {"pace": PAGE_PACE},
    },
    "members": PRESETS["momentum"][1]({"train": {"optimizer": {"name": "sgd", "lr": 0.03}}}),
}


def limits(request: Request) -> Any:
    return request.app.state.settings.limits()


def default_query(request: Request) -> str:
    plan = validate_plan(DEFAULT, limits(request))
    return url_of(plan)


def url_of(plan: Plan) -> str:
    labels = [m.label or "" for m in plan.spec.members]
    return to_url_query(
        plan.spec.base, list(zip(labels, plan.specs, strict=True)), plan.spec.target_loss
    )


def from_query(request: Request) -> tuple[dict[str, Any], str]:
    """The comparison in the page URL (a link, a lesson, or an experiment's query with
    `preset=<key>`: the playground's "compare" links), or the default and why."""
    items = parse_qsl(request.url.query, keep_blank_values=True)
    lesson, preset = dict(items).get("lesson"), dict(items).get("preset")
    try:
        if lesson is not None:
            return from_lesson(request, lesson)
        if preset is not None:
            return from_preset(request, [(k, v) for k, v in items if k != "preset"], preset)
        parsed = from_items(items)
        base = validate_spec(parsed["base"], limits(request)).model_dump(mode="json")
        members = []
        for i, (label, spec) in enumerate(parsed["members"]):
            try:
                members.append(
                    (label, validate_spec(spec, limits(request)).model_dump(mode="json"))
                )
            except ValidationError as exc:
                raise ValueError(f"member {i + 1}: " + _text(exc)) from None
        data = request_from_specs(base, members, parsed["target_loss"])
        validate_plan(data, limits(request))
        return data, ""
    except (ValueError, KeyError) as exc:
        detail = (
            _text(exc) if isinstance(exc, ValidationError | PlanInvalid) else str(exc).strip("'\"")
        )
        return DEFAULT, f"This link could not be opened ({detail}); showing the default comparison."


def from_preset(
    request: Request, items: list[tuple[str, str]], key: str
) -> tuple[dict[str, Any], str]:
    """An experiment (its compact query) as the base of one of its presets' members."""
    base = validate_spec(from_items(items)["base"], limits(request)).model_dump(mode="json")
    data: dict[str, Any] = {"base": base, "members": []}
    if not apply_member_action(data, f"preset:{key}", base, limits(request)):
        offered = ", ".join(k for k, _ in presets_for(base))
        raise ValueError(f"unknown preset {key!r}; this experiment offers {offered}")
    validate_plan(data, limits(request))
    return data, ""


def from_lesson(request: Request, slug: str) -> tuple[dict[str, Any], str]:
    lesson = LESSONS[slug]  # KeyError names the allowed slugs
    if lesson.comparison is None:
        raise ValueError(f"lesson {slug!r} is a single experiment: open it in the playground")
    members = [
        (label, s.model_dump(mode="json")) for label, s in member_specs(lesson, limits(request))
    ]
    # The form's base experiment is the first member itself, so what it shows (activation,
    # init, ...) is what some member really trains; the lesson file's base may leave those to
    # each member and would show defaults (tanh) no member uses.
    base = members[0][1]
    return request_from_specs(base, members, None), f"Lesson {lesson.number}: {lesson.title}"


def _text(exc: Exception) -> str:
    if isinstance(exc, PlanInvalid):
        return field_messages.summary(exc.errors)
    if isinstance(exc, ValidationError):
        return field_messages.summary(error_list(exc))
    return str(exc)


def form_state(request: Request, data: dict[str, Any]) -> tuple[dict[str, Any], Plan | None]:
    """Template context of the form (values, errors) and the plan when it is valid."""
    try:
        plan: Plan | None = validate_plan(data, limits(request))
        errors: list[dict[str, str]] = []
    except PlanInvalid as exc:
        plan, errors = None, exc.errors
    if plan is not None:
        normal = plan.to_json()
        resolved = normal["base"]
        values = spec_to_values(resolved) | members_to_values(
            normal["members"], resolved, limits(request)
        )
        target = normal["target_loss"]
    else:
        raw = data.get("base")
        base: dict[str, Any] = raw if isinstance(raw, dict) else {}
        resolved = resolved_base(base, limits(request))
        members = data.get("members") or []
        values = flatten(base) | members_to_values(members, resolved, limits(request))
        for group in ("grad_clip", "early_stopping"):
            values[f"train.{group}.enabled"] = group in (base.get("train") or {})
        target = data.get("target_loss")
    by_field = [{**e, "field": e["field"].removeprefix("base.")} for e in errors]
    ctx = controls_context(request, values, by_field)
    n = int(values["ui.members"])
    ctx.update(
        n_members=n,
        n_layers=layer_count(values),
        presets=presets_for(resolved),
        member_optimizers=[
            choices.entry_or_default("optimizers", values.get(f"members.{i}.optimizer.name"))
            for i in range(n)
        ],
        kept=[kept_text(str(values.get(f"members.{i}.keep") or "")) for i in range(n)],
        models=[(v.key, v.label) for v in variants(resolved)],
        base_family=resolved["family"],
        colors=COLORS,
        target_loss="" if target is None else target,
        labels=plan.labels if plan else [],
    )
    return ctx, plan


def templates(request: Request) -> Any:
    return request.app.state.templates


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request) -> Response:
    if not request.url.query:  # the default comparison, spelled out in the address bar
        return RedirectResponse("/compare?" + default_query(request), status_code=307)
    data, notice = from_query(request)
    if "preset" in request.query_params and not notice:  # spelled out as a link too
        return RedirectResponse("/compare?" + url_of(validate_plan(data, limits(request))), 307)
    ctx, _ = form_state(request, data)
    ctx.update(
        nav="compare", notice=notice, comparison=None, members=[], dims=2, message="", sweep=None
    )
    return templates(request).TemplateResponse(request, "compare.html", ctx)


@router.post("/ui/compare/form", response_class=HTMLResponse)
async def compare_form(request: Request) -> Response:
    form = await request.form()
    try:
        data, action = form_to_request(
            [(k, str(v)) for k, v in form.multi_items()],
            limits(request).max_layers,
            limits(request),
        )
    except FormFieldError as exc:  # a name no form has: the default, with its message
        ctx, _ = form_state(request, DEFAULT)
        errors = field_messages.for_page(exc.as_errors())
        ctx.update(errors={e["field"]: e["text"] for e in errors}, error_summary=errors)
        return templates(request).TemplateResponse(
            request, "partials/_compare_form.html", ctx, status_code=422
        )
    base = _base_or_default(request, data)
    if action and not apply_member_action(data, action, base, limits(request)):
        apply_action(data["base"], action, random.Random())
    ctx, plan = form_state(request, data)
    headers = {"HX-Replace-Url": "/compare?" + url_of(plan)} if plan is not None else {}
    return templates(request).TemplateResponse(
        request, "partials/_compare_form.html", ctx, headers=headers
    )


def _base_or_default(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_spec(data.get("base"), limits(request)).model_dump(mode="json")
    except (ValidationError, ValueError, TypeError):
        return validate_spec({}, limits(request)).model_dump(mode="json")


def run_panel(
    request: Request, comparison: dict[str, Any] | None, message: str = "", status: int = 200
) -> Response:
    members = []
    if comparison is not None:
        members = [
            {
                "index": m["index"],
                "run_id": m["run_id"],
                "label": m["label"],
                "color": COLORS[m["index"] % len(COLORS)],
            }
            for m in comparison["members"]
        ]
    dims = 2
    if comparison is not None:
        dataset = comparison["spec"]["base"]["data"]["dataset"]
        dims = DATASETS[dataset].dims if dataset in DATASETS else 2
    sweep = sweep_of(comparison, limits(request)) if comparison is not None else None
    ctx = {
        "comparison": comparison,
        "members": members,
        "message": message,
        "dims": dims,
        "sweep": sweep,
    }
    return templates(request).TemplateResponse(
        request, "partials/_compare_run.html", ctx, status_code=status
    )


@router.post("/ui/compare/play", response_class=HTMLResponse)
async def compare_play(request: Request) -> Response:
    """Start the comparison in the form; resume the current one if paused and unchanged."""
    service = get_service(request)
    form = await request.form()
    try:
        data, _ = form_to_request(
            [(k, str(v)) for k, v in form.multi_items()],
            limits(request).max_layers,
            limits(request),
        )
    except FormFieldError as exc:
        return run_panel(request, None, str(exc), 422)
    try:
        plan = validate_plan(data, limits(request))
    except PlanInvalid:
        return run_panel(request, None, "Fix the highlighted settings first.", 422)
    current_id = str(form.get("ui.comparison") or "")
    if current_id and await owns_quietly(request, current_id):
        try:
            current = await service.comparison(current_id)
        except RunError:
            current = None
        if current is not None and current["status"] in ("running", "paused", "queued"):
            if current["spec"] == plan.to_json():
                if current["status"] == "paused":
                    await service.control_job("comparison", current_id, "resume")
                return run_panel(request, await service.comparison(current_id))
            await service.control_job("comparison", current_id, "stop")
    wait = await check_create_rate(request)
    if wait > 0:
        return run_panel(request, None, too_many_message(wait), 429)
    try:
        created = await service.create_comparison(plan.to_json(), client_id(request))
    except RunError as exc:
        return run_panel(request, None, str(exc.detail), 429 if isinstance(exc, Busy) else 409)
    return run_panel(request, await service.comparison(created["id"]))


@router.post("/ui/compare/{comparison_id}/{action}")
async def compare_control(request: Request, comparison_id: str, action: str) -> Response:
    service = get_service(request)
    if action not in ("pause", "resume", "step", "stop"):
        return Response(f"unknown action {action!r}", status_code=404)
    try:
        if not await owns_quietly(request, comparison_id):
            return Response(
                "only the visitor who started this comparison can control it", status_code=403
            )
        if action == "step" and (await service.comparison(comparison_id))["status"] == "running":
            await service.control_job("comparison", comparison_id, "pause")
        await service.control_job("comparison", comparison_id, action)
    except RunError as exc:
        return Response(str(exc.detail), status_code=409)
    return Response(status_code=204)
