"""The live diagnostics panel's payload, taken with a snapshot at a low rate.

`panel_frame(trainer)` = `diagnostics_frame` (per weight layer and activation site histograms,
percentile bands, dead / saturated fractions, symmetry, gradient flags, attention spread,
loss at init) plus, for classifiers,
the raw logits over a coarse grid of the input square: the browser's softmax temperature
view needs logits, not probabilities, and the model itself lives in a worker process, so
the logits travel with the frame and the browser applies softmax(z / T) itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from app.nn.data.points import DOMAIN, featurize, grid_points
from app.nn.diagnose.diagnostics import diagnostics_frame
from app.nn.models.mlp import Network

if TYPE_CHECKING:
    from app.nn.training.trainer import Trainer

# 25 nodes per axis over [-6, 6]: one every 0.5, so a clicked point is at most 0.36 away
# from the node whose logits are shown; 625 x classes numbers per frame.
LOGITS_GRID = 25
MAX_POINTS = 512  # training points in the probe (all of them for the toy datasets)
BINS = 24
DIGITS = 4  # significant digits: gradients of 1e-7 must not round to 0


def significant(obj: Any, digits: int = DIGITS) -> Any:
    """Round every float to `digits` significant digits; non-finite floats become None."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else None
    if isinstance(obj, list | tuple):
        return [significant(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: significant(v, digits) for k, v in obj.items()}
    return obj


@torch.no_grad()
def logits_grid(trainer: Trainer, size: int = LOGITS_GRID) -> dict[str, Any] | None:
    """Raw model outputs on a size x size grid (row-major, y slowest, as `grid`), for
    classifiers on 2-D points; None otherwise (a sequence of 2-D steps is no point). A
    binary head has one logit per node: the temperature view reads it as the two logits
    [0, z], so T=1 gives sigmoid(z)."""
    points = isinstance(trainer.model, Network)  # 2-D points: the dense family's inputs
    if not points or trainer.task == "regression" or trainer.data.info.dims != 2:
        return None
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        out = model(featurize(grid_points(size), trainer.data.features))
    finally:
        model.train(was_training)
    return {
        "size": size,
        "domain": list(DOMAIN),
        "classes": max(2, int(out.shape[1])),
        "binary": int(out.shape[1]) == 1,
        "values": out.double().tolist(),
    }


def panel_frame(trainer: Trainer) -> dict[str, Any]:
    """The diagnostics frame the worker attaches to a snapshot: JSON-ready, floats rounded
    to 4 significant digits, NaN / inf as None.

    Never raises: a model the probe cannot handle (e.g. non-finite weights in a layer
    the histogram code chokes on) yields {"error": ...} and the run goes on."""
    try:
        cap = trainer.probe_examples
        points = MAX_POINTS if cap is None else min(MAX_POINTS, cap)
        frame = diagnostics_frame(trainer, max_points=points, bins=BINS)
        frame.pop("kind", None)
        frame["task"] = trainer.task
        frame["classes"] = trainer.data.info.classes
        frame["logits"] = logits_grid(trainer)
    except Exception as exc:  # diagnostics must never fail a training run
        return {"step": trainer.step, "error": f"{type(exc).__name__}: {exc}"}
    out: dict[str, Any] = significant(frame)
    return out
