"""3 zero-init: zero init keeps a layer's units identical (symmetry 1) and the loss stalls;
a random init breaks the tie."""

import math
from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import diagnostics_frame

CLAIMS = (
    Claim("zeros_clones", 0, "zeros: weights moved, units identical (diff < 1e-4), symmetry 1"),
    Claim("zeros_stalls", 1, "zeros: starts at log 2, ends above 0.5 with test acc <= 0.72"),
    Claim("xavier_solves", 2, "xavier: symmetry < 0.5, test acc >= 0.9"),
)


def max_pairwise_diff(weight: torch.Tensor) -> float:
    """Largest difference between two units' incoming weights, relative to the largest weight."""
    rows = weight.detach()
    return float((rows[:, None, :] - rows[None, :, :]).abs().max() / rows.abs().max())


def measure(seed: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, run in run_lesson("zero-init", seed).items():
        hidden = run.trainer.weights[:-1]
        frame = diagnostics_frame(run.trainer)
        out[label] = {
            "diff": max(max_pairwise_diff(w) for w in hidden),
            "moved": min(float(w.detach().norm()) for w in hidden),
            "sym": min(run.last_eval()["layers"]["symmetry"]),
            "frame_sym": min(layer["symmetry"] for layer in frame["layers"]),
            "init_loss": run.first_eval()["train"]["loss"],
            "loss": run.final["train_loss"],
            "acc": run.final["test_acc"],
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    z, x = m["zeros"], m["xavier"]
    return {
        "zeros_clones": outcome(
            z["moved"] > 0.01
            and z["diff"] < 1e-4
            and abs(z["sym"] - 1) < 1e-6
            and abs(z["frame_sym"] - 1) < 1e-6,
            "moved {:.3f} diff {:.1e} symmetry {:.6f}",
            z["moved"],
            z["diff"],
            z["sym"],
        ),
        "zeros_stalls": outcome(
            abs(z["init_loss"] - math.log(2)) < 1e-6 and z["loss"] > 0.5 and z["acc"] <= 0.72,
            "loss {:.3f} acc {:.2f}",
            z["loss"],
            z["acc"],
        ),
        "xavier_solves": outcome(
            x["sym"] < 0.5 and x["acc"] >= 0.9, "symmetry {:.2f} acc {:.3f}", x["sym"], x["acc"]
        ),
    }
