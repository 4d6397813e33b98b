"""The `backprop train` command: one JSON object with --json, a table without, and exit
code 2 with the spec's own message for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.nn.spec.experiment import validate_spec

runner = CliRunner()
QUICK = ["--samples", "60", "--epochs", "2"]


def train(*args: str) -> Any:
    return runner.invoke(cli, ["train", *args])


def train_json(*args: str) -> dict[str, Any]:
    result = train(*args, "--json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object, nothing else on stdout
    out: dict[str, Any] = json.loads(lines[0])
    return out


def test_json_output_for_classification() -> None:
    out = train_json(
        *QUICK,
        "--dataset",
        "spiral",
        "--layers",
        "8,8",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--batch-size",
        "16",
        "--seed",
        "3",
        "--init",
        "kaiming_normal",
    )
    assert {"status", "epochs", "steps", "final", "spec"} <= set(out)
    assert out["status"] == "finished" and out["epochs"] == 2 and out["steps"] == 2 * 2
    final = out["final"]
    assert set(final) == {f"{s}_{k}" for s in ("train", "val", "test") for k in ("loss", "acc")}
    assert final["val_loss"] is None and final["val_acc"] is None  # no validation split
    assert 0.0 <= final["test_acc"] <= 1.0 and final["train_loss"] > 0
    spec = out["spec"]
    assert validate_spec(spec).model_dump(mode="json") == spec  # the full resolved spec
    assert spec["seed"] == 3 and spec["data"]["dataset"] == "spiral"
    assert [layer["units"] for layer in spec["model"]["layers"]] == [8, 8]
    assert {layer["activation"] for layer in spec["model"]["layers"]} == {"relu"}
    assert spec["model"]["init"] == "kaiming_normal"
    assert spec["train"]["optimizer"] == {
        "name": "adam",
        "lr": 0.02,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "amsgrad": False,
    }
    assert spec["train"]["batch_size"] == 16


def test_json_output_for_regression_with_a_spec_file(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(
        json.dumps({"data": {"dataset": "sine", "val_fraction": 0.2}, "train": {"epochs": 1}})
    )
    out = train_json("--spec", str(spec_file), "--samples", "50")
    final = out["final"]
    assert set(final) == {
        f"{s}_{k}" for s in ("train", "val", "test") for k in ("loss", "r2", "rmse")
    }
    assert all(final[k] is not None for k in final)  # every split has points
    assert out["spec"]["data"]["val_fraction"] == 0.2 and out["spec"]["data"]["samples"] == 50


def test_a_diverged_run_still_prints_strict_json() -> None:
    """JSON has no NaN/Infinity (browsers and jq reject them): non-finite scores are null."""
    args = ["--dataset", "plane", "--layers", "32,32,32,32", "--activation", "relu", "--lr", "10"]
    result = train(*args, *QUICK, "--json")
    assert result.exit_code == 0, result.output

    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    out = json.loads(result.stdout, parse_constant=reject)
    assert out["status"] == "diverged" and "at step" in out["reason"]
    assert out["final"]["train_loss"] is None  # NaN after the blow-up (checked: it is)
    assert out["final"]["val_loss"] is None  # and, as always, null for the empty split


def test_same_flags_same_numbers() -> None:
    assert train_json(*QUICK)["final"] == train_json(*QUICK)["final"]
    assert train_json(*QUICK)["final"] != train_json(*QUICK, "--seed", "1")["final"]


def test_table_without_json() -> None:
    result = train(*QUICK)
    assert result.exit_code == 0, result.output
    assert "finished after 2 epochs" in result.stdout and "loss" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "100"], "train.optimizer.lr: 100.0 is out of range [1e-06, 10.0]"),
        (["--dataset", "nope"], "unknown dataset 'nope'; allowed: circle"),
        (["--optimizer", "adamm"], "train.optimizer.name: unknown optimizer 'adamm'"),
        (["--activation", "swish"], "model.layers.0.activation: unknown activation"),
        (["--layers", "8,x"], "--layers: expected comma-separated unit counts"),
        (["--layers", "100000"], "model.layers.0.units"),
        (["--epochs", "0"], "train.epochs: 0 is out of range"),
        (["--spec", "/nonexistent/spec.json"], "--spec /nonexistent/spec.json"),
    ],
)
def test_bad_input_exits_2_with_the_spec_message(args: list[str], message: str) -> None:
    result = train(*args, "--json")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""  # no half-written JSON


def test_unknown_flag_exits_2() -> None:
    assert train("--bogus").exit_code == 2


@pytest.mark.slow
def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `backprop` entry point, in a fresh process (1 torch thread)."""
    exe = Path(sys.executable).with_name("backprop")
    env = {**os.environ, "PLAYGROUND_TORCH_THREADS": "1"}
    ok = subprocess.run(
        [str(exe), "train", *QUICK, "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "finished"
    bad = subprocess.run(
        [str(exe), "train", "--lr", "-1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert bad.returncode == 2 and "train.optimizer.lr" in bad.stderr and bad.stdout == ""


def test_train_a_transformer_from_the_command_line() -> None:
    """--family picks the plug-in; --dataset names the family's task; --set reaches any field."""
    out = train_json(
        "--family", "transformer", "--dataset", "copy", "--epochs", "2",
        "--set", "transformer.length=4", "--set", "transformer.examples=200",
        "--set", "transformer.causal=true",
    )  # fmt: skip
    spec = validate_spec(out["spec"])
    assert spec.transformer is not None and spec.transformer.causal and spec.transformer.length == 4
    assert out["steps"] == 2 * spec.steps_per_epoch() and "test_seq_acc" in out["final"]
    bad = train("--family", "transformer", "--set", "transformer.heads=3")
    assert bad.exit_code == 2 and "transformer.heads" in bad.output and "divisible" in bad.output
    assert train("--set", "nonsense").exit_code == 2


def test_train_a_cnn_from_the_command_line() -> None:
    """`backprop train --family cnn`: the image dataset by --dataset, conv layers by --set
    (JSON), the app's numbers; a kernel too large is the spec's field-level message."""
    from app.nn.training.cnn import CnnTrainer

    out = train_json(
        "--family", "cnn", "--dataset", "shapes", "--samples", "120", "--epochs", "2",
        "--set", 'cnn.conv=[{"channels": 4}]', "--set", "cnn.classes=3",
    )  # fmt: skip
    spec = validate_spec(out["spec"])
    assert spec.cnn is not None and spec.cnn.dataset == "shapes" and len(spec.cnn.conv) == 1
    assert out["final"] == CnnTrainer(spec).run()["final"]
    bad = train("--family", "cnn", "--set", 'cnn.conv=[{"kernel": 5, "padding": 0}, {"kernel": 5}]')
    assert bad.exit_code == 2 and "cnn.conv.1.kernel" in bad.output


def test_compare_transformers_trains_each_member_with_its_family(tmp_path: Path) -> None:
    """A comparison of another family's members trains each with its own trainer (the
    batched engine is for dense nets): member 0's scores are a plain transformer run's."""
    base = {
        "family": "transformer",
        "transformer": {"dataset": "copy", "length": 4, "examples": 200},
        "train": {"epochs": 2},
    }
    members = [{"optimizer": {"name": "adamw", "lr": 0.01}}, {"optimizer": {"name": "sgd"}}]
    path = tmp_path / "cmp.json"
    path.write_text(json.dumps({"base": base, "members": members}))
    result = runner.invoke(cli, ["compare", "--spec", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["mode"] == "independent"
    from app.nn.training.transformer import TransformerTrainer

    alone = validate_spec(
        {**base, "train": {**base["train"], "optimizer": members[0]["optimizer"]}}
    )
    final = TransformerTrainer(alone).run()["final"]
    assert out["members"][0]["test_acc"] == pytest.approx(final["test_acc"])
    assert out["members"][0]["train_loss"] == pytest.approx(final["train_loss"])


def test_compare_architectures_from_a_spec_file(tmp_path: Path) -> None:
    """Members with overrides (another cell) train from a --spec file; the table carries each
    member's parameter count (the networks their specs build); a bad member names its field."""
    from app.nn.families.registry import trainer_for

    base = {"family": "rnn", "rnn": {"dataset": "parity", "length": 6, "samples": 40}}
    members = [{}, {"overrides": {"rnn": {"cell": "gru"}}}]
    path = tmp_path / "cells.json"
    path.write_text(json.dumps({"base": {**base, "train": {"epochs": 1}}, "members": members}))
    result = runner.invoke(cli, ["compare", "--spec", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert [m["label"] for m in out["members"]] == ["LSTM", "GRU"]
    specs = [validate_spec({**base, "rnn": {**base["rnn"], "cell": c}}) for c in ("lstm", "gru")]
    want = [sum(p.numel() for p in trainer_for(s).model.parameters()) for s in specs]
    assert [m["params"] for m in out["members"]] == want and want[0] > want[1]
    assert out["comparison"]["members"][1]["overrides"] == {"rnn": {"cell": "gru"}}
    table = runner.invoke(cli, ["compare", "--spec", str(path)])
    assert table.exit_code == 0 and f"{want[0]:,}" in table.output
    path.write_text(json.dumps({"base": base, "members": [{}, {"overrides": {"family": "cnn"}}]}))
    bad = runner.invoke(cli, ["compare", "--spec", str(path)])
    assert bad.exit_code == 2 and "members.1.family" in bad.output
