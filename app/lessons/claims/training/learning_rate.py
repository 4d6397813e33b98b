"""8 learning-rate: lr 10 diverges, lr 1e-5 leaves the loss almost flat, lr 0.03 learns."""

import statistics
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("high_diverges", 0, "lr 10: stopped as diverged within 4 steps"),
    Claim("tiny_flat", 1, "lr 1e-5: update ratio < 1e-4, loss falls < 15 %, R² < 0.3"),
    Claim("good_learns", 2, "lr 0.03: loss falls > 75 %, test R² >= 0.85"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("learning-rate", seed).items():
        losses = run.losses()
        first, last = statistics.mean(losses[:15]), statistics.mean(losses[-15:])
        out[label] = {
            "status": run.end["status"],
            "steps": len(losses),
            "drop": (first - last) / first,
            "update_ratio": statistics.median(max(s["update_ratio"]) for s in run.steps),
            "r2": run.final["test_r2"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    hi, lo, ok = m["lr 10"], m["lr 1e-5"], m["lr 0.03"]
    return {
        "high_diverges": outcome(
            hi["status"] == "diverged" and hi["steps"] <= 4,
            "{} at step {}",
            hi["status"],
            hi["steps"],
        ),
        "tiny_flat": outcome(
            lo["status"] == "finished"
            and lo["update_ratio"] < 1e-4
            and abs(lo["drop"]) < 0.15
            and lo["r2"] < 0.3,
            "ratio {:.1e} drop {:.1%} R² {:.2f}",
            lo["update_ratio"],
            lo["drop"],
            lo["r2"],
        ),
        "good_learns": outcome(
            ok["drop"] > 0.75 and ok["r2"] >= 0.85, "drop {:.0%} R² {:.2f}", ok["drop"], ok["r2"]
        ),
    }
