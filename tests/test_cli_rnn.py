"""`backprop train --family rnn`: the sequence flags reach the recurrent part, the numbers
are the engine's, and bad values exit 2 with the spec's field message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.nn.compare.sweep import SWEEP_LENGTHS
from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec

runner = CliRunner()


def test_train_a_gru_on_parity_from_flags() -> None:
    args = ["--family", "rnn", "--dataset", "parity", "--samples", "80", "--length", "6"]
    args += ["--cell", "gru", "--hidden", "5", "--epochs", "2", "--seed", "3", "--json"]
    result = runner.invoke(cli, ["train", *args])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    part = out["spec"]["rnn"]
    assert (part["dataset"], part["samples"], part["length"], part["cell"]) == (
        "parity",
        80,
        6,
        "gru",
    )
    spec = validate_spec(out["spec"])
    assert out["final"] == trainer_for(spec).run()["final"]
    assert "train_acc" in out["final"]


def test_bad_sequence_flags_exit_2_with_the_field() -> None:
    result = runner.invoke(cli, ["train", "--family", "rnn", "--length", "999"])
    assert result.exit_code == 2 and "rnn.length: 999 is out of range" in result.output
    result = runner.invoke(cli, ["train", "--cell", "gru"])  # an MLP spec has no rnn part
    assert result.exit_code == 2 and "rnn:" in result.output


def test_compare_a_length_sweep_preset_prints_where_each_model_fails(tmp_path: Path) -> None:
    """`backprop compare --preset length-sweep` on a recurrent base: the engine's sweep over
    T, each model's score at every length and the first it fails at (the rule re-applied
    to the members' own rows)."""
    base = {"family": "rnn", "seed": 1, "rnn": {"samples": 40, "hidden": 3}, "train": {"epochs": 1}}
    path = tmp_path / "base.json"
    path.write_text(json.dumps(base))
    result = runner.invoke(
        cli, ["compare", "--spec", str(path), "--preset", "length-sweep", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    sweep, rows = out["sweep"], {r["member"]: r for r in out["members"]}
    assert sweep["lengths"] == list(SWEEP_LENGTHS)
    assert [s["label"] for s in sweep["outcome"]] == ["RNN (tanh)", "LSTM"]
    for series in sweep["outcome"]:
        mses = [rows[p["member"]]["test_rmse"] ** 2 for p in series["points"]]
        assert [p["score"] for p in series["points"]] == pytest.approx(mses)
        bad = [t for t, m in zip(sweep["lengths"], mses, strict=True) if m > sweep["chance"] / 2]
        assert series["fails_at"] == (bad[0] if bad else None)
    text = runner.invoke(cli, ["compare", "--spec", str(path), "--preset", "length-sweep"])
    assert "fails at" in text.output and "T=100" in text.output
    mlp = runner.invoke(cli, ["compare", "--preset", "cells"])
    assert mlp.exit_code == 2 and "recurrent bases" in mlp.output
