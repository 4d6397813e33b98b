"""29 exploding-through-time: a tanh RNN whose recurrent weights start large (spectral
radius well above 1) gets gradients in the hundreds of thousands through 50 steps and
diverges at once under SGD; clipping the global norm bounds every step and it trains."""

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("plain_explodes", 0, "plain: first grad norm > 100, stopped as diverged within 10 steps"),
    Claim("clip_bounded", 1, "clipped: every applied norm <= 1, finished"),
    Claim("clip_learns", 2, "clipped: final train loss < initial", 0.65),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("exploding-through-time", seed).items():
        out[label] = {
            "status": run.end["status"],
            "steps": len(run.steps),
            "first_norm": run.steps[0]["grad_norm"] if run.steps else math.nan,
            "max_applied": max((s.get("grad_norm_clipped", 0.0) for s in run.steps), default=0),
            "initial": run.evals[0]["train"]["loss"],
            "final": run.final["train_loss"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    plain, clip = m["no clipping"], m["clip norm 1"]
    return {
        "plain_explodes": outcome(
            plain["first_norm"] > 100 and plain["status"] == "diverged" and plain["steps"] <= 10,
            "first norm {:.3g}, {} at step {}",
            plain["first_norm"],
            plain["status"],
            plain["steps"],
        ),
        "clip_bounded": outcome(
            clip["max_applied"] <= 1.0 + 1e-4 and clip["status"] == "finished",
            "applied <= {:.4f}, {}",
            clip["max_applied"],
            clip["status"],
        ),
        "clip_learns": outcome(
            clip["final"] < clip["initial"],
            "loss {:.3f} -> {:.3f}",
            clip["initial"],
            clip["final"],
        ),
    }
