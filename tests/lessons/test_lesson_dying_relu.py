"""Concept 7: a bold learning rate kills ReLU units (zero output and zero gradient on every
training point); Leaky ReLU units never die: even fully negative ones keep a gradient."""

import pytest

from app.nn.diagnose.diagnostics import probe
from tests.lessons.runner import run_lesson


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def measure(seed: int | None = None) -> dict[str, dict[str, float]]:
    out = {}
    for label, run in run_lesson("dying-relu", seed).items():
        n = len(run.trainer.data.train)
        p = probe(run.trainer, max_points=n)  # the whole training set
        negative = silent_with_grad = 0
        for a, g in zip(p.acts, p.weight_grads, strict=False):  # hidden layers, not the head
            below = a.amax(0) <= 0  # units at or below zero on every training point
            negative += int(below.sum())
            silent_with_grad += int((g[below].abs().amax(1) > 0).sum()) if below.any() else 0
        out[label] = {
            "dead_init": mean(run.first_eval()["layers"]["dead"]),
            "dead_end": mean(run.last_eval()["layers"]["dead"]),
            "negative_units": negative,
            "negative_with_grad": silent_with_grad,
            "acc": run.final["test_acc"],
        }
    return out


@pytest.mark.parametrize("seed", [None, 1])
def test_relu_units_die_leaky_ones_keep_a_gradient(seed: int | None) -> None:
    m = measure(seed)
    relu, leaky = m["relu"], m["leaky relu"]
    # Seeds 0-4: relu dead fraction 0.47-0.59 at the end (0.09-0.13 at init); leaky 0.
    assert relu["dead_end"] >= 0.3
    assert relu["dead_end"] > relu["dead_init"] + 0.2
    assert relu["negative_units"] > 0 and relu["negative_with_grad"] == 0  # no way back
    assert leaky["dead_end"] == 0.0
    # Leaky units below zero everywhere still receive a gradient, so they can recover.
    assert leaky["negative_with_grad"] == leaky["negative_units"]
