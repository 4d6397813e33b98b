"""9 momentum: on an ill-conditioned problem momentum and Nesterov reach a loss target in far
fewer steps than plain SGD at the same learning rate."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

TARGET = 0.1

CLAIMS = (
    Claim("bulk_removed", 0, "all three: loss after 30 steps < half the first"),
    Claim("sgd_crawls", 1, "SGD: loss after 300 steps > 1.4"),
    Claim("momentum_reaches", 2, "momentum, Nesterov: loss < 0.1 within 200-280 steps"),
    Claim("momentum_far_lower", 2, "final loss SGD / momentum and SGD / Nesterov in 20-100"),
)


def steps_to(losses: list[float], target: float) -> int | None:
    return next((i + 1 for i, loss in enumerate(losses) if loss < target), None)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("momentum", seed).items():
        losses = run.losses()  # full-batch steps: each is the training loss
        out[label] = {
            "status": run.end["status"],
            "bulk": losses[29] / losses[0],
            "steps_to_target": steps_to(losses, TARGET),
            "final": losses[-1],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    sgd = m["SGD"]
    fast = [m["momentum"], m["Nesterov"]]
    steps = [f["steps_to_target"] for f in fast]
    ratios = [sgd["final"] / f["final"] for f in fast]
    return {
        "bulk_removed": outcome(
            all(v["bulk"] < 0.5 for v in m.values()), "{:.2f}", max(v["bulk"] for v in m.values())
        ),
        "sgd_crawls": outcome(
            sgd["status"] == "finished" and sgd["final"] > 1.4, "{:.2f}", sgd["final"]
        ),
        "momentum_reaches": outcome(
            all(s is not None and 200 <= s <= 280 for s in steps), "steps {}", steps
        ),
        "momentum_far_lower": outcome(
            all(20 <= r <= 100 for r in ratios), "x{:.0f} / x{:.0f}", *ratios
        ),
    }
