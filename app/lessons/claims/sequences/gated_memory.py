"""30 gated-memory: on the adding problem at T = 50 the LSTM and the GRU learn to add the two
marked numbers; the plain RNN stays at the level of always answering the mean."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("gates_solve", 0, "LSTM and GRU: test MSE < 0.01"),
    Claim("rnn_chance", 1, "RNN: test MSE > 0.1 (chance 0.167)"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    return {
        label: run.final["test_loss"] for label, run in run_lesson("gated-memory", seed).items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    return {
        "gates_solve": outcome(
            m["LSTM"] < 0.01 and m["GRU"] < 0.01, "LSTM {:.4f}, GRU {:.4f}", m["LSTM"], m["GRU"]
        ),
        "rnn_chance": outcome(m["RNN (tanh)"] > 0.1, "{:.4f}", m["RNN (tanh)"]),
    }
