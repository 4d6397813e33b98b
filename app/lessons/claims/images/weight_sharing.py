"""26 weight sharing: a small CNN matches a dense net on the digits with far fewer weights."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("params", 0, "CNN 1,898 parameters, dense 3,466"),
    Claim("matches", 1, "CNN test acc >= dense test acc - 0.01"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("weight-sharing", seed)
    return {
        label: {
            "params": sum(p.numel() for p in run.trainer.model.parameters()),
            "test_acc": run.final["test_acc"],
        }
        for label, run in runs.items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    cnn, dense = m["CNN"], m["dense 32x32"]
    return {
        "params": outcome(
            (cnn["params"], dense["params"]) == (1898, 3466),
            "{} vs {}",
            cnn["params"],
            dense["params"],
        ),
        "matches": outcome(
            cnn["test_acc"] >= dense["test_acc"] - 0.01,
            "{:.3f} vs {:.3f}",
            cnn["test_acc"],
            dense["test_acc"],
        ),
    }
