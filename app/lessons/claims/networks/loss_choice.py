"""21 loss-choice: cross-entropy reaches an accuracy target in fewer SGD steps than MSE."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import Run, run_lesson

CLAIMS = (
    Claim("ce_sooner", 0, "train acc 90 %: cross-entropy reaches it in fewer steps"),
    Claim("ce_fewer_mistakes", 0, "mean train error, first 200 steps: CE < 0.85x MSE"),
    Claim("mse_gets_there", 1, "MSE reaches 90 % train acc within the run"),
)


def steps_to_accuracy(run: Run, target: float) -> int | None:
    return next((ev["step"] for ev in run.evals if ev["train"]["acc"] >= target), None)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("loss-choice", seed).items():
        early = [1 - ev["train"]["acc"] for ev in run.evals if ev["step"] <= 200]
        out[label] = {
            "steps_to_90": steps_to_accuracy(run, 0.9),
            "mean_error": sum(early) / len(early),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    mse, ce = m["MSE"], m["cross-entropy"]
    a, b = ce["steps_to_90"], mse["steps_to_90"]
    return {
        "ce_sooner": outcome(a is not None and (b is None or a < b), "CE {} MSE {}", a, b),
        "ce_fewer_mistakes": outcome(
            ce["mean_error"] < 0.85 * mse["mean_error"],
            "{:.3f} vs {:.3f}",
            ce["mean_error"],
            mse["mean_error"],
        ),
        "mse_gets_there": outcome(b is not None, "step {}", b),
    }
