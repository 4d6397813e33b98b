"""18 layernorm-vs-batchnorm: at batch size 2 BatchNorm cannot learn (its batch statistics are
noise) while LayerNorm trains normally; BatchNorm recovers at batch 10."""

import statistics
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("bn2_stuck", 0, "BatchNorm at 2: last-epoch batch loss > 0.6, late acc < 0.8"),
    Claim("ln2_solves", 1, "LayerNorm at 2: late acc >= 0.9, batch loss < 0.35 (half of log 2)"),
    Claim("bn10_solves", 1, "BatchNorm at 10: late acc >= 0.9"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("layernorm-vs-batchnorm", seed).items():
        accs = [ev["test"]["acc"] for ev in run.evals[1:]]  # at each epoch end
        last_epoch = run.losses()[-run.trainer.steps_per_epoch :]
        out[label] = {
            "late_acc": statistics.mean(accs[-5:]),
            "batch_loss": statistics.mean(last_epoch),  # what training itself sees
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    bn, ln, bn10 = m["BatchNorm, batch 2"], m["LayerNorm, batch 2"], m["BatchNorm, batch 10"]
    return {
        "bn2_stuck": outcome(
            bn["batch_loss"] > 0.6 and bn["late_acc"] < 0.8,
            "loss {:.3f} acc {:.2f}",
            bn["batch_loss"],
            bn["late_acc"],
        ),
        "ln2_solves": outcome(
            ln["late_acc"] >= 0.9 and ln["batch_loss"] < 0.35,
            "loss {:.3f} acc {:.2f}",
            ln["batch_loss"],
            ln["late_acc"],
        ),
        "bn10_solves": outcome(bn10["late_acc"] >= 0.9, "acc {:.2f}", bn10["late_acc"]),
    }
