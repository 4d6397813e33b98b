"""Concept 24: the three splits are disjoint and scored separately; the kept checkpoint is the
validation-loss minimum, and the test split influences nothing: relabelling it changes the
test scores only."""

import dataclasses

import pytest

from app.nn.training.trainer import Trainer, build_data
from tests.lessons.runner import Run, lesson_specs, run_spec


def val_argmin(run: Run) -> int:
    evals = [ev for ev in run.evals if ev["epoch"] >= 1]
    return min(evals, key=lambda ev: (ev["val"]["loss"], ev["epoch"]))["epoch"]


def measure(seed: int | None = None) -> dict:
    spec = lesson_specs("train-val-test", seed)[""]
    run = run_spec(spec)
    data = build_data(spec)
    # The same run with every test label flipped: if the test split played any part in
    # training or in choosing the checkpoint, something besides the test scores would move.
    flipped = dataclasses.replace(data, test=dataclasses.replace(data.test, y=1 - data.test.y))
    trainer = Trainer(spec, data=flipped)
    end = trainer.run()
    points = {name: {tuple(p) for p in split.raw.tolist()} for name, split in data.splits().items()}
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
        "same_weights": all(
            bool((a == b).all())
            for a, b in zip(run.trainer.model.parameters(), trainer.model.parameters(), strict=True)
        ),
    }


@pytest.mark.parametrize("seed", [None, 1])
def test_checkpoint_is_chosen_on_validation_only(seed: int | None) -> None:
    m = measure(seed)
    # Seeds 0-5: the kept epoch (3-40) is the validation minimum every time, and the run with
    # flipped test labels keeps the same epoch and ends with bit-identical weights.
    assert m["sizes"] == {"train": 150, "val": 75, "test": 75}
    assert m["disjoint"] and m["splits_reported"]
    assert m["best_epoch"] == m["val_argmin"]
    final, flipped = m["final"], m["flipped_final"]
    # Flipping the test labels changed the test scores, and nothing else.
    assert m["flipped_best_epoch"] == m["best_epoch"] and m["same_weights"]
    assert flipped["val_loss"] == final["val_loss"] and flipped["train_loss"] == final["train_loss"]
    assert flipped["test_acc"] == pytest.approx(1 - final["test_acc"])
