"""The records the engine yields, typed in one place for every layer that reads them.

A trainer's `records()` yields `start`, then `step` and `eval` records, then `end`; a
snapshot is taken on demand. The run layer forwards the fields of these types to the page
(app/runs/events/frames.py reads `LIVE_STEP_FIELDS`), so a field added to a type here
reaches the page and the metric history without a second list to keep in step.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Record = dict[str, Any]  # any record, before its "kind" says which type it is


class StepScalars(TypedDict):
    step: int
    epoch: float
    loss: float  # this batch's loss
    lr: float
    grad_norm: float  # over all parameters


class StepPerLayer(TypedDict):
    """One value per linear layer (h1, ..., out)."""

    grad_w: list[float]
    grad_b: list[float]
    update_ratio: list[float]  # |Δw| / |w| of this step
    weight_norm: list[float]


class StepOptional(TypedDict, total=False):
    penalty: float  # L1 + L2 added to the loss, when either is on
    grad_norm_clipped: float  # after clipping, when clipping is on


class StepFields(StepScalars, StepPerLayer, StepOptional):
    """What a live metrics frame carries of the latest step."""


class StepRecord(StepFields, total=False):
    kind: Literal["step"]
    diverged: str  # "" or why the run diverged at this step
    member: int  # comparisons: which member


def field_names(record_type: type) -> tuple[str, ...]:
    """The keys a TypedDict declares, its bases' included, in declaration order."""
    return tuple(record_type.__annotations__)


LIVE_STEP_FIELDS = field_names(StepFields)
PER_LAYER_FIELDS = field_names(StepPerLayer)
OPTIONAL_STEP_FIELDS = field_names(StepOptional)
