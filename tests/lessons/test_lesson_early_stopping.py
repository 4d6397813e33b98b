"""Concept 15: the run stops `patience` epochs after the best validation loss and reports the
weights (and scores) of that best epoch."""

import pytest

from tests.lessons.runner import run_single

PATIENCE = 10


def measure(seed: int | None = None) -> dict:
    run = run_single("early-stopping", seed)
    epoch_evals = [ev for ev in run.evals if ev["epoch"] >= 1]  # skip the one before training
    val = {ev["epoch"]: ev["val"]["loss"] for ev in epoch_evals}
    best_epoch = min(val, key=lambda e: (val[e], e))  # first epoch reaching the minimum
    return {
        "reason": run.end["reason"],
        "stopped_at": run.end["epoch"],
        "max_epochs": run.trainer.spec.train.epochs,
        "reported_best": run.end["best_epoch"],
        "measured_best": best_epoch,
        "best_val": val[best_epoch],
        "last_val": val[run.end["epoch"]],
        "final_val": run.final["val_loss"],
    }


@pytest.mark.parametrize("seed", [None, 1])
def test_stops_after_patience_and_restores_the_best_weights(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-4: stops at epoch 18-28 of 200, the last validation loss 3-38 % above the best.
    assert m["reason"].startswith("early stopping")
    assert m["stopped_at"] < m["max_epochs"]
    assert m["reported_best"] == m["measured_best"]
    assert m["stopped_at"] - m["measured_best"] == PATIENCE
    assert m["final_val"] == pytest.approx(m["best_val"], rel=1e-6)  # restored weights
    assert m["last_val"] > m["best_val"]  # and the restore mattered
