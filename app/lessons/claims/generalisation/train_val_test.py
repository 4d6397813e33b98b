"""24 train-val-test: the three splits are disjoint and scored separately; the kept checkpoint
is the validation-loss minimum, and the test split influences nothing: relabelling it changes
the test scores only."""

import dataclasses
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import Run, lesson_specs, run_spec
from app.nn.training.trainer import Trainer, build_data

CLAIMS = (
    Claim("three_scores", 0, "150/75/75 disjoint points, each split scored at every eval"),
    Claim("train_most_flattering", 0, "final train loss is the lowest of the three", 0.6),
    Claim("kept_on_validation", 1, "kept epoch = validation-loss minimum"),
    Claim("test_plays_no_part", 1, "test labels flipped: same epoch, same weights"),
)


def val_argmin(run: Run) -> int:
    evals = [ev for ev in run.evals if ev["epoch"] >= 1]
    return int(min(evals, key=lambda ev: (ev["val"]["loss"], ev["epoch"]))["epoch"])


def measure(seed: int | None = None) -> dict[str, Any]:
    spec = lesson_specs("train-val-test", seed)[""]
    run = run_spec(spec)
    data = build_data(spec)
    # The same run with every test label flipped: if the test split played any part in
    # training or in choosing the checkpoint, something besides the test scores would move.
    flipped = dataclasses.replace(data, test=dataclasses.replace(data.test, y=1 - data.test.y))
    trainer = Trainer(spec, data=flipped)
    end = trainer.run()
    points = {n: {tuple(p) for p in split.raw.tolist()} for n, split in data.splits().items()}
    pairs = run.trainer.model.parameters(), trainer.model.parameters()
    return {
        "sizes": {name: len(split) for name, split in data.splits().items()},
        "disjoint": not (
            points["train"] & points["val"]
            or points["train"] & points["test"]
            or points["val"] & points["test"]
        ),
        "splits_reported": all(
            ev[split] is not None for ev in run.evals for split in ("train", "val", "test")
        ),
        "best_epoch": run.end["best_epoch"],
        "val_argmin": val_argmin(run),
        "final": run.final,
        "flipped_best_epoch": end["best_epoch"],
        "flipped_final": end["final"],
        "same_weights": all(bool((a == b).all()) for a, b in zip(*pairs, strict=True)),
    }


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    final, flipped = m["final"], m["flipped_final"]
    losses = final["train_loss"], final["val_loss"], final["test_loss"]
    return {
        "three_scores": outcome(
            m["sizes"] == {"train": 150, "val": 75, "test": 75}
            and m["disjoint"]
            and m["splits_reported"],
            "{}",
            m["sizes"],
        ),
        "train_most_flattering": outcome(
            losses[0] < min(losses[1:]), "train {:.3f} val {:.3f} test {:.3f}", *losses
        ),
        "kept_on_validation": outcome(
            m["best_epoch"] == m["val_argmin"],
            "kept {} argmin {}",
            m["best_epoch"],
            m["val_argmin"],
        ),
        "test_plays_no_part": outcome(
            m["flipped_best_epoch"] == m["best_epoch"]
            and m["same_weights"]
            and flipped["val_loss"] == final["val_loss"]
            and flipped["train_loss"] == final["train_loss"]
            and abs(flipped["test_acc"] - (1 - final["test_acc"])) < 1e-6,  # float32 scores
            "epoch {} / {}",
            m["flipped_best_epoch"],
            m["best_epoch"],
        ),
    }
