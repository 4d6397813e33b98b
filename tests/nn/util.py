"""Helpers shared by the engine tests: small specs, runs and independent oracles."""

from __future__ import annotations

import copy
from typing import Any

import torch

from app.nn.records import Record
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.trainer import Trainer


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


SMALL: dict[str, Any] = {
    "seed": 0,
    "data": {"dataset": "circle", "samples": 120, "train_fraction": 0.5, "val_fraction": 0.25},
    "model": {"layers": [{"units": 6, "activation": "tanh"}, {"units": 5, "activation": "tanh"}]},
    "train": {"optimizer": {"name": "sgd", "lr": 0.05}, "batch_size": 10, "epochs": 3},
}


def make_spec(**over: Any) -> Spec:
    """A small, fast spec (circle, 60 train points, [6, 5] tanh) with nested overrides."""
    return validate_spec(merge(SMALL, over))


def run(spec: Spec) -> list[Record]:
    return list(Trainer(spec).records())


def of_kind(records: list[Record], kind: str) -> list[Record]:
    return [r for r in records if r["kind"] == kind]


def weights_copy(trainer: Trainer) -> list[torch.Tensor]:
    return [w.detach().clone() for w in trainer.weights]


def without_timing(records: list[Record]) -> list[Record]:
    """Records minus wall-clock fields, which are the only legitimately varying values."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def spiral_test_accuracy(seed: int) -> float:
    """The issue's benchmark run: two-arm spiral (500 points, no noise), [16, 16] tanh,
    Adam lr 0.01, batch 10, 300 epochs. Module-level so worker processes can import it."""
    torch.set_num_threads(1)
    spec = validate_spec(
        {
            "seed": seed,
            "data": {"dataset": "spiral", "samples": 500, "noise": 0.0},
            "model": {"layers": [{"units": 16, "activation": "tanh"}] * 2},
            "train": {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 10, "epochs": 300},
            "stream": {"eval_every": 100_000},  # only the final scores matter here
        }
    )
    end = Trainer(spec).run()
    assert end["status"] == "finished", end["reason"]
    return float(end["final"]["test_acc"])
