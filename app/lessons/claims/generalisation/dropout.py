"""16 dropout: dropout changes outputs in training mode only, and inverted scaling keeps each
unit's expected activation equal to its evaluation-mode value."""

import statistics
from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_single
from app.nn.diagnose.diagnostics import dropout_behaviour

CLAIMS = (
    Claim("train_loss_higher", 0, "last 5 epochs: training-mode batch loss > eval loss"),
    Claim("train_mode_random", 1, "same input twice: outputs differ in training mode only"),
    Claim("expectation_kept", 2, "400 masks: kept 50 % (±2 %), mean activation ratio 1 (±3 %)"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    run = run_single("dropout", seed)
    model, x = run.trainer.model, run.trainer.data.train.x
    rng_before = torch.get_rng_state()
    behaviour = dropout_behaviour(model, x, masks=400)
    untouched = torch.equal(torch.get_rng_state(), rng_before)  # the run's RNG left alone
    model.eval()
    with torch.no_grad():
        eval_same = torch.equal(model(x), model(x))
    model.train()
    with torch.no_grad():
        train_same = torch.equal(model(x), model(x))
    steps = run.losses()[-5 * run.trainer.steps_per_epoch :]
    return {
        "output_diff": behaviour["output_diff"],
        "layers": behaviour["layers"],
        "rng_untouched": untouched,
        "eval_same": eval_same,
        "train_same": train_same,
        "train_mode_loss": statistics.mean(steps),
        "eval_mode_loss": statistics.mean(ev["train"]["loss"] for ev in run.evals[-5:]),
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    layers = m["layers"]
    kept = [layer["kept_fraction"] for layer in layers]
    ratio = [layer["expectation_ratio"] for layer in layers]
    return {
        "train_loss_higher": outcome(
            m["train_mode_loss"] > m["eval_mode_loss"],
            "{:.3f} vs {:.3f}",
            m["train_mode_loss"],
            m["eval_mode_loss"],
        ),
        "train_mode_random": outcome(
            m["eval_same"] and not m["train_same"] and m["output_diff"] > 0.1,
            "relative difference {:.2f}",
            m["output_diff"],
        ),
        "expectation_kept": outcome(
            m["rng_untouched"]
            and len(layers) == 2
            and all(abs(k - 0.5) <= 0.02 for k in kept)
            and all(abs(r - 1) <= 0.03 for r in ratio),
            "kept {} ratio {}",
            [round(k, 3) for k in kept],
            [round(r, 3) for r in ratio],
        ),
    }
