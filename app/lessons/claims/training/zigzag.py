"""20 zigzag: with batch-size-1 SGD, every update of a unit's incoming weights in a layer fed
by sigmoid outputs has one sign (agreement 1); after tanh, or on the raw inputs of the first
layer, the signs are mixed."""

import math
import statistics
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import lesson_specs
from app.nn.diagnose.diagnostics import diagnostics_frame, sign_agreement
from app.nn.training.trainer import Trainer

CLAIMS = (
    Claim("sigmoid_h2_one_sign", 0, "sigmoid h2: agreement 1 at every step and in the panel"),
    Claim("tanh_h2_mixed", 1, "tanh h2: mean per-step agreement and panel < 0.75"),
    Claim("h1_mixed", 2, "h1 (raw inputs): panel agreement < 0.9 in both nets"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, spec in lesson_specs("zigzag", seed).items():
        trainer = Trainer(spec)
        weights = trainer.weights[:2]
        before = [w.detach().clone() for w in weights]
        per_step: list[list[float]] = [[], []]
        for rec in trainer.records():
            if rec["kind"] != "step":
                continue
            for i, w in enumerate(weights):
                after = w.detach().clone()
                score = sign_agreement(after - before[i])  # the actual update of this step
                if math.isfinite(score):
                    per_step[i].append(score)
                before[i] = after
        panel = [layer["sign_agreement"] for layer in diagnostics_frame(trainer)["layers"]]
        out[label] = {
            "steps": len(per_step[1]),
            "h2_min": min(per_step[1]),
            "h2_mean": statistics.mean(per_step[1]),
            "h1_mean": statistics.mean(per_step[0]),
            "panel": panel,
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    sig, tanh = m["sigmoid"], m["tanh"]
    return {
        "sigmoid_h2_one_sign": outcome(
            sig["steps"] > 400
            and abs(sig["h2_min"] - 1) < 1e-6
            and abs(sig["panel"][1] - 1) < 1e-6,
            "min {:.6f} over {} steps, panel {:.3f}",
            sig["h2_min"],
            sig["steps"],
            sig["panel"][1],
        ),
        "tanh_h2_mixed": outcome(
            tanh["h2_mean"] < 0.75 and tanh["panel"][1] < 0.75,
            "mean {:.2f} panel {:.2f}",
            tanh["h2_mean"],
            tanh["panel"][1],
        ),
        "h1_mixed": outcome(
            max(sig["panel"][0], tanh["panel"][0]) < 0.9,
            "sigmoid {:.2f} tanh {:.2f}",
            sig["panel"][0],
            tanh["panel"][0],
        ),
    }
