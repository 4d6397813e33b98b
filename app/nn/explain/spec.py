"""What the backprop explorer shows: a tiny network, a few points of a dataset, one step.

`ExplainSpec` is small on purpose (2 inputs, 1-2 hidden layers of 1-4 units, a batch of 1-4
points): every number of the forward and backward pass fits on one screen. It maps onto an
ordinary experiment spec, so the weights, the data and the loss are exactly the playground's
for the same seed, dataset, init and activation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.choices.losses import LOSSES
from app.nn.data.points import DATASETS
from app.nn.spec.experiment import Spec, validate_spec

# Optimizers whose update the explorer writes out formula by formula (explain/update.py).
EXPLAINED_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
SAMPLES = 200  # points generated; the batch is taken from the training half


class ExplainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field("xor", description="dataset key")
    hidden: list[int] = Field(
        default_factory=lambda: [3], min_length=1, max_length=2, description="units per layer"
    )
    activation: str = Field("sigmoid", description="activation key, every hidden layer")
    loss: str = Field("auto", description="loss key; auto follows the task")
    init: str = Field("xavier_uniform", description="weight init key")
    optimizer: Literal["sgd", "momentum", "nesterov", "rmsprop", "adam"] = "sgd"
    lr: float = Field(0.5, gt=0.0, le=10.0)
    batch: int = Field(1, ge=1, le=4, description="points in the mini-batch")
    point: int = Field(0, ge=0, lt=SAMPLES // 2, description="first point of the batch")
    warmup: int = Field(0, ge=0, le=20, description="steps taken before the one shown")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("hidden")
    @classmethod
    def _units(cls, v: list[int]) -> list[int]:
        if any(not 1 <= u <= 4 for u in v):
            raise ValueError(f"each hidden layer has 1 to 4 units, got {v}")
        return v

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        if v not in DATASETS or v == "custom":
            raise ValueError(DATASETS.unknown_message(v))
        return v

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        return ACTIVATIONS.valid(v)

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: str) -> str:
        return LOSSES.valid(v)

    @field_validator("init")
    @classmethod
    def _init(cls, v: str) -> str:
        return INITS.valid(v)

    def experiment(self) -> Spec:
        """The playground experiment with the same data, weights and loss (raises
        pydantic's ValidationError for a combination it refuses, e.g. BCE on regression)."""
        data: dict[str, Any] = {
            "seed": self.seed,
            "data": {
                "dataset": self.dataset,
                "samples": SAMPLES,
                "train_fraction": 0.5,
                "features": ["x1", "x2"],
            },
            "model": {
                "layers": [{"units": u, "activation": self.activation} for u in self.hidden],
                "init": self.init,
            },
            "train": {
                "optimizer": {"name": self.optimizer, "lr": self.lr},
                "loss": self.loss,
                "batch_size": self.batch,
            },
        }
        return validate_spec(data)
