"""Phenomena from CONCEPTS.md checked from the run's own metrics (thresholds measured:
run it, look, then assert with margin)."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
import torch

from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec, of_kind, run


def _trained(init: str, **model: Any) -> tuple[Trainer, dict[str, Any]]:
    spec = make_spec(
        data={"samples": 200},
        model={"init": init, **model},
        train={"epochs": 30, "optimizer": {"lr": 0.1}},
    )
    trainer = Trainer(spec)
    records = list(trainer.records())
    return trainer, {"end": records[-1], "last_eval": of_kind(records, "eval")[-1]}


def _max_row_spread(t: torch.Tensor) -> float:
    """Largest difference between any unit's incoming weights (a row) and unit 0's."""
    t = t.detach()
    return float((t - t[0]).abs().max())


@pytest.mark.parametrize(("init", "scale"), [("zeros", None), ("constant", 0.3)])
def test_symmetric_init_keeps_hidden_units_identical(init: str, scale: float | None) -> None:
    """Concept 3: with every unit starting equal, every unit gets the same gradient and
    stays a copy of the others after 30 epochs (900 steps)."""
    trainer, out = _trained(init, init_scale=scale)
    for w, b in zip(trainer.weights[:-1], trainer.biases[:-1], strict=True):
        assert _max_row_spread(w) < 1e-6 and _max_row_spread(b) < 1e-6
    assert out["last_eval"]["layers"]["symmetry"] == pytest.approx([1.0, 1.0], abs=1e-6)
    if init == "zeros":
        # No signal reaches the hidden layers at all: only the output bias learns and the
        # loss stalls at the label entropy (balanced classes: ln 2).
        assert all(float(w.detach().abs().max()) == 0.0 for w in trainer.weights)
        assert out["end"]["final"]["train_loss"] == pytest.approx(0.6931, abs=2e-3)
    else:
        assert float(trainer.weights[0].detach().abs().max()) != pytest.approx(0.3)  # it moved


def test_random_init_breaks_the_symmetry_and_learns() -> None:
    trainer, out = _trained("xavier_uniform")
    assert all(_max_row_spread(w) > 0.1 for w in trainer.weights[:-1])
    assert max(abs(s) for s in out["last_eval"]["layers"]["symmetry"]) < 0.5
    assert out["end"]["final"]["train_acc"] >= 0.9  # while zero init sits at chance


def _first_to_last_ratio(activation: str, seed: int) -> float:
    """Median over the first epoch's steps of |grad W_first| / |grad W_last| in an
    8-hidden-layer net."""
    spec = make_spec(
        seed=seed,
        data={"samples": 200},
        model={"layers": [{"units": 16, "activation": activation}] * 8},
        train={"epochs": 1, "optimizer": {"lr": 0.01}},
    )
    steps = of_kind(run(spec), "step")
    return statistics.median(s["grad_w"][0] / s["grad_w"][-1] for s in steps)


@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_gradients_vanish_in_deep_nets_relu_ones_do_not(seed: int) -> None:
    """Concept 5: each sigmoid layer scales the backward signal by at most 1/4, so eight
    of them leave the first layer ~1e-5 of the last one's gradient (measured); ReLU's
    ratio stays O(1) (measured ~0.3-1)."""
    sigmoid = _first_to_last_ratio("sigmoid", seed)
    relu = _first_to_last_ratio("relu", seed)
    assert sigmoid < 1e-3
    assert relu > 0.1
    assert relu / sigmoid > 1e3
