"""The spec's building blocks: limits, the strict base model, bounded numbers, errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from app.nn.choices.registry import FieldError


@dataclass(frozen=True)
class Limits:
    """Upper bounds a spec must respect (settings override them; demo mode lowers them)."""

    max_layers: int = 16
    max_units: int = 128
    max_samples: int = 5000
    max_epochs: int = 10000
    max_steps: int = 1_000_000
    max_batch_size: int = 5000
    min_lr: float = 1e-6
    max_lr: float = 10.0
    max_grid: int = 128
    max_seq_len: int = 200  # recurrent family: time steps T
    max_rnn_layers: int = 4  # recurrent family: stacked recurrent layers
    # The transformer family (app/nn/spec/transformer.py).
    max_token_len: int = 32  # input sequence length
    max_blocks: int = 4
    max_heads: int = 4
    max_d_model: int = 128
    max_ffn: int = 512
    max_conv_layers: int = 4  # convolutional family (app/nn/spec/cnn.py)
    max_channels: int = 32
    max_kernel: int = 5

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _limits(info: ValidationInfo) -> Limits:
    ctx = info.context or {}
    limits = ctx.get("limits") if isinstance(ctx, dict) else None
    return limits if isinstance(limits, Limits) else Limits()


NUMBER_TYPES = (int, float, float | None, int | None)


def _short(value: Any) -> str:
    """repr() of what a client sent, cut short (an integer may have hundreds of digits)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**24 else "a huge integer"
    return text if len(text) <= 40 else text[:40] + "..."


def _bounded(value: float, lo: float, hi: float, what: str = "") -> float:
    if not lo <= value <= hi:
        raise ValueError(f"{what}{value} is out of range [{lo}, {hi}]")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        # JSON true is not the number 1, though pydantic's lax mode reads it so.
        name = info.field_name or ""
        if isinstance(v, bool) and cls.model_fields[name].annotation in NUMBER_TYPES:
            raise ValueError(f"expected a number, got {v!r}")
        return v


def error_list(exc: ValidationError) -> list[dict[str, str]]:
    """Flatten a ValidationError into [{field, message}] with full dotted field paths."""
    out = []
    for err in exc.errors():
        path = [str(p) for p in err["loc"]]
        message = err["msg"]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            if cause.field:
                path.append(cause.field)
            message = cause.message
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.append({"field": ".".join(path) or "spec", "message": message})
    return out


def error_text(exc: ValidationError) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in error_list(exc))
