"""`backprop train --family rnn`: the sequence flags reach the recurrent part, the numbers
are the engine's, and bad values exit 2 with the spec's field message."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli import cli
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
