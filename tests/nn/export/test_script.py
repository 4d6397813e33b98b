"""The exported script runs on its own and reproduces the app's final numbers.

Oracle: `Trainer(spec).run()["final"]` for the same spec and seed. A handful of specs run
as real subprocesses (started together, so their start-up overlaps); every registry choice
(optimizer, init, schedule, loss, dataset, feature) runs in-process via runpy.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import random
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from app.cli_output import finite_json
from app.nn.choices.layers import INITS
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.schedules import SCHEDULES
from app.nn.data.points import DATASETS, FEATURES
from app.nn.export.script import export_script
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.trainer import Trainer

torch.set_num_threads(1)
PYTHON = sys.executable
RUFF = str(Path(sys.executable).parent / "ruff")
_r = random.Random(1)
POINTS = [[_r.uniform(-5, 5), _r.uniform(-5, 5), float(_r.randrange(3))] for _ in range(90)]

SPECS: dict[str, dict[str, Any]] = {
    "binary_sgd": {"data": {"samples": 200}, "train": {"epochs": 4}},
    "multiclass_adam_one_cycle": {
        "seed": 5,
        "data": {"dataset": "blobs", "noise": 0.3, "samples": 200},
        "model": {"layers": [{"units": 6, "activation": "elu"}], "init": "default"},
        "train": {
            "epochs": 4,
            "optimizer": {"name": "adam"},
            "label_smoothing": 0.1,
            "schedule": {"name": "one_cycle"},
            "grad_clip": {"mode": "value", "max": 0.1},
        },
    },
    "regression_batchnorm_dropout_adamw": {
        "data": {"dataset": "multigauss", "samples": 200},
        "model": {
            "layers": [
                {"units": 6, "norm": "batch", "dropout": 0.2},
                {"units": 6, "residual": True},
            ]
        },
        "train": {
            "epochs": 4,
            "optimizer": {"name": "adamw"},
            "weight_decay": 0.01,
            "schedule": {"name": "cosine", "min_factor": 0.1},
        },
    },
    "early_stopping_and_regularisers": {
        "seed": 3,
        "data": {
            "dataset": "spiral",
            "noise": 0.2,
            "samples": 200,
            "val_fraction": 0.2,
            "features": ["x1", "x2", "sin_x1", "x1x2"],
        },
        "model": {
            "layers": [
                {"units": 8, "activation": "relu", "norm": "batch", "dropout": 0.2},
                {"units": 8, "activation": "relu", "norm": "layer"},
            ],
            "init": "kaiming_normal",
        },
        "train": {
            "epochs": 12,
            "optimizer": {"name": "momentum"},
            "l1": 0.001,
            "l2": 0.01,
            "weight_decay": 0.01,
            "grad_clip": {"mode": "norm", "max": 0.5},
            "early_stopping": {"patience": 2},
            "schedule": {"name": "reduce_on_plateau", "patience": 1},
            "input_noise": 0.1,
        },
    },
    "custom_points_step_schedule": {
        "data": {"dataset": "custom", "points": POINTS, "val_fraction": 0.2},
        "train": {"epochs": 5, "optimizer": {"name": "nesterov"}, "schedule": {"name": "step"}},
    },
    "diverging_regression": {
        "data": {"dataset": "plane", "samples": 100},
        "model": {"layers": [{"units": 8, "activation": "relu"}]},
        "train": {"epochs": 5, "optimizer": {"name": "sgd", "lr": 3.0}},
    },
    "overflowing_regression": {  # its final scores are inf: the script prints null (strict JSON)
        "data": {"dataset": "plane", "samples": 100},
        "model": {"layers": [{"units": 64, "activation": "relu"}] * 2},
        "train": {"epochs": 5, "optimizer": {"name": "sgd", "lr": 10.0}},
    },
}


# Real subprocesses cost ~2 s each of torch start-up: the richest specs run that way, the
# others (and every registry choice) run the same script in-process via runpy.
SUBPROCESS = [
    "multiclass_adam_one_cycle",
    "regression_batchnorm_dropout_adamw",
    "early_stopping_and_regularisers",
]


def assert_same_final(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(got) == list(want)  # the keys of `backprop train --json`'s "final"
    for key, value in want.items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("exported")
    runs = {}
    for name in SUBPROCESS:
        data = SPECS[name]
        path = folder / f"{name}.py"
        path.write_text(export_script(validate_spec(data)))
        # Outside the repo, so nothing but torch and the stdlib can be imported by accident.
        runs[name] = subprocess.Popen(
            [PYTHON, str(path)],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    return runs


@pytest.mark.parametrize("name", SUBPROCESS)
def test_script_reproduces_the_app(name: str, subprocess_runs: dict[str, Any]) -> None:
    spec = validate_spec(SPECS[name])
    want = Trainer(spec).run()
    out, err = subprocess_runs[name].communicate(timeout=120)
    assert subprocess_runs[name].returncode == 0, err
    check_run(out.strip().splitlines(), want)


def run_in_process(spec: Spec, tmp_path: Path, export: Any = export_script) -> list[str]:
    """The script's printed lines, run as __main__ in this interpreter."""
    path = tmp_path / "exported.py"
    path.write_text(export(spec))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(path), run_name="__main__")
    return buffer.getvalue().strip().splitlines()


def strict(constant: str) -> Any:
    raise AssertionError(f"{constant} is not JSON: the script must print null, as the CLI does")


def check_run(lines: list[str], want: dict[str, Any]) -> None:
    assert_same_final(json.loads(lines[-1], parse_constant=strict), finite_json(want["final"]))
    if want["status"] == "diverged":
        assert any(line.startswith("diverged at step") for line in lines)
    if "early stopping" in want["reason"]:
        assert any(line.startswith("early stop after epoch") for line in lines)


@pytest.mark.parametrize("name", [n for n in SPECS if n not in SUBPROCESS])
def test_named_specs_in_process(name: str, tmp_path: Path) -> None:
    spec = validate_spec(SPECS[name])
    check_run(run_in_process(spec, tmp_path), Trainer(spec).run())


def tiny(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "seed": 11,
        "data": {"samples": 60, "val_fraction": 0.2},
        "model": {"layers": [{"units": 4}, {"units": 3, "activation": "relu"}]},
        "train": {"epochs": 2, "batch_size": 8},
    }
    for path, value in overrides.items():
        *parents, leaf = path.split("__")
        node = spec
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return spec


CHOICES = (
    [("optimizer", tiny(train__optimizer={"name": k})) for k in OPTIMIZERS]
    + [("init", tiny(model__init=k)) for k in INITS]
    + [("init", tiny(model__init="normal", model__init_scale=0.3, model__bias_init=0.1))]
    + [("schedule", tiny(train__schedule={"name": k}, train__epochs=4)) for k in SCHEDULES]
    + [("dataset", tiny(data__dataset=k)) for k in DATASETS if k != "custom"]
    + [("dataset", tiny(data__dataset="custom", data__points=POINTS[:40]))]
    + [("features", tiny(data__features=list(FEATURES)))]
    + [
        ("loss", tiny(data__dataset=d, train__loss=loss))
        for d, losses in (
            ("circle", ["bce", "mse"]),
            ("blobs", ["ce", "mse"]),
            ("sine", ["mse", "huber", "l1"]),
        )
        for loss in losses
    ]
    + [("no hidden layer", tiny(model__layers=[]))]
)


@pytest.mark.parametrize(("family", "data"), CHOICES)
def test_every_choice_matches_in_process(family: str, data: dict, tmp_path: Path) -> None:
    spec = validate_spec(data)
    check_run(run_in_process(spec, tmp_path), Trainer(spec).run())


def test_the_script_is_plain_torch_and_tidy(tmp_path: Path) -> None:
    for name in ("early_stopping_and_regularisers", "regression_batchnorm_dropout_adamw"):
        code = export_script(validate_spec(SPECS[name]))
        imported = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= {"copy", "json", "math", "torch"}, imported
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        for args in (["check", "--select", "E,F,W,B,UP,SIM"], ["format", "--check"]):
            cmd = [RUFF, *args, "--isolated", "--no-cache", "--line-length", "100", str(path)]
            result = subprocess.run(cmd, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_code_the_spec_needs() -> None:
    plain = export_script(validate_spec(SPECS["binary_sgd"]))
    for absent in (
        "lr_at",
        "Plateau",
        "penalty",
        "Dropout",
        "BatchNorm",
        "clip_grad",
        "copy.deepcopy",
        "noise_gen",
        "def spiral",
        "residual",
        "POINTS",
    ):
        assert absent not in plain, absent
    assert "def circle(" in plain and "torch.optim.SGD(" in plain
    rich = export_script(validate_spec(SPECS["early_stopping_and_regularisers"]))
    for present in (
        "class Plateau",
        "def penalty",
        "nn.Dropout",
        "nn.BatchNorm1d(8)",
        "nn.LayerNorm(8)",
        "clip_grad_norm_",
        "copy.deepcopy",
        "noise_gen",
        "def spiral_arms(",
        "WEIGHT_DECAY",
    ):
        assert present in rich, present
    assert "def circle(" not in rich
