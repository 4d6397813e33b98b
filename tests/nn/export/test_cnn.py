"""The exported convolutional script runs on its own and prints the app's final numbers
(oracle: CnnTrainer(spec).run()["final"] for the same spec and seed)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.nn.export.cnn import export_cnn
from app.nn.families.registry import export_for
from app.nn.spec.experiment import validate_spec
from app.nn.training.cnn import CnnTrainer
from tests.nn.export.test_script import RUFF, check_run, run_in_process

SHAPES: dict[str, Any] = {
    "family": "cnn",
    "seed": 4,
    "cnn": {
        "dataset": "shapes_shifted",
        "size": 12,
        "classes": 3,
        "samples": 150,
        "conv": [
            {"channels": 4, "batchnorm": True, "dropout": 0.1},
            {"channels": 5, "kernel": 2, "padding": 0, "pool": "avg", "activation": "tanh"},
        ],
        "augment": {"shift": 1, "rotate": 10.0, "noise": 0.05},
    },
    "model": {"layers": [{"units": 6, "activation": "elu", "dropout": 0.2}]},
    "train": {
        "epochs": 2,
        "batch_size": 16,
        "input_noise": 0.02,
        "l2": 0.001,
        "schedule": {"name": "cosine"},
        "optimizer": {"name": "adamw"},
        "weight_decay": 0.01,
        "early_stopping": {"patience": 5},
    },
    "data": {"train_fraction": 0.6, "val_fraction": 0.2},
}
DIGITS: dict[str, Any] = {
    "family": "cnn",
    "seed": 2,
    "cnn": {"conv": [{"channels": 4}]},
    "model": {"init": "default"},
    "train": {"epochs": 1, "batch_size": 64, "optimizer": {"name": "momentum"}},
}


@pytest.mark.parametrize("data", [SHAPES, DIGITS], ids=["shapes", "digits"])
def test_the_script_reproduces_the_app(data: dict[str, Any], tmp_path: Path) -> None:
    spec = validate_spec(data)
    code = export_for(spec)
    assert code == export_cnn(spec)
    path = tmp_path / "exported.py"
    path.write_text(code)
    # Outside the repo, so nothing but torch and the stdlib can be imported by accident.
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    check_run(done.stdout.strip().splitlines(), CnnTrainer(spec).run())


@pytest.mark.parametrize("init", ["xavier_uniform", "orthogonal", "lecun_normal"])
def test_inits_match_in_process(init: str, tmp_path: Path) -> None:
    spec = validate_spec({**DIGITS, "model": {"init": init, "layers": [{"units": 5}]}})
    check_run(run_in_process(spec, tmp_path, export_cnn), CnnTrainer(spec).run())


def test_the_script_is_plain_torch_and_tidy(tmp_path: Path) -> None:
    code = export_cnn(validate_spec(SHAPES))
    imported = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"copy", "json", "math", "torch", "base64", "gzip"}, imported
    path = tmp_path / "cnn.py"
    path.write_text(code)
    for args in (["check", "--select", "E,F,W,B,UP,SIM"], ["format", "--check"]):
        cmd = [RUFF, *args, "--isolated", "--no-cache", "--line-length", "100", str(path)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
