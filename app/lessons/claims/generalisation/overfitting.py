"""13 overfitting: without regularisation the train/validation gap grows during training; L2
or dropout keep it much smaller."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("val_turns_up", 0, "none: val loss lowest before epoch 30 of 80"),
    Claim("gap_grows", 0, "none: final val - train gap > the gap after 10 epochs + 0.1"),
    Claim("cures_close_gap", 1, "L2 and dropout: final gap < 0.5x the unregularised one"),
)


def gap(ev: dict[str, Any]) -> float:
    return float(ev["val"]["loss"] - ev["train"]["loss"])


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("overfitting", seed).items():
        gaps = [gap(ev) for ev in run.evals]
        out[label] = {
            "gap_early": gaps[10],  # after 10 epochs
            "gap_end": gaps[-1],
            "val_min_epoch": min(range(len(run.evals)), key=lambda i: run.evals[i]["val"]["loss"]),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    none = m["none"]
    cures = [m[k]["gap_end"] / none["gap_end"] for k in ("L2 0.02", "dropout 0.5")]
    return {
        "val_turns_up": outcome(none["val_min_epoch"] < 30, "epoch {}", none["val_min_epoch"]),
        "gap_grows": outcome(
            none["gap_end"] > none["gap_early"] + 0.1,
            "{:.2f} -> {:.2f}",
            none["gap_early"],
            none["gap_end"],
        ),
        "cures_close_gap": outcome(max(cures) < 0.5, "x{:.2f} / x{:.2f}", *cures),
    }
