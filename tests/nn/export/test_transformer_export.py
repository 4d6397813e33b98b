"""The exported transformer script reproduces the app's final scores (run as a real
subprocess outside the repo, so it can only import torch and the standard library)."""

from __future__ import annotations

import contextlib
import io
import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.nn.families.registry import export_for
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.transformer import TransformerTrainer
from tests.nn.export.test_script import assert_same_final

SPECS: dict[str, dict[str, Any]] = {
    "encoder_reverse_sinusoidal": {
        "family": "transformer",
        "transformer": {"dataset": "reverse", "length": 5, "examples": 300},
        "train": {"epochs": 2},
    },
    "decoder_text_rope_postln_rich": {
        "family": "transformer",
        "seed": 3,
        "data": {"train_fraction": 0.6, "val_fraction": 0.2},
        "transformer": {
            "dataset": "text",
            "causal": True,
            "length": 10,
            "examples": 300,
            "positions": "rope",
            "norm": "post",
            "dropout": 0.1,
            "blocks": 1,
            "heads": 4,
            "activation": "relu",
        },
        "train": {
            "epochs": 2,
            "optimizer": {"name": "momentum", "lr": 0.05},
            "weight_decay": 0.01,
            "l2": 0.001,
            "grad_clip": {"max": 0.5},
            "schedule": {"name": "warmup_cosine", "warmup_epochs": 1},
        },
    },
    "modadd_learned_clip_value": {
        "family": "transformer",
        "transformer": {"dataset": "modadd", "modulus": 7, "positions": "learned", "causal": True},
        "train": {
            "epochs": 3,
            "weight_decay": 0.5,
            "l1": 0.0001,
            "grad_clip": {"mode": "value", "max": 0.1},
        },
    },
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.Popen[str]]:
    folder = tmp_path_factory.mktemp("exported")
    started = {}
    for name, data in SPECS.items():
        if name in IN_PROCESS:
            continue
        path = folder / f"{name}.py"
        path.write_text(export_for(validate_spec(data)))
        started[name] = subprocess.Popen(
            [sys.executable, str(path)],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    return started


IN_PROCESS = ["modadd_learned_clip_value"]  # each subprocess costs ~2-10 s of torch start-up


@pytest.mark.parametrize("name", [n for n in SPECS if n not in IN_PROCESS])
def test_script_reproduces_the_app(name: str, runs: dict[str, subprocess.Popen[str]]) -> None:
    want = TransformerTrainer(validate_spec(SPECS[name])).run()["final"]
    out, err = runs[name].communicate(timeout=120)
    assert runs[name].returncode == 0, err
    assert_same_final(json.loads(out.strip().splitlines()[-1]), want)


def run_exported(spec: Spec, folder: Path) -> str:
    """The exported script run in this process (no torch start-up); what it printed."""
    path = folder / "exported.py"
    path.write_text(export_for(spec))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(path), run_name="__main__")
    return buffer.getvalue()


def last_json(printed: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(printed.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("name", IN_PROCESS)
def test_script_in_process(name: str, tmp_path: Path) -> None:
    spec = validate_spec(SPECS[name])
    printed = run_exported(spec, tmp_path)
    assert_same_final(last_json(printed), TransformerTrainer(spec).run()["final"])


EPOCH_END: dict[str, dict[str, Any]] = {
    # Early stopping that fires (patience 1 on a tiny, noisy task) and restores the best
    # epoch's weights; reduce-on-plateau that cuts the lr (patience 0) on validation loss.
    "early_stopping_restores": {
        "family": "transformer",
        "seed": 5,
        "data": {"train_fraction": 0.5, "val_fraction": 0.25},
        "transformer": {"dataset": "reverse", "length": 4, "examples": 120},
        "train": {
            "epochs": 12,
            "optimizer": {"name": "adam", "lr": 0.05},
            "early_stopping": {"patience": 1},
        },
    },
    "plateau_on_val": {
        "family": "transformer",
        "data": {"val_fraction": 0.2},
        "transformer": {"dataset": "reverse", "length": 4, "examples": 120},
        "train": {
            "epochs": 6,
            "optimizer": {"name": "adam", "lr": 0.05},
            "schedule": {"name": "reduce_on_plateau", "patience": 0, "factor": 0.5},
        },
    },
}


@pytest.mark.parametrize("name", EPOCH_END)
def test_early_stopping_and_plateau_reproduce_the_app(name: str, tmp_path: Path) -> None:
    spec = validate_spec(EPOCH_END[name])
    printed = run_exported(spec, tmp_path)
    trainer = TransformerTrainer(spec)
    end = trainer.run()
    if name == "early_stopping_restores":  # the case must exercise what it claims to
        assert end["status"] == "finished" and "early stopping" in end["reason"], end
        assert "early stop after epoch" in printed
    else:
        assert trainer.schedule.plateau is not None and trainer.schedule.plateau.multiplier < 1
    assert_same_final(last_json(printed), end["final"])
