"""23 softmax-temperature: the entropy of the predicted distribution rises with T while the
predicted class stays the same."""

import math
from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_single
from app.nn.diagnose.diagnostics import softmax_temperature, temperature_view

TEMPERATURES = (0.3, 1.0, 3.0)

CLAIMS = (
    Claim("model_fits", 0, "the classifier reaches test acc >= 0.9; T = 1 sums to 1"),
    Claim("low_t_sharpens", 1, "T 0.3: mean test-point entropy < 0.05 and below T 1's"),
    Claim("high_t_flattens", 2, "T 3: entropy above T 1's, > 0.3 and < log 3"),
    Claim("same_winner", 3, "argmax identical at every T"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
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


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    low, one, high = m["entropy"]
    a, b, c = m["point_entropy"]
    return {
        "model_fits": outcome(
            m["acc"] >= 0.9 and all(abs(s - 1) < 1e-6 for s in m["point_sums"]),
            "acc {:.2f}",
            m["acc"],
        ),
        "low_t_sharpens": outcome(low < 0.05 and low < one and a < b, "{:.4f} < {:.3f}", low, one),
        "high_t_flattens": outcome(
            one < high < math.log(3) and high > 0.3 and b < c <= math.log(3) + 1e-9,
            "{:.2f}",
            high,
        ),
        "same_winner": outcome(m["same_winner"], "{}", m["same_winner"]),
    }
