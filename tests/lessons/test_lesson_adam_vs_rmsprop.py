"""Concept 10: without bias correction RMSProp's first steps are ~1/sqrt(1-alpha) = 10x its
lr; Adam's corrected first step moves every weight by lr."""

import math

import pytest

from tests.lessons.runner import Run, run_lesson


def update_norm(step: dict) -> float:
    """Norm of the whole weight update in one step (update ratio x weight norm, per layer)."""
    return math.sqrt(
        sum((r * w) ** 2 for r, w in zip(step["update_ratio"], step["weight_norm"], strict=True))
    )


def per_weight(run: Run, step: int) -> float:
    """RMS update per weight at `step`, in units of the learning rate."""
    n = sum(w.numel() for w in run.trainer.weights)
    lr = run.trainer.spec.train.optimizer.lr
    return update_norm(run.steps[step]) / (lr * math.sqrt(n))


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("adam-vs-rmsprop", seed).items():
        out[label] = {
            "first": per_weight(run, 0),
            "early": sum(per_weight(run, i) for i in range(10)) / 10,
            "step50": per_weight(run, 49),
            "loss": run.final["train_loss"],
            "acc": run.final["test_acc"],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_adam_first_steps_are_lr_rmsprop_ten_times_lr(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-4: first-step RMS update per weight 10.0 lr (RMSProp) and 1.0 lr (Adam);
    # by step 50 RMSProp's is down to 0.4-2.1 lr; both reach test accuracy >= 0.99.
    rms, adam = m["RMSProp"], m["Adam"]
    assert adam["first"] == pytest.approx(1.0, abs=0.02)  # every weight moved by lr
    assert rms["first"] == pytest.approx(10.0, rel=0.05)  # 1/sqrt(1 - 0.99)
    assert rms["early"] > 3 * adam["early"]  # the first ten steps, on average
    assert rms["step50"] < 0.3 * rms["first"]  # the inflation fades as the average fills
    assert rms["acc"] >= 0.9 and adam["acc"] >= 0.9
