"""19 residual: with skip connections the gradient reaches the first layer of a 12-layer net
and the loss falls; without them it vanishes and the loss stalls."""

import math
import statistics
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("plain_vanishes", 0, "plain: first/last grad < 0.2"),
    Claim("plain_stalls", 0, "plain: last 20 batch losses > 0.9 log 2"),
    Claim("residual_flows", 1, "residual: first/last grad > 2x the plain net's"),
    Claim("residual_solves", 1, "residual: last 20 batch losses < 0.25, test acc >= 0.95"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("residual", seed).items():
        out[label] = {
            # Median over the first 20 steps of |grad first layer| / |grad output layer|.
            "ratio": statistics.median(s["grad_w"][0] / s["grad_w"][-1] for s in run.steps[:20]),
            "final_loss": statistics.mean(run.losses()[-20:]),
            "acc": run.final["test_acc"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    plain, res = m["plain"], m["residual"]
    return {
        "plain_vanishes": outcome(plain["ratio"] < 0.2, "{:.1e}", plain["ratio"]),
        "plain_stalls": outcome(
            plain["final_loss"] > 0.9 * math.log(2), "{:.3f}", plain["final_loss"]
        ),
        "residual_flows": outcome(
            res["ratio"] > 2 * plain["ratio"], "{:.2f} vs {:.2f}", res["ratio"], plain["ratio"]
        ),
        "residual_solves": outcome(
            res["final_loss"] < 0.25 and res["acc"] >= 0.95,
            "loss {:.3f} acc {:.2f}",
            res["final_loss"],
            res["acc"],
        ),
    }
