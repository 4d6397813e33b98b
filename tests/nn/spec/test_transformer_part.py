"""The transformer part of a spec: defaults (AdamW), bounds from Limits and field-level
errors for shapes that cannot be built."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import validate_spec
from app.nn.spec.url import from_query, to_query


def errors(data: dict[str, Any], limits: Limits | None = None) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as err:
        validate_spec({"family": "transformer", **data}, limits)
    return error_list(err.value)


def test_defaults_and_the_familys_optimizer() -> None:
    spec = validate_spec({"family": "transformer"})
    assert spec.transformer is not None and spec.transformer.dataset == "reverse"
    assert spec.task == "multiclass" and spec.train.optimizer.name == "adamw"
    assert spec.sizes() == (1000, 0, 1000)
    # an lr without a name keeps AdamW; a named optimizer is the spec's own
    assert (
        validate_spec(
            {"family": "transformer", "train": {"optimizer": {"lr": 0.01}}}
        ).train.optimizer.name
        == "adamw"
    )
    named = validate_spec({"family": "transformer", "train": {"optimizer": {"name": "sgd"}}})
    assert named.train.optimizer.name == "sgd" and named.train.optimizer.lr == 0.03
    assert validate_spec({}).train.optimizer.name == "sgd"  # the MLP's defaults stay


@pytest.mark.parametrize(
    ("part", "field", "words"),
    [
        ({"d_model": 30, "heads": 4}, "transformer.heads", "divisible"),
        ({"d_model": 20, "heads": 4, "positions": "rope"}, "transformer.positions", "even"),
        ({"dataset": "text"}, "transformer.causal", "causal"),
        ({"dataset": "modadd", "modulus": 97}, "transformer.modulus", "limit"),
        ({"length": 33}, "transformer.length", "out of range"),
        ({"d_model": 8}, "transformer.d_model", "out of range"),
        ({"blocks": 5}, "transformer.blocks", "out of range"),
        ({"heads": 0}, "transformer.heads", "out of range"),
        ({"positions": "alibi"}, "transformer.positions", "allowed: none, sinusoidal"),
        ({"dataset": "translate"}, "transformer.dataset", "allowed: reverse"),
        ({"activation": "sigmoid"}, "transformer.activation", "allowed: relu"),
        ({"norm": "middle"}, "transformer.norm", "pre"),
    ],
)
def test_field_level_errors(part: dict[str, Any], field: str, words: str) -> None:
    found = errors({"transformer": part})
    assert found[0]["field"] == field and words in found[0]["message"], found


def test_limits_bound_the_shape_and_other_fields_are_checked() -> None:
    small = Limits(max_d_model=32, max_token_len=8)
    assert errors({"transformer": {"d_model": 64}}, small)[0]["field"] == "transformer.d_model"
    assert errors({"transformer": {"length": 9}}, small)[0]["field"] == "transformer.length"
    assert errors({"train": {"input_noise": 0.1}})[0]["field"] == "train.input_noise"
    assert errors({"cnn": {}})[0]["field"] in ("cnn", "spec")
    assert errors({"train": {"loss": "bce"}})[0]["field"] == "train.loss"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"family": "transformer"},
        {
            "family": "transformer",
            "transformer": {"dataset": "text", "causal": True, "positions": "rope"},
        },
        {"family": "transformer", "train": {"optimizer": {"name": "adamw", "lr": 0.01}}},
        {"family": "transformer", "train": {"optimizer": {"name": "sgd"}, "epochs": 7}},
    ],
)
def test_the_compact_url_form_round_trips(data: dict[str, Any]) -> None:
    spec = validate_spec(data)
    query = to_query(spec)
    assert validate_spec(from_query(query)) == spec
    assert ("fam" in query) == (spec.family != "mlp")


def test_a_part_in_a_link_needs_its_family() -> None:
    assert from_query({"fam": "transformer", "transformer": "heads:4"})["transformer"] == {
        "heads": "4"
    }
    with pytest.raises(ValidationError, match="no transformer part"):
        validate_spec(from_query({"transformer": "heads:4"}))
