"""The convolutional spec part: defaults, limits, and shape errors naming the layer, with
torch's own conv output shapes as the oracle."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from pydantic import ValidationError

from app.nn.models.cnn import build_cnn
from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import validate_spec


def errors(data: dict[str, Any], limits: Limits | None = None) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as err:
        validate_spec(data, limits)
    return error_list(err.value)


def test_a_cnn_spec_gets_its_defaults_and_the_digits_fix_size_classes_and_count() -> None:
    spec = validate_spec({"family": "cnn", "cnn": {"size": 16, "classes": 3}})
    assert spec.cnn is not None and spec.part is spec.cnn
    assert (spec.cnn.size, spec.cnn.classes, spec.cnn.samples) == (8, 10, 1797)
    assert spec.task == "multiclass" and spec.loss_name == "ce"
    assert spec.model.layers == [] and spec.train.optimizer.name == "adam"
    assert spec.sizes() == (898, 0, 899)  # the points' default split: half to train
    # What the request says wins over the family's defaults.
    given = validate_spec({"family": "cnn", "train": {"epochs": 2}, "model": {"layers": [{}]}})
    assert given.train.epochs == 2 and len(given.model.layers) == 1
    assert validate_spec({}).cnn is None and "cnn" not in validate_spec({}).model_dump()
    dumped = spec.model_dump(mode="json")
    assert dumped["cnn"]["conv"][0]["channels"] == 8 and validate_spec(dumped) == spec
    # An optimizer without a name keeps the family's (Adam) with the given lr.
    adam = validate_spec({"family": "cnn", "train": {"optimizer": {"lr": 0.02}}})
    assert (adam.train.optimizer.name, adam.train.optimizer.lr) == ("adam", 0.02)


def test_a_kernel_larger_than_its_input_names_the_layer() -> None:
    # 8x8 -> 6x6 -> pooled 3x3 -> 1x1 -> a 3x3 kernel on 1x1
    conv = [{"channels": 4, "kernel": 3, "padding": 0, "pool": "max"}]
    conv += [{"channels": 4, "kernel": 3, "padding": 0, "pool": "none"}] * 2
    found = errors({"family": "cnn", "cnn": {"conv": conv}})
    assert found[0]["field"] == "cnn.conv.2.kernel"
    assert "conv layer 3" in found[0]["message"] and "1x1 input" in found[0]["message"]
    pooled = errors(
        {
            "family": "cnn",
            "cnn": {
                "conv": [
                    {"kernel": 1, "padding": 0, "stride": 3},
                    {"kernel": 1, "padding": 0, "stride": 3},
                ]
            },
        }
    )
    assert pooled[0]["field"] == "cnn.conv.1.pool"


def test_limits_bound_channels_kernels_and_layers() -> None:
    limits = Limits(max_channels=4, max_kernel=3, max_conv_layers=1)
    assert errors({"family": "cnn", "cnn": {"conv": [{"channels": 5}]}}, limits)[0]["field"] == (
        "cnn.conv.0.channels"
    )
    assert errors({"family": "cnn", "cnn": {"conv": [{"kernel": 5}]}}, limits)[0]["field"] == (
        "cnn.conv.0.kernel"
    )
    assert errors({"family": "cnn", "cnn": {"conv": [{}, {}]}}, limits)[0]["field"] == "cnn.conv"
    assert errors({"family": "cnn", "cnn": {"dataset": "shapes", "size": 13}})[0]["field"] == (
        "cnn.size"
    )
    assert errors({"family": "mlp", "cnn": {}})[0]["field"] == "cnn"
    assert errors({"family": "cnn", "cnn": {"conv": [{"activation": "nope"}]}})[0]["field"] == (
        "cnn.conv.0.activation"
    )


CONFIGS = [
    (8, [{"kernel": 3, "padding": 1, "stride": 1, "pool": "max"}]),
    (8, [{"kernel": 5, "padding": 0, "stride": 1, "pool": "none"}, {"kernel": 2, "padding": 0}]),
    (12, [{"kernel": 3, "padding": 2, "stride": 2, "pool": "avg"}, {"kernel": 1, "padding": 0}]),
    (16, [{"kernel": 4, "padding": 1, "stride": 3, "pool": "none"}, {"kernel": 3, "stride": 1}]),
    (16, [{"kernel": 5, "padding": 2, "stride": 1}, {"kernel": 3}, {"kernel": 3, "pool": "avg"}]),
]


@pytest.mark.parametrize(("size", "conv"), CONFIGS)
def test_the_parts_shapes_are_torchs(size: int, conv: list[dict[str, Any]]) -> None:
    dataset = "digits" if size == 8 else "shapes"
    spec = validate_spec({"family": "cnn", "cnn": {"dataset": dataset, "size": size, "conv": conv}})
    assert spec.cnn is not None
    net = build_cnn(spec.cnn, spec.cnn.classes, spec.model, 0)
    maps, out = net.feature_maps(torch.zeros(2, 1, size, size))
    pooled = [m.shape[1:] for m in maps]
    shapes = spec.cnn.feature_shapes()
    for (c, h, w), block, m in zip(shapes, net.blocks, maps, strict=True):
        assert block.pool(m).shape[1:] == (c, h, w)  # type: ignore[operator]
    assert len(pooled) == len(conv) and out.shape == (2, spec.cnn.classes)


def test_a_cnn_spec_round_trips_through_its_url_form() -> None:
    from app.nn.spec.url import from_query, to_query

    assert to_query(validate_spec({"family": "cnn"})) == {"fam": "cnn"}
    spec = validate_spec(
        {
            "family": "cnn",
            "cnn": {
                "dataset": "shapes_shifted",
                "size": 16,
                "conv": [{"channels": 4}],
                "augment": {"shift": 2},
            },
            "model": {"layers": [{"units": 4}, {"units": 2}]},
            "train": {"optimizer": {"name": "adam", "lr": 0.005}},
        }
    )
    query = to_query(spec)
    assert validate_spec(from_query(query)) == spec
    assert set(query) == {"fam", "cnn", "cnn.conv", "cnn.augment", "l", "lr"}
    assert query["cnn"] == "dataset:shapes_shifted,size:16,classes:4,samples:1000"
    with pytest.raises(ValueError, match=r"cnn\.conv"):
        from_query({"fam": "cnn", "cnn.conv": "[1"})
