"""1 nonlinearity: a linear net stays near chance on the circle; tanh solves it."""

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("linear_chance", 0, "linear: test acc <= 0.72 and loss >= 0.95 log 2"),
    Claim("tanh_solves", 1, "tanh: test acc >= 0.95"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("nonlinearity", seed)
    return {f"{k}_{m}": r.final[f"test_{m}"] for k, r in runs.items() for m in ("acc", "loss")}


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    return {
        "linear_chance": outcome(
            m["linear_acc"] <= 0.72 and m["linear_loss"] >= 0.95 * math.log(2),
            "acc {:.2f} loss {:.3f}",
            m["linear_acc"],
            m["linear_loss"],
        ),
        "tanh_solves": outcome(m["tanh_acc"] >= 0.95, "acc {:.3f}", m["tanh_acc"]),
    }
