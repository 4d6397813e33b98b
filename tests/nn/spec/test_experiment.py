"""The experiment spec: defaults, bounds from limits, field-level messages."""

import pytest
from pydantic import ValidationError

from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import validate_spec
from app.settings import Settings


def errors(data: dict, limits: Limits | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        validate_spec(data, limits)
    return {e["field"]: e["message"] for e in error_list(info.value)}


def test_empty_spec_is_valid_and_fully_resolved() -> None:
    spec = validate_spec({})
    dumped = spec.model_dump(mode="json")
    assert dumped["train"]["optimizer"] == {"name": "sgd", "lr": 0.03}
    assert set(dumped) == {"family", "seed", "data", "model", "train", "stream"}
    assert dumped["family"] == "mlp"
    assert validate_spec(dumped) == spec  # the resolved form round-trips


def test_optimizer_defaults_filled_from_registry() -> None:
    opt = validate_spec({"train": {"optimizer": {"name": "adam"}}}).train.optimizer
    assert opt.lr == 0.01
    assert opt.params() == {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "amsgrad": False}


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"model": {"layers": [{"activation": "foo"}]}}, "model.layers.0.activation", "relu"),
        ({"train": {"optimizer": {"name": "adam", "lr": 100}}}, "train.optimizer.lr", "10.0"),
        ({"train": {"optimizer": {"name": "adam", "beta9": 1}}}, "train.optimizer.beta9", "beta1"),
        ({"train": {"optimizer": {"name": "nope"}}}, "train.optimizer.name", "adamw"),
        ({"train": {"loss": "huber"}}, "train.loss", "bce"),
        ({"data": {"samples": 10**9}}, "data.samples", "5000"),
        ({"model": {"layers": [{"units": 3, "residual": True}]}}, "model.layers.0.residual", "2"),
        ({"data": {"train_fraction": 0.8, "val_fraction": 0.5}}, "data.val_fraction", "<= 1"),
        ({"train": {"schedule": {"name": "step", "gamma": 3}}}, "train.schedule.gamma", "1.0"),
        ({"train": {"early_stopping": {"patience": 3}}}, "train.early_stopping", "val_fraction"),
        ({"data": {"features": ["x1", "z"]}}, "data.features", "x1x2"),
        ({"train": {"epochs": 10000, "batch_size": 1}}, "train.epochs", "the limit is"),
    ],
)
def test_bad_specs_name_the_field_and_allowed_values(data: dict, field: str, fragment: str) -> None:
    errs = errors(data)
    assert field in errs, errs
    assert fragment in errs[field]


def test_limits_come_from_context() -> None:
    errs = errors({"model": {"layers": [{"units": 9}]}}, Limits(max_units=8))
    assert "[1, 8]" in errs["model.layers.0.units"]
    errs = errors({"model": {"layers": [{}, {}, {}]}}, Limits(max_layers=2))
    assert "at most 2" in errs["model.layers"]


def test_derived_sizes() -> None:
    spec = validate_spec({"data": {"samples": 101}, "train": {"batch_size": 20, "epochs": 3}})
    assert spec.data.sizes() == (50, 0, 51)
    assert spec.steps_per_epoch() == 3 and spec.total_steps() == 9
    big = validate_spec({"train": {"batch_size": 4000}})
    assert big.effective_batch_size() == 250 and big.steps_per_epoch() == 1


def test_a_one_d_dataset_has_no_x2_features() -> None:
    """The sine's x2 is always 0: its x2 features would be constants (issue 14)."""
    limits = Settings().limits()
    assert validate_spec({"data": {"dataset": "sine"}}, limits).data.features == ["x1"]
    picked = ["x1", "x2", "x1x2", "cos_x1", "sin_x2"]
    spec = validate_spec({"data": {"dataset": "sine", "features": picked}}, limits)
    assert spec.data.features == ["x1", "cos_x1"]
    with pytest.raises(ValidationError, match="1-D dataset has only x1"):
        validate_spec({"data": {"dataset": "sine", "features": ["x2"]}}, limits)
    assert validate_spec({}, limits).data.features == ["x1", "x2"]  # 2-D datasets keep both
