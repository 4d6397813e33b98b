"""Hyper-parameters that may change while a run trains, with their bounds.

Checked here, before anything is sent to a worker, so a client gets a field-level 422
at once; the engine (Trainer.set_hparams) then decides whether the run's optimizer has
the parameter at all (momentum on Adam is refused there, as a 422 too).
"""

from __future__ import annotations

import math
from typing import Any

from app.nn.data.images import DRAWN_LEVELS, DRAWN_SIZE
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
    # cnn: the test image whose feature maps and saliency are drawn; rnn: the test sequence
    # whose hidden states, gates and answers over time are drawn
    "view_input": (0, 1e6),
}

# View keys whose value is a list of numbers: key -> (exact length, low, high). The length
# is checked before any item is read, so a long list costs one len() (the body itself is
# capped: 4 KB over HTTP, max_body_bytes over the socket).
VIEW_LISTS: dict[str, tuple[int, float, float]] = {
    # cnn: a drawn 8x8 digit, row by row, in the digits' grey levels 0..16
    "view_pixels": (DRAWN_SIZE * DRAWN_SIZE, 0.0, float(DRAWN_LEVELS)),
}


def live_keys() -> list[str]:
    return ["lr", *BOUNDS, *VIEW_BOUNDS, *VIEW_LISTS]


def _number(value: Any) -> float | None:
    """A finite float of a JSON number, else None (bools, strings, NaN, huge integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _list_error(key: str, value: Any) -> str | None:
    """What is wrong with a VIEW_LISTS value (None: nothing); names the first bad item."""
    length, lo, hi = VIEW_LISTS[key]
    if not isinstance(value, list):
        return f"expected a list of {length} numbers, got {type(value).__name__}"
    if len(value) != length:
        return f"expected exactly {length} numbers, got {len(value)}"
    for i, item in enumerate(value):
        number = _number(item)
        if number is None or not lo <= number <= hi:
            if isinstance(item, bool) or not isinstance(item, int | float):
                shown = f"a {type(item).__name__}"  # never echo a nested value back
            elif number is None and isinstance(item, int):
                shown = "a huge integer"
            else:
                shown = _shown(item)
            return f"item {i}: {shown} is not a number in [{lo:g}, {hi:g}]"
    return None


SHOWN_CHARS = 40  # of a bad value or key echoed in a message: a hint, not the body back


def _shown(value: Any) -> str:
    """A bad value as a message shows it: short scalars as written, others by their kind."""
    if isinstance(value, list | dict):
        return f"a {type(value).__name__}"  # never echo a nested value back
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def validate_changes(data: Any, limits: Limits) -> dict[str, Any]:
    """A non-empty object of known keys with finite numbers in range (lists of them for
    VIEW_LISTS keys)."""
    if not isinstance(data, dict) or not data:
        raise Invalid(
            [{"field": "body", "message": f"expected an object with some of: {live_keys()}"}]
        )
    errors: list[dict[str, str]] = []
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in VIEW_LISTS:
            problem = _list_error(key, value)
            if problem:
                errors.append({"field": key, "message": problem})
            else:
                changes[key] = [float(v) for v in value]
            continue
        if key == "lr":
            lo, hi = limits.min_lr, limits.max_lr
        elif key in BOUNDS or key in VIEW_BOUNDS:
            lo, hi = BOUNDS.get(key) or VIEW_BOUNDS[key]
        else:
            field = str(key) if len(str(key)) <= SHOWN_CHARS else _shown(str(key))
            errors.append({"field": field, "message": f"not live-tunable; allowed: {live_keys()}"})
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append({"field": key, "message": f"expected a number, got {_shown(value)}"})
            continue
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
        if not math.isfinite(number) or not lo <= number <= hi:
            huge = isinstance(value, int) and not math.isfinite(number)
            shown = "a huge integer" if huge else _shown(value)
            errors.append({"field": key, "message": f"{shown} is out of range [{lo}, {hi}]"})
            continue
        changes[key] = number
    if errors:
        raise Invalid(errors)
    return changes
