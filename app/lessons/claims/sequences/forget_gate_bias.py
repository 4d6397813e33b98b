"""30 forget-gate-bias: an LSTM whose forget gate starts open (bias 1) passes far more
gradient back to the first steps at init than one starting half-closed (bias 0), and learns
the adding problem sooner."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.lessons.claims.sequences.through_time import epochs_to, first_to_last

CLAIMS = (
    Claim("init_ratio", 0, "at init: bias 1's first-to-last ratio > 1000 x bias 0's"),
    Claim("learns_sooner", 1, "bias 1 reaches test MSE 0.05 in fewer epochs", 0.75),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    return {
        label: {"init": first_to_last(run.evals[0]["grad_t"]), "epochs": epochs_to(run, 0.05)}
        for label, run in run_lesson("forget-gate-bias", seed).items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    one, zero = m["bias 1"], m["bias 0"]
    return {
        "init_ratio": outcome(
            one["init"] > 1000 * zero["init"], "{:.2e} vs {:.2e}", one["init"], zero["init"]
        ),
        "learns_sooner": outcome(
            one["epochs"] < zero["epochs"], "epoch {} vs {}", one["epochs"], zero["epochs"]
        ),
    }
