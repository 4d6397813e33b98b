"""The recurrent family's spec part (`spec.rnn`): the sequence task and the recurrent net.

The dense head after the last hidden state is `spec.model.layers` (empty by default for
this family: one Linear reads h_T), trained by `spec.train` like any other family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from app.nn.choices.cells import CELLS
from app.nn.choices.registry import FieldError
from app.nn.data.sequences import SEQ_TASKS
from app.nn.spec.base import Limits, _bounded, _limits
from app.nn.spec.family_part import FamilyPart

if TYPE_CHECKING:
    from app.nn.spec.experiment import Spec


MAX_BATCH_CELLS = 1 << 23  # batch x T x hidden x layers of one training step (~340 MB)


class RnnPart(FamilyPart):
    data_fields: ClassVar[tuple[str, ...]] = ("dataset", "length", "samples", "noise")
    bare_head: ClassVar[bool] = True  # Spec: no dense head layers unless asked (one Linear)
    dataset: str = Field("adding", description="which sequence task")
    length: int = Field(20, description="sequence length T (time steps)")
    samples: int = Field(1000, description="sequences generated (all splits)")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="input noise of the task, 0..1")
    cell: str = Field("lstm", description="rnn_tanh | rnn_relu | gru | lstm")
    hidden: int = Field(32, description="units of the hidden state")
    layers: int = Field(1, description="stacked recurrent layers")
    layer_norm: bool = Field(False, description="LayerNorm on each layer's hidden states")
    dropout: float = Field(0.0, ge=0.0, le=0.9, description="dropout between recurrent layers")
    forget_bias: float = Field(
        1.0,
        ge=-5.0,
        le=5.0,
        description="initial bias of the LSTM forget gate (GRU: update gate); 1 keeps the "
        "past at init, 0 halves it at every step",
    )

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        return SEQ_TASKS.valid(v)

    @field_validator("cell")
    @classmethod
    def _cell(cls, v: str) -> str:
        return CELLS.valid(v)

    @field_validator("length")
    @classmethod
    def _length(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_seq_len))

    @field_validator("samples")
    @classmethod
    def _samples(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 10, _limits(info).max_samples))

    @field_validator("hidden")
    @classmethod
    def _hidden(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_units))

    @field_validator("layers")
    @classmethod
    def _layers(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_rnn_layers))

    def task(self) -> str:
        return SEQ_TASKS[self.dataset].task

    def n_examples(self) -> int:
        return self.samples

    def check(self, spec: Spec, limits: Limits) -> None:
        info = SEQ_TASKS[self.dataset]
        if self.length < info.min_length:
            raise FieldError(
                "rnn.length",
                f"the {info.label} task needs T >= {info.min_length} (got {self.length})",
            )
        # A training step holds ~10 floats per (sequence, step, unit, layer) for autograd:
        # the batch's share of that is what bounds the worker's memory.
        cells = spec.effective_batch_size() * self.length * self.hidden * self.layers
        if cells > MAX_BATCH_CELLS:
            raise FieldError(
                "train.batch_size",
                f"batch {spec.effective_batch_size()} x T {self.length} x hidden {self.hidden} "
                f"x layers {self.layers} = {cells} values per step; the limit is "
                f"{MAX_BATCH_CELLS} (lower one of them)",
            )
