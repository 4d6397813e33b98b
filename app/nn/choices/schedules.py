"""Learning-rate schedules, one registry. A schedule is a multiplier on the base lr, a pure
function of the step (so a live lr change just moves the base), except reduce-on-plateau,
which also keeps a multiplier updated at each epoch end."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.nn.choices.registry import Entry, Param, Registry


@dataclass(frozen=True)
class ScheduleInfo(Entry):
    pass


_MIN = Param("min_factor", 0.0, 0.0, 1.0, help="final lr as a fraction of the base lr")

SCHEDULES: Registry[ScheduleInfo] = Registry(
    "schedule",
    [
        ScheduleInfo("constant", "Constant", "The same lr throughout."),
        ScheduleInfo(
            "step",
            "Step decay",
            "Multiply by gamma every step_epochs epochs.",
            params=(
                Param("step_epochs", 30, 1, 100000, kind="int", help="epochs per drop"),
                Param("gamma", 0.5, 0.0, 1.0, help="multiplier at each drop"),
            ),
        ),
        ScheduleInfo(
            "exponential",
            "Exponential",
            "Multiply by gamma every epoch.",
            params=(Param("gamma", 0.99, 0.0, 1.0, help="multiplier per epoch"),),
        ),
        ScheduleInfo(
            "cosine", "Cosine", "Half a cosine from the base lr down to min_factor.", params=(_MIN,)
        ),
        ScheduleInfo(
            "warmup_cosine",
            "Warm-up + cosine",
            "Linear ramp from 0 over warmup_epochs, then cosine decay.",
            params=(Param("warmup_epochs", 5, 0, 100000, kind="int", help="ramp length"), _MIN),
        ),
        ScheduleInfo(
            "one_cycle",
            "One-cycle",
            "Up from lr/div_factor to lr over pct_start of training, then down to "
            "lr/(div_factor·final_div_factor) (cosine phases, like torch's OneCycleLR).",
            params=(
                Param("pct_start", 0.3, 0.01, 0.99, help="fraction spent rising"),
                Param("div_factor", 25.0, 1.0, 1e4, help="start = lr / div_factor"),
                Param(
                    "final_div_factor",
                    1e4,
                    1.0,
                    1e6,
                    log=True,
                    help="end = start / final_div_factor",
                ),
            ),
        ),
        ScheduleInfo(
            "reduce_on_plateau",
            "Reduce on plateau",
            "Multiply by factor when the validation loss (train loss without a validation "
            "split) has not improved for patience epochs.",
            params=(
                Param("factor", 0.5, 0.01, 0.99, help="multiplier at each reduction"),
                Param("patience", 10, 0, 10000, kind="int", help="epochs to wait"),
                Param("min_factor", 1e-3, 0.0, 1.0, help="floor on the multiplier"),
            ),
        ),
    ],
)


def _cos(progress: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def lr_factor(name: str, p: dict[str, Any], step: int, steps_per_epoch: int, total: int) -> float:
    """Multiplier on the base lr for the update made at `step` (0-based)."""
    epoch = step // max(1, steps_per_epoch)
    if name == "step":
        return float(p["gamma"] ** (epoch // p["step_epochs"]))
    if name == "exponential":
        return float(p["gamma"] ** epoch)
    if name == "cosine":
        return p["min_factor"] + (1 - p["min_factor"]) * _cos(step / max(1, total - 1))
    if name == "warmup_cosine":
        warm = p["warmup_epochs"] * steps_per_epoch
        if step < warm:
            return (step + 1) / warm
        rest = step - warm
        return p["min_factor"] + (1 - p["min_factor"]) * _cos(rest / max(1, total - warm - 1))
    if name == "one_cycle":
        start = 1 / p["div_factor"]
        end = start / p["final_div_factor"]
        peak = max(1.0, p["pct_start"] * total - 1)
        if step <= peak:
            return start + (1 - start) * (1 - _cos(step / peak))
        return end + (1 - end) * _cos((step - peak) / max(1.0, total - 1 - peak))
    return 1.0


@dataclass
class Plateau:
    """State of reduce-on-plateau: the multiplier, the best metric and epochs since it."""

    factor: float
    patience: int
    min_factor: float
    multiplier: float = 1.0
    best: float = math.inf
    waited: int = 0
    history: list[float] = field(default_factory=list)

    def epoch_end(self, metric: float) -> None:
        if metric < self.best * (1 - 1e-4):
            self.best, self.waited = metric, 0
            return
        self.waited += 1
        if self.waited > self.patience:
            self.multiplier = max(self.min_factor, self.multiplier * self.factor)
            self.waited = 0


class Schedule:
    def __init__(self, name: str, params: dict[str, Any], steps_per_epoch: int, total: int):
        self.name, self.params = name, params
        self.steps_per_epoch, self.total = steps_per_epoch, total
        self.plateau = (
            Plateau(params["factor"], params["patience"], params["min_factor"])
            if name == "reduce_on_plateau"
            else None
        )

    def factor(self, step: int) -> float:
        if self.plateau is not None:
            return self.plateau.multiplier
        return lr_factor(self.name, self.params, step, self.steps_per_epoch, self.total)

    def epoch_end(self, metric: float) -> None:
        if self.plateau is not None and math.isfinite(metric):
            self.plateau.epoch_end(metric)
