"""10 adam-vs-rmsprop: without bias correction RMSProp's first steps are ~1/sqrt(1-alpha) =
10x its lr; Adam's corrected first step moves every weight by lr."""

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import Run, run_lesson

CLAIMS = (
    Claim("rmsprop_first_10x", 0, "RMSProp: first RMS update per weight 10 lr (±5 %)"),
    Claim("rmsprop_early_above", 0, "first 10 steps: RMSProp's updates > 3x Adam's"),
    Claim("gap_closes", 0, "RMSProp's update at step 100 < a third of its first"),
    Claim("adam_first_lr", 1, "Adam: first RMS update per weight = lr (±2 %)"),
    Claim("both_fit", 2, "both: test acc >= 0.9"),
)


def update_norm(step: dict[str, Any]) -> float:
    """Norm of the whole weight update in one step (update ratio x weight norm, per layer)."""
    pairs = zip(step["update_ratio"], step["weight_norm"], strict=True)
    return math.sqrt(sum((r * w) ** 2 for r, w in pairs))


def per_weight(run: Run, step: int) -> float:
    """RMS update per weight at `step`, in units of the learning rate."""
    n = sum(w.numel() for w in run.trainer.weights)
    lr = run.trainer.spec.train.optimizer.lr
    return update_norm(run.steps[step]) / (lr * math.sqrt(n))


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("adam-vs-rmsprop", seed).items():
        out[label] = {
            "first": per_weight(run, 0),
            "early": sum(per_weight(run, i) for i in range(10)) / 10,
            "step100": per_weight(run, 99),
            "acc": run.final["test_acc"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    rms, adam = m["RMSProp"], m["Adam"]
    return {
        "rmsprop_first_10x": outcome(abs(rms["first"] / 10 - 1) < 0.05, "{:.2f} lr", rms["first"]),
        "rmsprop_early_above": outcome(
            rms["early"] > 3 * adam["early"], "x{:.1f}", rms["early"] / adam["early"]
        ),
        "gap_closes": outcome(
            rms["step100"] < 0.3 * rms["first"], "{:.2f} lr at step 100", rms["step100"]
        ),
        "adam_first_lr": outcome(abs(adam["first"] - 1) < 0.02, "{:.3f} lr", adam["first"]),
        "both_fit": outcome(
            min(rms["acc"], adam["acc"]) >= 0.9, "{:.2f} / {:.2f}", rms["acc"], adam["acc"]
        ),
    }
