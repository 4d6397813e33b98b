"""17 batchnorm: at a learning rate that breaks the plain deep net, the BatchNorm net
converges."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("plain_fails", 0, "plain: diverged, or loss > 2x BatchNorm's and acc 0.05 lower", 0.85),
    Claim("bn_converges", 1, "BatchNorm: finished, loss < 0.3, test acc >= 0.9"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    return {
        label: {
            "status": run.end["status"],
            "loss": run.final["train_loss"],
            "acc": run.final["test_acc"],
        }
        for label, run in run_lesson("batchnorm", seed).items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    plain, bn = m["plain"], m["BatchNorm"]
    fails = plain["status"] == "diverged" or (
        plain["loss"] > 2 * bn["loss"] and plain["acc"] < bn["acc"] - 0.05
    )
    return {
        "plain_fails": outcome(
            fails, "{} loss {:.3f} acc {:.2f}", plain["status"], plain["loss"], plain["acc"]
        ),
        "bn_converges": outcome(
            bn["status"] == "finished" and bn["loss"] < 0.3 and bn["acc"] >= 0.9,
            "loss {:.3f} acc {:.2f}",
            bn["loss"],
            bn["acc"],
        ),
    }
