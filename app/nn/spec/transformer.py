"""The transformer family's spec part: the token task it trains on and the network's shape.

`spec.data`'s train / validation fractions split the task's examples; `spec.model` (the MLP's
dense layers) is not used by this family. Bounds come from `Limits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.nn.choices.positions import POSITIONS
from app.nn.choices.registry import FieldError
from app.nn.data.tokens import TASKS, TaskSize, n_examples, seq_length
from app.nn.spec.base import Limits, _bounded, _limits
from app.nn.spec.family_part import FamilyPart

if TYPE_CHECKING:
    from app.nn.spec.experiment import Spec

FFN_ACTIVATIONS = ("relu", "gelu", "tanh", "silu")  # app.nn.models.transformer.ACTIVATIONS


class TransformerPart(FamilyPart):
    data_fields: ClassVar[tuple[str, ...]] = ("dataset", "length", "symbols", "modulus", "examples")
    # What a transformer run trains with unless the spec says otherwise (Spec fills these
    # into `train` before validation): AdamW and batches of 32, the usual for attention.
    train_defaults: ClassVar[dict[str, Any]] = {
        "optimizer": {"name": "adamw", "lr": 0.003},
        "batch_size": 32,
        "epochs": 30,
    }

    dataset: str = Field("reverse", description="token task (reverse, sort, copy, max, ...)")
    length: int = Field(8, description="input sequence length (text: context window)")
    symbols: int = Field(10, ge=2, le=64, description="distinct input symbols")
    modulus: int = Field(23, ge=3, le=97, description="p of the modular-addition task")
    examples: int = Field(2000, description="examples generated (all splits)")
    positions: str = Field("sinusoidal", description="none | sinusoidal | learned | rope")
    blocks: int = Field(2, description="transformer blocks")
    heads: int = Field(2, description="attention heads per block")
    d_model: int = Field(32, description="width of the residual stream")
    ffn: int = Field(64, description="hidden width of each block's feed-forward layer")
    activation: str = Field("gelu", description="the feed-forward activation")
    norm: Literal["pre", "post"] = Field("pre", description="LayerNorm before or after the add")
    causal: bool = Field(False, description="decoder (causal mask) or encoder (bidirectional)")
    dropout: float = Field(0.0, ge=0.0, le=0.5, description="on attention maps and sublayers")
    scaled: bool = Field(True, description="divide attention logits by sqrt(d_head)")

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        return TASKS.valid(v)

    @field_validator("positions")
    @classmethod
    def _positions(cls, v: str) -> str:
        return POSITIONS.valid(v)

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        if v not in FFN_ACTIVATIONS:
            raise ValueError(f"unknown activation {v!r}; allowed: {', '.join(FFN_ACTIVATIONS)}")
        return v

    @field_validator("length")
    @classmethod
    def _length(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 2, _limits(info).max_token_len))

    @field_validator("examples")
    @classmethod
    def _examples(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 10, _limits(info).max_samples))

    @field_validator("blocks")
    @classmethod
    def _blocks(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_blocks))

    @field_validator("heads")
    @classmethod
    def _heads(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_heads))

    @field_validator("d_model")
    @classmethod
    def _d_model(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 16, _limits(info).max_d_model))

    @field_validator("ffn")
    @classmethod
    def _ffn(cls, v: int, info: ValidationInfo) -> int:
        return int(_bounded(v, 1, _limits(info).max_ffn))

    def size(self) -> TaskSize:
        return TaskSize(self.length, self.symbols, self.modulus, self.examples)

    def seq_len(self) -> int:
        return seq_length(self.dataset, self.length, self.causal)

    def task(self) -> str:
        return "multiclass"

    def n_examples(self) -> int:
        return n_examples(self.dataset, self.size())

    def check(self, spec: Spec, limits: Limits) -> None:
        if self.d_model % self.heads:
            raise FieldError(
                "transformer.heads",
                f"d_model ({self.d_model}) must be divisible by the number of heads "
                f"({self.heads}): each head gets d_model / heads dimensions",
            )
        if self.positions == "rope" and (self.d_model // self.heads) % 2:
            raise FieldError(
                "transformer.positions",
                f"RoPE rotates pairs of dimensions: d_model / heads "
                f"({self.d_model // self.heads}) must be even",
            )
        if self.dataset == "text" and not self.causal:
            raise FieldError(
                "transformer.causal",
                "next-character prediction needs causal attention (an encoder would read "
                "the character it must predict)",
            )
        if self.dataset == "modadd" and self.modulus**2 > limits.max_samples:
            raise FieldError(
                "transformer.modulus",
                f"modular addition uses all p² = {self.modulus**2} pairs; the limit is "
                f"{limits.max_samples} examples",
            )
        if spec.train.input_noise:
            raise FieldError("train.input_noise", "tokens take no input noise; set it to 0")
