"""The recurrent family's spec part: defaults, limits with field-level messages, the head."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import validate_spec
from app.nn.spec.rnn import MAX_BATCH_CELLS, RnnPart
from app.settings import Settings


def errors(data: dict[str, Any], limits: Limits | None = None) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as err:
        validate_spec(data, limits)
    return error_list(err.value)


def test_the_rnn_family_gets_its_part_its_task_sizes_and_a_one_linear_head() -> None:
    spec = validate_spec({"family": "rnn", "data": {"train_fraction": 0.6, "val_fraction": 0.2}})
    assert spec.part == RnnPart() and spec.task == "regression"  # the adding problem
    assert spec.sizes() == (600, 200, 200) and spec.model.layers == []
    parity = validate_spec({"family": "rnn", "rnn": {"dataset": "parity"}})
    assert parity.task == "binary" and parity.loss_name == "bce"
    copy = validate_spec({"family": "rnn", "rnn": {"dataset": "copy"}, "model": {"init": "normal"}})
    assert copy.task == "multiclass" and copy.model.layers == [] and copy.model.init == "normal"
    head = validate_spec({"family": "rnn", "model": {"layers": [{"units": 3}]}})
    assert [layer.units for layer in head.model.layers] == [3]
    assert [layer.units for layer in validate_spec({}).model.layers] == [4, 2]  # the MLP's


def test_bad_choices_and_limits_name_their_field() -> None:
    assert errors({"family": "rnn", "rnn": {"cell": "transformer"}})[0]["field"] == "rnn.cell"
    assert (
        "allowed: rnn_tanh, rnn_relu, gru, lstm"
        in errors({"family": "rnn", "rnn": {"cell": "x"}})[0]["message"]
    )
    assert errors({"family": "rnn", "rnn": {"dataset": "mnist"}})[0]["field"] == "rnn.dataset"
    assert errors({"family": "rnn", "rnn": {"length": 201}}) == [
        {"field": "rnn.length", "message": "201 is out of range [1, 200]"}
    ]
    assert errors({"family": "rnn", "rnn": {"layers": 5}})[0]["field"] == "rnn.layers"
    assert errors({"family": "rnn", "rnn": {"hidden": 129}})[0]["field"] == "rnn.hidden"
    assert errors({"family": "rnn", "rnn": {"dataset": "adding", "length": 1}}) == [
        {"field": "rnn.length", "message": "the Adding problem task needs T >= 2 (got 1)"}
    ]
    assert errors({"family": "rnn", "train": {"loss": "ce"}})[0]["field"] == "train.loss"
    assert errors({"family": "mlp", "rnn": {}})[0]["field"] == "rnn"


def test_demo_caps_bound_length_layers_and_hidden_size() -> None:
    demo = Settings(demo=True).limits()
    assert (demo.max_seq_len, demo.max_rnn_layers, demo.max_units) == (100, 2, 32)
    over = errors({"family": "rnn", "rnn": {"length": 150, "layers": 3, "hidden": 64}}, demo)
    assert {e["field"] for e in over} == {"rnn.length", "rnn.layers", "rnn.hidden"}
    assert validate_spec({"family": "rnn", "rnn": {"length": 100, "layers": 2}}, demo)


def test_a_training_step_too_big_for_memory_is_refused_with_the_product() -> None:
    spec = {
        "family": "rnn",
        "rnn": {"samples": 5000, "length": 200, "hidden": 128, "layers": 4},
        "train": {"batch_size": 100},
    }
    [err] = errors(spec)
    assert err["field"] == "train.batch_size" and str(MAX_BATCH_CELLS) in err["message"]
    assert "100 x T 200 x hidden 128 x layers 4 = 10240000" in err["message"]
    spec["train"] = {"batch_size": 50}
    assert validate_spec(spec).effective_batch_size() == 50
