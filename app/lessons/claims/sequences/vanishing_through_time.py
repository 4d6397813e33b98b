"""29 vanishing-through-time: after training on the adding problem (T = 50) the plain RNN's
gradient at the first step is a tiny fraction of the one at the last step; the LSTM's is
within about an order of magnitude."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.lessons.claims.sequences.through_time import median_ratio

CLAIMS = (
    Claim("rnn_vanishes", 0, "RNN: median ||dL/dh_1|| / ||dL/dh_T|| < 1e-2 (last 10 evals)"),
    Claim("lstm_keeps", 1, "LSTM: test MSE < 0.05 and median ratio > 0.05"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    return {
        label: {"ratio": median_ratio(run), "test_loss": run.final["test_loss"]}
        for label, run in run_lesson("vanishing-through-time", seed).items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    rnn, lstm = m["RNN (tanh)"], m["LSTM"]
    return {
        "rnn_vanishes": outcome(rnn["ratio"] < 1e-2, "ratio {:.2e}", rnn["ratio"]),
        "lstm_keeps": outcome(
            lstm["test_loss"] < 0.05 and lstm["ratio"] > 0.05,
            "MSE {:.4f}, ratio {:.2e}",
            lstm["test_loss"],
            lstm["ratio"],
        ),
    }
