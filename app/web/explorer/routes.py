"""GET /explore (the page) and GET /explore/trace.json (its data).

The whole state is in the query string (dataset, hidden, activation, loss, init, optimizer,
lr, batch, point, warmup, seed, and the step shown), so a link reopens the same step. Bad
values are a 422 naming the field; the work per request is bounded by ExplainSpec (at most
2-4-4-K units and 4 points, 20 warm-up steps).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.choices.losses import LOSSES
from app.nn.data.points import DATASETS
from app.nn.explain import EXPLAINED_OPTIMIZERS, ExplainSpec, explain, symmetry, vanishing
from app.nn.explain.update import FORMULAS
from app.web.explorer.steps import all_steps

router = APIRouter(include_in_schema=False)
FIELDS = tuple(ExplainSpec.model_fields)


class BadQuery(ValueError):
    pass


def parse(query: dict[str, str]) -> ExplainSpec:
    """An ExplainSpec from query parameters; unknown names and bad values raise BadQuery."""
    unknown = sorted(set(query) - set(FIELDS) - {"step"})
    if unknown:
        raise BadQuery(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(FIELDS)}, step")
    data: dict[str, Any] = {k: v for k, v in query.items() if k != "step"}  # the page's, not ours
    if "hidden" in data:
        try:
            data["hidden"] = [int(u) for u in str(data["hidden"]).split(",") if u.strip()]
        except ValueError:
            raise BadQuery("hidden: units per layer as numbers, e.g. 3 or 4,4") from None
    try:
        spec = ExplainSpec.model_validate(data)
        spec.experiment()  # e.g. BCE on a regression dataset is refused here
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        raise BadQuery(f"{where}: {first['msg']}") from None
    return spec


def view(spec: ExplainSpec) -> dict[str, Any]:
    """Everything the page draws, JSON-ready."""
    e = explain(spec)
    act = ACTIVATIONS[spec.activation].label
    formulas = FORMULAS[spec.optimizer]
    sizes = [2, *spec.hidden, e.weights[-1].shape[0]]
    return {
        "spec": spec.model_dump(),
        "sizes": sizes,
        "task": e.task,
        "loss": e.loss_name,
        "weights": [w.tolist() for w in e.weights],
        "biases": [b.tolist() for b in e.biases],
        "grads": [g.tolist() for g in e.now.d_w],
        "vanishing": vanishing(e),
        "symmetry": symmetry(e),
        "state": {k: [t.tolist() for t in v] for k, v in e.state_after.items()},
        "steps": all_steps(e, act, formulas),
    }


def choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "dataset": [(d.key, d.label) for d in DATASETS.values() if d.key != "custom"],
        "activation": [(a.key, a.label) for a in ACTIVATIONS.values()],
        "loss": [(x.key, x.label) for x in LOSSES.values()],
        "init": [(i.key, i.label) for i in INITS.values()],
        "optimizer": [(o, o) for o in EXPLAINED_OPTIMIZERS],
    }


@router.get("/explore/trace.json")
def trace_json(request: Request) -> JSONResponse:
    try:
        spec = parse(dict(request.query_params))
    except BadQuery as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return JSONResponse(view(spec))


@router.get("/explore", response_class=HTMLResponse)
def explore_page(request: Request) -> HTMLResponse:
    query = dict(request.query_params)
    error, status = "", 200
    try:
        spec = parse(query)
    except BadQuery as exc:
        error, status, spec = str(exc), 422, ExplainSpec()
    context = {
        "nav": "explore",
        "spec": spec,
        "hidden": ",".join(str(u) for u in spec.hidden),
        "choices": choices(),
        "data": view(spec),
        "error": error,
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, "explorer.html", context, status_code=status
    )
    return response
