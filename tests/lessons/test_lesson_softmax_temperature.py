"""Concept 23: the entropy of the predicted distribution rises with the softmax temperature,
while the predicted class stays the same."""

import math

import pytest
import torch

from app.nn.diagnose.diagnostics import softmax_temperature, temperature_view
from tests.lessons.runner import run_single

TEMPERATURES = (0.3, 1.0, 3.0)


def measure(seed: int | None = None) -> dict:
    run = run_single("softmax-temperature", seed)
    model = run.trainer.model
    model.eval()
    with torch.no_grad():
        logits = model(run.trainer.data.test.x)
    entropies, winners = [], []
    for t in TEMPERATURES:
        probs, entropy = softmax_temperature(logits, t)
        entropies.append(float(entropy.mean()))
        winners.append(probs.argmax(1))
    views = temperature_view(run.trainer, 0.0, 0.0, TEMPERATURES)  # between the blobs
    return {
        "acc": run.final["test_acc"],
        "entropy": entropies,
        "same_winner": all(torch.equal(winners[0], w) for w in winners),
        "point_entropy": [v["entropy"] for v in views],
        "point_sums": [sum(v["probs"]) for v in views],
    }


@pytest.mark.parametrize("seed", [None, 1])
def test_entropy_rises_with_temperature(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-4: mean test-point entropy 0.0002-0.002 (T 0.3), 0.017-0.027 (T 1), 0.48-0.54
    # (T 3); at the point between the blobs 0.00002-0.66, 0.14-0.93, 0.85-1.07.
    low, one, high = m["entropy"]
    assert m["acc"] >= 0.9
    assert low < one < high < math.log(3)
    assert low < 0.05 and high > 0.3
    assert m["same_winner"]
    a, b, c = m["point_entropy"]
    assert a < b < c <= math.log(3) + 1e-9
    assert m["point_sums"] == pytest.approx([1.0, 1.0, 1.0])
