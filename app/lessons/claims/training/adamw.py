"""11 adamw: with the same coefficient, SGD + L2 and SGD + weight decay give the same weights,
while Adam + L2 and AdamW end with clearly different weight norms."""

from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("sgd_pair_same", 0, "SGD + L2 and SGD + decay: weights equal to 1e-4"),
    Claim("adam_pair_splits", 1, "Adam + L2 weight norm 0.35-0.65x AdamW's"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("adamw", seed)
    flat = {
        label: torch.cat([w.detach().reshape(-1) for w in run.trainer.weights])
        for label, run in runs.items()
    }
    return {
        "norm": {label: float(f.norm()) for label, f in flat.items()},
        "acc": {label: run.final["test_acc"] for label, run in runs.items()},
        "sgd_diff": float((flat["SGD + L2"] - flat["SGD + decay"]).abs().max()),
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    ratio = m["norm"]["Adam + L2"] / m["norm"]["AdamW"]
    return {
        "sgd_pair_same": outcome(m["sgd_diff"] < 1e-4, "max diff {:.1e}", m["sgd_diff"]),
        "adam_pair_splits": outcome(0.35 <= ratio <= 0.65, "ratio {:.2f}", ratio),
    }
