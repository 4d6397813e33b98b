"""15 early-stopping: the run stops `patience` epochs after the best validation loss and
reports the weights (and scores) of that best epoch."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_single

PATIENCE = 10

CLAIMS = (
    Claim("val_turns_up", 0, "the last validation loss is above the best one"),
    Claim("stops_after_patience", 1, "stops 10 epochs after the best, before epoch 200"),
    Claim("restores_best", 1, "reported epoch = measured best; final val loss = the best"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    run = run_single("early-stopping", seed)
    epoch_evals = [ev for ev in run.evals if ev["epoch"] >= 1]  # skip the one before training
    val = {ev["epoch"]: ev["val"]["loss"] for ev in epoch_evals}
    best = min(val, key=lambda e: (val[e], e))  # first epoch reaching the minimum
    return {
        "reason": run.end["reason"],
        "stopped_at": run.end["epoch"],
        "max_epochs": run.trainer.spec.train.epochs,
        "reported_best": run.end["best_epoch"],
        "measured_best": best,
        "best_val": val[best],
        "last_val": val[run.end["epoch"]],
        "final_val": run.final["val_loss"],
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    return {
        "val_turns_up": outcome(
            m["last_val"] > m["best_val"], "{:.3f} > {:.3f}", m["last_val"], m["best_val"]
        ),
        "stops_after_patience": outcome(
            m["reason"].startswith("early stopping")
            and m["stopped_at"] < m["max_epochs"]
            and m["stopped_at"] - m["measured_best"] == PATIENCE,
            "best {} stop {}",
            m["measured_best"],
            m["stopped_at"],
        ),
        "restores_best": outcome(
            m["reported_best"] == m["measured_best"]
            and abs(m["final_val"] - m["best_val"]) <= 1e-6 * abs(m["best_val"]),
            "final {:.4f} best {:.4f}",
            m["final_val"],
            m["best_val"],
        ),
    }
