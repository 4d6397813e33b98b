"""What every trainer shares: derived seeds, the experiment's data, the output width, and
the rule that says a run diverged."""

from __future__ import annotations

import math
from typing import Any

from app.nn.data.points import Data, make_data
from app.nn.spec.experiment import Spec

DIVERGE_FACTOR = 1e4  # a batch loss this many times the initial loss (or >1e4) = diverged


def derived_seeds(seed: int) -> dict[str, int]:
    """Independent streams so that, e.g., changing dropout leaves init and data order alone."""
    return {
        "data": seed,
        "init": seed + 1_000_003,
        "order": seed + 2_000_029,
        "noise": seed + 3_000_017,
        "dropout": seed + 4_000_037,
    }


def build_data(spec: Spec) -> Data:
    d = spec.data
    return make_data(
        d.dataset,
        d.samples,
        d.noise,
        d.train_fraction,
        d.val_fraction,
        d.features,
        derived_seeds(spec.seed)["data"],
        d.points,
    )


def output_width(spec: Spec, data: Data) -> int:
    return data.info.classes if data.info.task == "multiclass" else 1


def key_in_group(group: dict[str, Any], key: str) -> bool:
    return ("betas" in group) if key in ("beta1", "beta2") else key in group


def divergence(loss: float, step: int, initial_loss: float | None) -> str:
    """Why a batch loss means the run diverged ("" if it does not): not finite, or
    DIVERGE_FACTOR times its initial value (at least 1)."""
    if not math.isfinite(loss):
        return f"the loss became {loss} at step {step}: the updates overshot"
    ref = max(1.0, initial_loss or 1.0)
    if loss > DIVERGE_FACTOR * ref:
        return (
            f"the loss exploded to {loss:.3g} at step {step} ({loss / ref:.0f}x its initial value)"
        )
    return ""
