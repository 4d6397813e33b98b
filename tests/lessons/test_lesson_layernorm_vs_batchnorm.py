"""Concept 18: at batch size 2 BatchNorm cannot learn (its batch statistics are noise) while
LayerNorm, which never looks across the batch, trains normally; BatchNorm recovers at 10."""

import statistics

import pytest

from tests.lessons.runner import run_lesson


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("layernorm-vs-batchnorm", seed).items():
        accs = [ev["test"]["acc"] for ev in run.evals[1:]]  # at each epoch end
        last_epoch = run.losses()[-run.trainer.steps_per_epoch :]
        out[label] = {
            "batch": run.trainer.batch_size,
            "late_acc": statistics.mean(accs[-5:]),
            "batch_loss": statistics.mean(last_epoch),  # what training itself sees
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_batchnorm_fails_at_batch_2_layernorm_does_not(seed: int | None) -> None:
    m = measure(seed)
    bn, ln, bn10 = m["BatchNorm, batch 2"], m["LayerNorm, batch 2"], m["BatchNorm, batch 10"]
    # Seeds 0-9: BatchNorm at 2: last-epoch batch loss 0.68-0.71, accuracy 0.45-0.75 over the
    # last 5 epochs; LayerNorm at 2: 0.002-0.11 and 0.92-1.0; BatchNorm at 10: >= 0.996.
    assert bn["batch"] == ln["batch"] == 2 and bn10["batch"] == 10
    assert bn["batch_loss"] > 0.6  # near log 2 = 0.69: even training makes no progress
    assert bn["late_acc"] < 0.8 and bn["late_acc"] < ln["late_acc"] - 0.15
    assert ln["late_acc"] >= 0.9 and ln["batch_loss"] < 0.2
    assert bn10["late_acc"] >= 0.9  # same BatchNorm net, a usable batch size
