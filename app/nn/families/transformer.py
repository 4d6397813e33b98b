"""The transformer family: a tiny transformer on token tasks (app.nn.models.transformer,
app.nn.data.tokens), with its attention maps as the live view."""

from __future__ import annotations

from typing import Any

from app.nn.export.transformer import export_transformer
from app.nn.families.base import Family
from app.nn.training.transformer import TransformerTrainer


def live_snapshot(trainer: Any, size: int, neurons: bool) -> dict[str, Any]:
    """The maps need no grid: `size` and `neurons` (the MLP's pictures) do not apply."""
    snap: dict[str, Any] = trainer.snapshot()
    return snap


TRANSFORMER = Family(
    "transformer",
    "Transformer",
    "Self-attention blocks (heads, positional encodings, pre/post-LN, causal or not).",
    data="token sequences (reverse, sort, copy, max, modular addition, a short text)",
    trainer=TransformerTrainer,
    export=export_transformer,
    live_snapshot=live_snapshot,
    views=("attention", "charts", "diagnostics"),
    dense_head=False,
)
