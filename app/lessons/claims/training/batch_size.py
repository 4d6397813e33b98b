"""22 batch-size: the jitter of the per-step loss (std of step-to-step change) falls as the
batch grows from 1 to 16 to the whole training set."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import loss_jitter

CLAIMS = (
    Claim("one_jumps", 0, "batch 1: loss jitter > 2x batch 16's"),
    Claim("bigger_calmer", 1, "batch 16: jitter > 10x the full batch's"),
    Claim("steps_per_epoch", 2, "steps per epoch 150, 10 and 1"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("batch-size", seed).items():
        out[label] = {
            "per_epoch": run.trainer.steps_per_epoch,
            "jitter": loss_jitter(run.losses()),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    one, sixteen, full = m["batch 1"], m["batch 16"], m["full batch"]
    return {
        "one_jumps": outcome(
            one["jitter"] > 2 * sixteen["jitter"],
            "{:.3f} vs {:.3f}",
            one["jitter"],
            sixteen["jitter"],
        ),
        "bigger_calmer": outcome(
            sixteen["jitter"] > 10 * full["jitter"],
            "{:.3f} vs {:.4f}",
            sixteen["jitter"],
            full["jitter"],
        ),
        "steps_per_epoch": outcome(
            (one["per_epoch"], sixteen["per_epoch"], full["per_epoch"]) == (150, 10, 1),
            "{} {} {}",
            one["per_epoch"],
            sixteen["per_epoch"],
            full["per_epoch"],
        ),
    }
