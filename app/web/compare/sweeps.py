"""A comparison's sequence-length sweep as the API and the page show it (app.nn.compare.sweep):
which members form which series, chance, and (from the summary rows) each series' score at
every T and the first length at which it fails."""

from __future__ import annotations

from typing import Any

from app.nn.compare.plan import PlanInvalid, validate_plan
from app.nn.compare.sweep import describe, outcome
from app.nn.spec.base import Limits


def sweep_of(view: dict[str, Any], limits: Limits | None) -> dict[str, Any] | None:
    """The sweep of a comparison view (GET /api/comparisons/{id}), or None when its members
    do not differ in T (or its request no longer validates under these limits)."""
    spec = view.get("spec")
    base = spec.get("base") if isinstance(spec, dict) else None
    if not isinstance(base, dict) or base.get("family") != "rnn":
        return None
    try:
        plan = validate_plan(spec, limits)
    except PlanInvalid:
        return None
    specs = [s.model_dump(mode="json") for s in plan.specs]
    found = describe(plan.spec.base.model_dump(mode="json"), specs, plan.labels)
    if found is None:
        return None
    rows = (view.get("summary") or {}).get("members") or []
    return {**found, "outcome": outcome(found, rows)}
