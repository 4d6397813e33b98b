"""Measurements the recurrent lessons share, from a run's own evaluation records: the
gradient through time (`grad_t`: ||dL/dh_t|| for t = 1..T) and when a score was reached."""

from __future__ import annotations

import math
import statistics

from app.lessons.claims.runner import Run


def first_to_last(grad_t: list[float | None]) -> float:
    """||dL/dh_1|| / ||dL/dh_T||: how much of the gradient reaches the first step."""
    first, last = grad_t[0], grad_t[-1]
    if first is None or last is None or not last > 0:
        return math.nan
    return first / last


def median_ratio(run: Run, last: int = 10) -> float:
    """The median first-to-last ratio over the run's last `last` evaluations (the ratio of
    one evaluation swings with the batch of probe sequences' state; the median does not)."""
    ratios = [first_to_last(ev["grad_t"]) for ev in run.evals[-last:]]
    finite = [r for r in ratios if math.isfinite(r)]
    return statistics.median(finite) if finite else math.nan


def epochs_to(run: Run, loss: float) -> float:
    """The first epoch whose test loss is below `loss` (inf if none)."""
    for ev in run.evals:
        if ev["test"] and ev["test"]["loss"] < loss:
            return float(ev["epoch"])
    return math.inf
