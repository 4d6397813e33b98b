"""Server-rendered pages and HTMX fragments (the playground UI).

Every control posts the whole form to /ui/controls; the server validates it, re-renders the
controls with per-field messages (keeping what was typed) and, when valid, replaces the page
URL with the spec's compact form so the address bar is always a shareable link.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.nn.data.points import DATASETS
from app.nn.families.registry import FAMILIES
from app.nn.spec.base import error_list
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.previews import split_points
from app.runs.errors import RunError
from app.web.common import choices, field_messages
from app.web.common.deps import get_service
from app.web.common.form_keys import FormFieldError, small_int
from app.web.common.playground_url import with_page_defaults
from app.web.common.query_bounds import MAX_OFFSET
from app.web.data import tools as ui_data
from app.web.playground import transport as ui_runs
from app.web.playground.forms import flatten, form_to_spec, layer_count, spec_to_values
from app.web.playground.page_runs import new_page_token, reattach_context
from app.web.playground.previews import dataset_svg

router = APIRouter(include_in_schema=False)
router.include_router(ui_runs.router)


def templates(request: Request) -> Any:
    return request.app.state.templates


def limits(request: Request) -> Any:
    return request.app.state.settings.limits()


def controls_context(
    request: Request, values: dict[str, Any], errors: list[dict[str, str]]
) -> dict[str, Any]:
    errors = field_messages.for_page(errors)  # the control's label and a plain sentence
    by_field = {e["field"]: e["text"] for e in errors}
    optimizer = choices.entry_or_default("optimizers", values.get("train.optimizer.name"))
    schedule = choices.entry_or_default("schedules", values.get("train.schedule.name"))
    regularised = any(
        str(values.get(f"train.{k}", "0")) not in ("0", "0.0", "")
        for k in ("l1", "l2", "weight_decay", "input_noise")
    ) or values.get("train.grad_clip.enabled") in (True, "on")
    return {
        "values": values,
        "errors": by_field,
        "error_summary": errors,
        "n_layers": layer_count(values),
        "choices": choices.all_choices(),
        "optimizer": optimizer,
        "schedule": schedule,
        "limits": limits(request),
        "regularised": regularised,
    }


async def spec_from_query(request: Request) -> tuple[Spec, str]:
    """The spec in the page URL, or the defaults and a message saying what was wrong."""
    query = dict(parse_qsl(request.url.query, keep_blank_values=True))
    try:
        data = await ui_data.expand_query(request, query)  # also pts= and tfp= keys
        return validate_spec(data, limits(request)), ""
    except ValueError as exc:  # includes pydantic's ValidationError
        detail = (
            field_messages.summary(error_list(exc))
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        return validate_spec(
            {}, limits(request)
        ), f"This link could not be opened ({detail}); showing the defaults."


async def render_playground(
    request: Request, spec: Spec, notice: str = "", run: Any = None
) -> HTMLResponse:
    values = spec_to_values(spec.model_dump(mode="json"))
    ctx = controls_context(request, values, [])
    token = new_page_token()
    ctx.update(
        family=spec.family,
        views=FAMILIES[spec.family].views,  # the cards this family's runs draw
        nav="play",
        notice=notice,
        run=run,
        dataset=DATASETS[spec.data.dataset],
        message="",
        page_token=token,
        **await reattach_context(request, token, run),
    )
    return templates(request).TemplateResponse(request, "playground.html", ctx)


@router.get("/", response_class=HTMLResponse)
async def playground(request: Request) -> HTMLResponse:
    spec, notice = await spec_from_query(request)
    return await render_playground(request, spec, notice)


def apply_action(tree: dict[str, Any], action: str, seed_source: random.Random) -> None:
    """Buttons inside the form: layer add/remove, units +/-, regenerate."""
    model = tree.setdefault("model", {})
    if not isinstance(model, dict) or not isinstance(model.setdefault("layers", []), list):
        return  # validation names the field
    layers = model["layers"]
    name, _, arg = action.partition(":")
    index = small_int(arg)
    if name == "add_layer":
        template = dict(layers[-1]) if layers else {"units": 4, "activation": "tanh"}
        template["residual"] = "off"
        layers.append(template)
    elif name == "remove_layer" and 0 <= index < len(layers):
        layers.pop(index)
    elif name in ("units_plus", "units_minus") and 0 <= index < len(layers):
        try:
            units = int(float(layers[index].get("units", 4)))
        except (ValueError, OverflowError):  # "inf" too: validation names the field
            return
        layers[index]["units"] = max(1, units + (1 if name == "units_plus" else -1))
    elif name == "regenerate":
        tree["seed"] = seed_source.randrange(0, 100000)
    elif name in ("add_conv", "remove_conv"):  # the convolutional family's layers
        part = tree.setdefault("cnn", {})
        convs = part.setdefault("conv", []) if isinstance(part, dict) else None
        if not isinstance(convs, list):
            return  # validation names the field
        if name == "add_conv":
            convs.append(dict(convs[-1]) if convs else {"channels": 8})
        elif 0 <= index < len(convs):
            convs.pop(index)


async def read_form(request: Request) -> FormData:
    return await request.form()


@router.post("/ui/controls", response_class=HTMLResponse)
async def controls(request: Request) -> Response:
    form = await read_form(request)
    items = list(form.multi_items())
    try:
        tree = form_to_spec([(k, str(v)) for k, v in items], limits(request).max_layers)
    except FormFieldError as exc:  # a name no form has: the defaults, with its message
        values = spec_to_values(validate_spec({}, limits(request)).model_dump(mode="json"))
        ctx = controls_context(request, values, exc.as_errors())
        ctx["live_note"] = ""
        return templates(request).TemplateResponse(
            request, "partials/_controls.html", ctx, status_code=422
        )
    family = tree.get("family")
    if isinstance(family, str) and family in FAMILIES and family != form.get("ui.family", family):
        return _switch_family(request, family, tree.get("seed"))
    action = str(form.get("ui.action") or "")
    if action:
        apply_action(tree, action, random.Random())
    await ui_data.attach_points(request, tree, form)  # custom points named by ui.pts
    headers: dict[str, str] = {}
    live_note = ""
    try:
        spec = validate_spec(tree, limits(request))
    except ValidationError as exc:
        errors = error_list(exc)
        values = _submitted_values(tree)
    else:
        errors = []
        values = spec_to_values(spec.model_dump(mode="json"))
        query = ui_data.url_query(spec)
        headers["HX-Replace-Url"] = "/?" + query if query else "/"
        live_note = await ui_runs.apply_live(request, str(form.get("ui.run") or ""), spec)
    ctx = controls_context(request, values, errors)
    ctx["live_note"] = live_note if not errors else ""
    return templates(request).TemplateResponse(
        request, "partials/_controls.html", ctx, headers=headers
    )


def _switch_family(request: Request, family: str, seed: Any) -> Response:
    """Another model family: the page again with that family's defaults (its controls and
    its views), the seed kept."""
    try:
        data = with_page_defaults({}, {"family": family, "seed": seed})
        spec = validate_spec(data, limits(request))
    except ValidationError:  # a bad seed: the family's defaults alone (a registered family)
        spec = validate_spec(with_page_defaults({}, {"family": family}), limits(request))
    query = ui_data.url_query(spec)
    return Response("Switching…", headers={"HX-Redirect": "/?" + query if query else "/"})


def _submitted_values(tree: dict[str, Any]) -> dict[str, Any]:
    """What the user typed, as form values (so nothing is lost on an error)."""
    values = flatten(tree)
    train = tree.get("train", {})
    for group in ("grad_clip", "early_stopping"):
        values[f"train.{group}.enabled"] = group in train
    return values


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(request: Request, offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> HTMLResponse:
    limit = 50
    listing = await get_service(request).list_runs(limit=limit, offset=max(0, offset))
    ctx = {
        "nav": "runs",
        "runs": listing["runs"],
        "more": listing["total"] > offset + limit,
        "offset": offset,
        "limit": limit,
    }
    return templates(request).TemplateResponse(request, "runs.html", ctx)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(request: Request, run_id: str) -> HTMLResponse:
    """The playground with this run's experiment; its socket replays the stored curves."""
    try:
        run = await get_service(request).get(run_id)
        spec = validate_spec(run["spec"], limits(request))
    except (RunError, ValidationError):
        spec, _ = validate_spec({}, limits(request)), ""
        return await render_playground(
            request, spec, f"There is no run {run_id!r}; showing defaults."
        )
    return await render_playground(request, spec, run=run)


@router.get("/ui/data")
async def data_points(request: Request) -> JSONResponse:
    """The current experiment's points (from the page query) so the plot shows before Play."""
    spec, notice = await spec_from_query(request)
    if spec.part is not None:  # a family with its own data draws nothing here before Play
        return JSONResponse({"family": spec.family, "task": spec.task, "notice": notice})
    data = split_points(spec)
    outputs = data["classes"] if data["task"] == "multiclass" else 1
    units = [len(spec.data.features), *(layer.units for layer in spec.model.layers), outputs]
    layers = [f"h{i + 1}" for i in range(len(spec.model.layers))] + ["out"]
    return JSONResponse(
        {**data, "units": units, "layers": layers, "features": spec.data.features, "notice": notice}
    )


@router.get("/ui/preview/{dataset}.svg")
def preview(dataset: str) -> Response:
    if dataset not in DATASETS or DATASETS[dataset].gen is None:
        return Response(DATASETS.unknown_message(dataset), status_code=404, media_type="text/plain")
    return Response(
        dataset_svg(dataset),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
