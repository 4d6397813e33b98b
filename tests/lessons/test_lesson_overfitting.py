"""Concept 13: without regularisation the train/validation gap grows during training; L2 or
dropout keep it much smaller."""

import pytest

from tests.lessons.runner import run_lesson


def gap(ev: dict) -> float:
    return ev["val"]["loss"] - ev["train"]["loss"]


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("overfitting", seed).items():
        gaps = [gap(ev) for ev in run.evals]
        out[label] = {
            "gap_early": gaps[10],  # after 10 epochs
            "gap_end": gaps[-1],
            "val_min_epoch": min(range(len(run.evals)), key=lambda i: run.evals[i]["val"]["loss"]),
            "train_acc": run.final["train_acc"],
            "val_acc": run.final["val_acc"],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_gap_grows_without_regularisation_and_shrinks_with_it(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-5: unregularised gap (val - train loss) 0.02-0.24 after 10 epochs, 0.40-0.97 at
    # the end, val loss lowest by epoch 18; final gap with L2 <= 0.32x and with dropout
    # <= 0.42x the unregularised one.
    none = m["none"]
    assert none["gap_end"] > 0.3
    assert none["gap_end"] > none["gap_early"] + 0.2  # the gap grows as training goes on
    assert none["val_min_epoch"] < 40  # the validation loss turned back up long before the end
    for cure in ("L2 0.02", "dropout 0.5"):
        assert m[cure]["gap_end"] < 0.5 * none["gap_end"]
