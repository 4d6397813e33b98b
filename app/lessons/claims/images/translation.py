"""27 translation: trained on centred shapes, a CNN with global pooling recognises shifted
ones; a dense net falls to chance."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("both_fit", 0, "both: train acc >= 0.98"),
    Claim("dense_chance", 1, "dense: shifted test acc <= 0.40"),
    Claim("cnn_keeps", 2, "CNN: shifted test acc >= 0.65", share=0.8),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("translation", seed)
    return {
        label: {"train": run.final["train_acc"], "test": run.final["test_acc"]}
        for label, run in runs.items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    cnn, dense = m["CNN"], m["dense 32"]
    return {
        "both_fit": outcome(
            min(cnn["train"], dense["train"]) >= 0.98,
            "{:.3f} / {:.3f}",
            cnn["train"],
            dense["train"],
        ),
        "dense_chance": outcome(dense["test"] <= 0.40, "{:.3f}", dense["test"]),
        "cnn_keeps": outcome(cnn["test"] >= 0.65, "{:.3f}", cnn["test"]),
    }
