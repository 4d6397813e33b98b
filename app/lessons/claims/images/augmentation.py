"""28 augmentation: on 180 training digits, augmentation shrinks the train/test gap."""

from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson

CLAIMS = (
    Claim("memorises", 0, "plain: train acc >= 0.99, gap 0.04-0.12"),
    Claim("gap_shrinks", 1, "augmented: train - test gap < the plain one"),
    Claim("no_test_gain", 2, "augmented: test acc <= plain test acc + 0.01"),
)


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("augmentation", seed)
    return {
        label: {"train": run.final["train_acc"], "test": run.final["test_acc"]}
        for label, run in runs.items()
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    plain, aug = m["as they are"], m["augmented"]
    gap, aug_gap = plain["train"] - plain["test"], aug["train"] - aug["test"]
    return {
        "memorises": outcome(
            plain["train"] >= 0.99 and 0.04 <= gap <= 0.12,
            "train {:.3f} gap {:.3f}",
            plain["train"],
            gap,
        ),
        "gap_shrinks": outcome(aug_gap < gap, "{:.3f} vs {:.3f}", aug_gap, gap),
        "no_test_gain": outcome(
            aug["test"] <= plain["test"] + 0.01, "{:.3f} vs {:.3f}", aug["test"], plain["test"]
        ),
    }
