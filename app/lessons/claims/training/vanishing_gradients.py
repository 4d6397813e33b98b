"""5 vanishing-gradients: the first layer's gradient vanishes in a deep sigmoid net, not with
ReLU."""

import itertools
import statistics
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import lesson_specs, run_spec
from app.nn.diagnose.diagnostics import diagnostics_frame
from app.nn.training.trainer import Trainer

CLAIMS = (
    Claim("sigmoid_shrinks_each_layer", 0, "sigmoid: every layer's grad < the next layer's"),
    Claim("sigmoid_vanishes", 0, "sigmoid: first/last grad < 1e-3 and flagged vanishing"),
    Claim("sigmoid_stalls", 1, "sigmoid: loss falls < 15 % (first vs last 30 steps)"),
    Claim("relu_flows", 2, "relu: first/last grad > 0.1, no flag"),
    Claim("relu_learns", 2, "relu: loss falls > 60 %"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, spec in lesson_specs("vanishing-gradients", seed).items():
        frame = diagnostics_frame(Trainer(spec))  # at init, from the panel's own probe
        run = run_spec(spec)
        losses = run.losses()
        first = run.steps[0]["grad_w"]
        out[label] = {
            # Median over the first 20 steps of |grad first layer| / |grad output layer|.
            "ratio": statistics.median(s["grad_w"][0] / s["grad_w"][-1] for s in run.steps[:20]),
            "monotone": all(a < b for a, b in itertools.pairwise(first)),
            "vanishing": frame["flags"]["vanishing"],
            "drop": 1 - statistics.mean(losses[-30:]) / statistics.mean(losses[:30]),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    s, r = m["sigmoid"], m["relu"]
    return {
        "sigmoid_shrinks_each_layer": outcome(s["monotone"], "{}", s["monotone"]),
        "sigmoid_vanishes": outcome(
            s["ratio"] < 1e-3 and "h1" in s["vanishing"], "ratio {:.1e}", s["ratio"]
        ),
        "sigmoid_stalls": outcome(s["drop"] < 0.15, "drop {:.0%}", s["drop"]),
        "relu_flows": outcome(
            r["ratio"] > 0.1 and r["vanishing"] == [], "ratio {:.2f}", r["ratio"]
        ),
        "relu_learns": outcome(r["drop"] > 0.6, "drop {:.0%}", r["drop"]),
    }
