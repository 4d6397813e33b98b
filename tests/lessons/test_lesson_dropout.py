"""Concept 16: dropout changes outputs in training mode only, and inverted scaling keeps each
unit's expected activation equal to its evaluation-mode value."""

import statistics

import pytest
import torch

from app.nn.diagnose.diagnostics import dropout_behaviour
from tests.lessons.runner import run_single


def measure(seed: int | None = None) -> dict:
    run = run_single("dropout", seed)
    model, x = run.trainer.model, run.trainer.data.train.x
    rng_before = torch.get_rng_state()
    behaviour = dropout_behaviour(model, x, masks=400)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the run's RNG was left alone
    model.eval()
    with torch.no_grad():
        eval_same = torch.equal(model(x), model(x))
    model.train()
    with torch.no_grad():
        train_same = torch.equal(model(x), model(x))
    epoch_evals = run.evals[-5:]
    steps = run.losses()[-5 * run.trainer.steps_per_epoch :]
    return {
        "output_diff": behaviour["output_diff"],
        "layers": behaviour["layers"],
        "eval_same": eval_same,
        "train_same": train_same,
        # The last 5 epochs: mean batch loss in training mode vs evaluation loss.
        "train_mode_loss": statistics.mean(steps),
        "eval_mode_loss": statistics.mean(ev["train"]["loss"] for ev in epoch_evals),
    }


@pytest.mark.parametrize("seed", [None, 1])
def test_dropout_train_vs_eval(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-4: relative train/eval output difference 0.48-0.56; kept fraction 0.499-0.501;
    # expectation ratio 0.998-1.002; training-mode loss 0.24-0.29 vs eval-mode 0.17-0.22.
    assert m["eval_same"] and not m["train_same"]
    assert m["output_diff"] > 0.1
    assert len(m["layers"]) == 2
    for layer in m["layers"]:
        assert layer["kept_fraction"] == pytest.approx(0.5, abs=0.02)
        assert layer["expectation_ratio"] == pytest.approx(1.0, abs=0.03)
    assert m["train_mode_loss"] > m["eval_mode_loss"]
