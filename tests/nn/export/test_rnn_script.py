"""The recurrent family's exported script runs on its own and prints the app's numbers.

Oracle: `SeqTrainer(spec).run()["final"]`. One rich spec runs as a real subprocess outside
the repo; every cell and every task runs in-process via runpy."""

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
import torch

from app.cli_output import finite_json
from app.nn.choices.cells import CELLS
from app.nn.choices.layers import INITS
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.schedules import SCHEDULES
from app.nn.data.sequences import SEQ_TASKS
from app.nn.export.rnn import export_rnn_script
from app.nn.families.registry import export_for
from app.nn.spec.experiment import validate_spec
from app.nn.training.sequences import SeqTrainer
from tests.nn.export.test_script import RUFF, assert_same_final
from tests.nn.util import merge

torch.set_num_threads(1)

TINY: dict[str, Any] = {
    "family": "rnn",
    "seed": 4,
    "data": {"val_fraction": 0.2},
    "rnn": {"length": 7, "samples": 60, "hidden": 4},
    "train": {"epochs": 2, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.02}},
}
RICH: dict[str, Any] = {
    "family": "rnn",
    "seed": 9,
    "data": {"val_fraction": 0.2},
    "rnn": {
        "dataset": "copy",
        "length": 9,
        "samples": 120,
        "cell": "lstm",
        "hidden": 6,
        "layers": 2,
        "layer_norm": True,
        "dropout": 0.2,
        "forget_bias": 0.0,
        "noise": 0.2,
    },
    "model": {"layers": [{"units": 5, "activation": "relu", "dropout": 0.1}], "init": "orthogonal"},
    "train": {
        "epochs": 3,
        "batch_size": 16,
        "optimizer": {"name": "adamw"},
        "weight_decay": 0.01,
        "l1": 0.001,
        "grad_clip": {"mode": "norm", "max": 1.0},
        "input_noise": 0.05,
        "schedule": {"name": "cosine"},
        "early_stopping": {"patience": 5},
    },
}


def in_process(code: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "exported.py"
    path.write_text(code)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(path), run_name="__main__")
    return buffer.getvalue().strip().splitlines()


def test_a_rich_spec_reproduces_the_app_in_a_subprocess_and_is_clean_python(
    tmp_path: Path,
) -> None:
    spec = validate_spec(RICH)
    code = export_for(spec)
    assert code == export_rnn_script(spec)
    path = tmp_path / "rnn.py"
    path.write_text(code)
    proc = subprocess.Popen(
        [sys.executable, str(path)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    want = SeqTrainer(spec).run()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    got = json.loads(out.decode().strip().splitlines()[-1])
    assert_same_final(got, finite_json(want["final"]))
    for args in (["check", "--select", "E,F,W,B,UP,SIM"], ["format", "--check"]):
        cmd = [RUFF, *args, "--isolated", "--no-cache", "--line-length", "100", str(path)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "over",
    [{"rnn": {"cell": c}} for c in CELLS]
    + [{"rnn": {"dataset": t, "length": 8}} for t in SEQ_TASKS]
    + [{"model": {"init": "default"}}, {"model": {"init": "kaiming_normal", "bias_init": 0.1}}],
    ids=lambda o: json.dumps(o, separators=(",", ":")),
)
def test_every_cell_task_and_init_reproduces_the_app(over: dict[str, Any], tmp_path: Path) -> None:
    spec = validate_spec(merge(TINY, over))
    lines = in_process(export_rnn_script(spec), tmp_path)
    assert_same_final(json.loads(lines[-1]), finite_json(SeqTrainer(spec).run()["final"]))


# Every choice a recurrent run shares with the MLP (issue 18: "every optimizer, init,
# schedule, regulariser and gradient clipping works as for the MLP"): it trains (finite
# final scores, weights moved) and the exported script prints the app's numbers.
SHARED = (
    [{"train": {"optimizer": {"name": k}}} for k in OPTIMIZERS]
    + [{"model": {"init": k}} for k in INITS if k not in ("default", "kaiming_normal")]
    + [{"train": {"schedule": {"name": k}}} for k in SCHEDULES if k != "cosine"]
    + [{"train": {"loss": k}} for k in ("mse", "huber", "l1")]
    + [{"rnn": {"dataset": "parity", "length": 6}, "train": {"loss": k}} for k in ("bce", "mse")]
    + [
        {"train": {"l2": 0.01}},
        {"train": {"grad_clip": {"mode": "value", "max": 0.05}}},
        {"train": {"grad_clip": {"mode": "norm", "max": 0.1}}},
    ]
)


@pytest.mark.parametrize("over", SHARED, ids=lambda o: json.dumps(o, separators=(",", ":")))
def test_every_shared_choice_trains_a_recurrent_net_and_exports(
    over: dict[str, Any], tmp_path: Path
) -> None:
    spec = validate_spec(merge(TINY, over))
    trainer = SeqTrainer(spec)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    final = trainer.run()["final"]
    assert all(v is None or torch.isfinite(torch.tensor(v)) for v in final.values()), final
    moved = [not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True)]
    assert any(moved)
    lines = in_process(export_rnn_script(spec), tmp_path)
    assert_same_final(json.loads(lines[-1]), finite_json(final))
