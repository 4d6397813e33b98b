"""6 exploding-gradients: without clipping the gradient norm feeds on itself and the run is
stopped as diverged within a few steps; clipping the global norm bounds every step and the
regression still fits."""

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import gradient_flags

CLAIMS = (
    Claim("plain_grows", 0, "plain: first grad norm > 100, second step's larger still"),
    Claim("plain_diverges", 1, "plain: stopped as diverged within 3 steps, flagged exploding"),
    Claim("plain_overflows", 2, "plain: the last loss is inf or NaN", 0.75),
    Claim("clip_capped", 3, "clipped: same first raw norm, every applied norm <= 1"),
    Claim("clip_fits", 3, "clipped: finished, train R² > 0.85"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("exploding-gradients", seed).items():
        norms = [s["grad_norm"] for s in run.steps]
        finite = [s for s in run.steps if all(math.isfinite(g) for g in s["grad_w"])]
        out[label] = {
            "status": run.end["status"],
            "steps": len(run.steps),
            "norms": norms[:2],
            "final_loss": run.final["train_loss"],
            "flags": gradient_flags(finite[-1]["grad_w"]) if finite else ["nonfinite"],
            "max_clipped": max((s.get("grad_norm_clipped", 0.0) for s in run.steps), default=0),
            "r2": run.final["train_r2"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    plain, clip = m["no clipping"], m["clip norm 1"]
    g = plain["norms"]
    return {
        "plain_grows": outcome(
            len(g) > 1 and g[0] > 100 and not g[1] <= g[0], "{}", [f"{x:.3g}" for x in g]
        ),
        "plain_diverges": outcome(
            plain["status"] == "diverged"
            and plain["steps"] <= 3
            and any(f in ("exploding", "nonfinite") for f in plain["flags"]),
            "{} at step {}",
            plain["status"],
            plain["steps"],
        ),
        "plain_overflows": outcome(
            not math.isfinite(plain["final_loss"]), "{:.3g}", plain["final_loss"]
        ),
        "clip_capped": outcome(
            clip["norms"][0] == g[0] and clip["max_clipped"] <= 1.0 + 1e-4,
            "raw {:.3g}, applied <= {:.4f}",
            clip["norms"][0],
            clip["max_clipped"],
        ),
        "clip_fits": outcome(
            clip["status"] == "finished" and clip["r2"] > 0.85, "R² {:.3f}", clip["r2"]
        ),
    }
