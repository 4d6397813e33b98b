"""2 universal-approximation: train MSE on the sine falls as one tanh layer widens 2->8->32."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("two_stays_high", 0, "2 units: train MSE > 0.03 (the sine's variance is 0.5)"),
    Claim("eight_follows", 1, "8 units: train MSE < 0.02 and < 2-unit MSE / 3"),
    Claim("thirty_two_close", 1, "32 units: train MSE < 0.01"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    return {
        label: run.final["train_loss"]
        for label, run in run_lesson("universal-approximation", seed).items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    two, eight, many = m["2 units"], m["8 units"], m["32 units"]
    return {
        "two_stays_high": outcome(two > 0.03, "{:.4f}", two),
        "eight_follows": outcome(eight < 0.02 and two > 3 * eight, "{:.4f}", eight),
        "thirty_two_close": outcome(many < 0.01, "{:.5f}", many),
    }
