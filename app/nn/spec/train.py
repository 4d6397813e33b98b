"""The spec's training and streaming parts, the same for every model family: optimizer,
schedule, loss, batches, epochs, regularisers (TrainSpec) and what the stream shows
(StreamSpec). app.nn.spec.experiment composes them into the Spec."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from app.nn.choices.losses import LOSSES
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.registry import FieldError
from app.nn.choices.schedules import SCHEDULES
from app.nn.spec.base import _bounded, _limits, _Model, _short


class _Named(BaseModel):
    """A {name, ...params} object whose params come from a registry entry."""

    model_config = ConfigDict(extra="allow")
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class OptimizerSpec(_Named):
    name: str = Field("sgd", description="optimizer key")
    lr: float = Field(0.03, description="base learning rate")

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        name = data.pop("name", "sgd")
        if not isinstance(name, str) or name not in OPTIMIZERS:
            raise FieldError("name", OPTIMIZERS.unknown_message(name))
        entry = OPTIMIZERS[name]
        lr = data.pop("lr", None)
        limits = _limits(info)
        if lr is None:
            lr = entry.default_lr
        try:
            if isinstance(lr, bool):  # JSON true is not the number 1 (PATCH refuses it too)
                raise TypeError
            lr = float(lr)
        except (TypeError, ValueError, OverflowError):
            raise FieldError("lr", f"expected a number, got {_short(lr)}") from None
        if not limits.min_lr <= lr <= limits.max_lr:
            raise FieldError("lr", f"{lr} is out of range [{limits.min_lr}, {limits.max_lr}]")
        return {"name": name, "lr": lr, **entry.resolve_params(data)}


class ScheduleSpec(_Named):
    name: str = Field("constant", description="lr schedule key")

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        name = data.pop("name", "constant")
        if not isinstance(name, str) or name not in SCHEDULES:
            raise FieldError("name", SCHEDULES.unknown_message(name))
        return {"name": name, **SCHEDULES[name].resolve_params(data)}


class GradClipSpec(_Model):
    mode: str = Field(
        "norm", pattern="^(norm|value)$", description="clip the global norm or each value"
    )
    max: float = Field(1.0, gt=0.0, le=1e6, description="the threshold")


class EarlyStoppingSpec(_Model):
    patience: int = Field(10, ge=1, le=10000, description="epochs without val improvement")
    min_delta: float = Field(0.0, ge=0.0, le=10.0, description="smallest improvement that counts")


class TrainSpec(_Model):
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    loss: str = Field("auto", description="loss key; auto follows the task")
    label_smoothing: float = Field(0.0, ge=0.0, le=0.5, description="for cross-entropy")
    huber_delta: float = Field(1.0, gt=0.0, le=100.0, description="for the Huber loss")
    batch_size: int = Field(10, description="samples per step; capped at the training set")
    epochs: int = Field(100, description="passes over the training set")
    until_paused: bool = Field(
        False,
        description="train until paused or stopped, up to the epoch and step caps "
        "(epochs is set to the cap; the page's Play does this)",
    )
    l1: float = Field(0.0, ge=0.0, le=10.0, description="L1 penalty: l1·Σ|w|")
    l2: float = Field(0.0, ge=0.0, le=10.0, description="L2 penalty: l2/2·Σw² (gradient l2·w)")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="decoupled: w -= lr·wd·w")
    grad_clip: GradClipSpec | None = None
    early_stopping: EarlyStoppingSpec | None = None
    input_noise: float = Field(0.0, ge=0.0, le=5.0, description="std of noise added to inputs")

    @field_validator("batch_size")
    @classmethod
    def _bs(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_batch_size))

    @field_validator("epochs")
    @classmethod
    def _epochs(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_epochs))

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: str) -> str:
        return LOSSES.valid(v)


class StreamSpec(_Model):
    eval_every: int = Field(
        0, ge=0, le=100000, description="steps between evaluations; 0 = once per epoch"
    )
    grid_size: int = Field(64, ge=8, description="decision-boundary grid resolution")
    neuron_grids: bool = Field(True, description="per-neuron output pictures for small nets")
    pace: float = Field(
        0.0,
        ge=0.0,
        le=1e6,
        description="at most this many epochs per second, so training can be watched "
        "(0 = as fast as the engine goes); changes live",
    )

    @field_validator("grid_size")
    @classmethod
    def _grid(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 8, _limits(info).max_grid))
