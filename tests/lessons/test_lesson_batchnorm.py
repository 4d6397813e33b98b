"""Concept 17: at a learning rate that breaks the plain deep net, the BatchNorm net converges."""

import pytest

from tests.lessons.runner import run_lesson


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("batchnorm", seed).items():
        out[label] = {
            "status": run.end["status"],
            "loss": run.final["train_loss"],
            "acc": run.final["test_acc"],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_batchnorm_converges_where_the_plain_net_breaks(seed: int | None) -> None:
    m = measure(seed)
    plain, bn = m["plain"], m["BatchNorm"]
    # Seeds 0-7: plain diverges (3 seeds) or ends at loss 0.33-0.70 with accuracy 0.43-0.85;
    # BatchNorm finishes at loss 0.03-0.20 with accuracy 0.94-1.0.
    assert bn["status"] == "finished"
    assert bn["acc"] >= 0.9 and bn["loss"] < 0.3
    assert plain["status"] == "diverged" or plain["loss"] > 2 * bn["loss"]
    assert plain["acc"] < bn["acc"] - 0.05
