"""Hyper-parameters that may change while a run trains, with their bounds.

Checked here, before anything is sent to a worker, so a client gets a field-level 422
at once; the engine (Trainer.set_hparams) then decides whether the run's optimizer has
the parameter at all (momentum on Adam is refused there, as a 422 too).
"""

from __future__ import annotations

import math
from typing import Any

from app.nn.spec.base import Limits
from app.runs.errors import Invalid

# key -> (low, high), both inclusive
BOUNDS: dict[str, tuple[float, float]] = {
    "l1": (0.0, 10.0),
    "l2": (0.0, 10.0),
    "weight_decay": (0.0, 1.0),
    "input_noise": (0.0, 5.0),
    "grad_clip": (1e-9, 1e6),
    "momentum": (0.0, 0.9999),
    "alpha": (0.0, 0.99999),
    "eps": (1e-12, 1.0),
    "beta1": (0.0, 0.9999),
    "beta2": (0.0, 0.99999),
    "pace": (0.0, 1e6),  # epochs per second the run loop allows (0: unpaced); not the engine's
}
# Keys that steer what a run's live view shows, not its training (no spec field holds them);
# the family's trainer refuses those it does not have.
VIEW_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 5.0),  # transformer: the sampled continuation (0 = greedy)
    "example": (0, 3),  # transformer: which shown example the attention view reads
    "view_input": (0, 1e6),  # cnn: the test image whose feature maps and saliency are drawn
}


def live_keys() -> list[str]:
    return ["lr", *BOUNDS, *VIEW_BOUNDS]


def validate_changes(data: Any, limits: Limits) -> dict[str, float]:
    """A non-empty object of known keys with finite numbers in range."""
    if not isinstance(data, dict) or not data:
        raise Invalid(
            [{"field": "body", "message": f"expected an object with some of: {live_keys()}"}]
        )
    errors: list[dict[str, str]] = []
    changes: dict[str, float] = {}
    for key, value in data.items():
        if key == "lr":
            lo, hi = limits.min_lr, limits.max_lr
        elif key in BOUNDS or key in VIEW_BOUNDS:
            lo, hi = BOUNDS.get(key) or VIEW_BOUNDS[key]
        else:
            errors.append(
                {"field": str(key), "message": f"not live-tunable; allowed: {live_keys()}"}
            )
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append({"field": key, "message": f"expected a number, got {value!r}"})
            continue
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
        if not math.isfinite(number) or not lo <= number <= hi:
            huge = isinstance(value, int) and not math.isfinite(number)
            shown = "a huge integer" if huge else repr(value)
            errors.append({"field": key, "message": f"{shown} is out of range [{lo}, {hi}]"})
            continue
        changes[key] = number
    if errors:
        raise Invalid(errors)
    return changes
