"""Concept 19: with skip connections the gradient reaches the first layer of a 12-layer net and
the loss falls; without them it vanishes and the loss stalls."""

import math
import statistics

import pytest

from tests.lessons.runner import run_lesson


def measure(seed: int | None = None) -> dict[str, dict]:
    out = {}
    for label, run in run_lesson("residual", seed).items():
        losses = run.losses()
        out[label] = {
            "residual_layers": sum(layer.residual for layer in run.trainer.spec.model.layers),
            # Median over the first 20 steps of |grad first layer| / |grad output layer|.
            "ratio": statistics.median(s["grad_w"][0] / s["grad_w"][-1] for s in run.steps[:20]),
            "final_loss": statistics.mean(losses[-20:]),
            "acc": run.final["test_acc"],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_skips_carry_the_gradient_to_early_layers(seed: int | None) -> None:
    m = measure(seed)
    plain, res = m["plain"], m["residual"]
    # Seeds 0-5: first/last gradient ratio 4e-4..3e-3 (plain) vs 0.24..0.62 (residual); plain
    # stalls at log 2 with chance accuracy; residual ends at 0.002-0.15 (below 0.01 on seeds
    # 0-5) with accuracy >= 0.99.
    assert plain["residual_layers"] == 0 and res["residual_layers"] == 11
    assert plain["ratio"] < 1e-2
    assert res["ratio"] > 0.1
    assert plain["final_loss"] > 0.9 * math.log(2)
    assert res["final_loss"] < 0.25 and res["acc"] >= 0.95
