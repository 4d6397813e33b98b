"""How healthy a set of activations is: dead units, saturation, attention spread.

Shared by the evaluation's per-layer health (app.nn.measure.metrics) and the diagnostics
panel, which reads every family's activation sites (app.nn.training.probing) with them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from app.nn.choices.layers import ACTIVATIONS

Tensor = torch.Tensor
DEAD_EPS = 1e-6  # |activation| below this on every sample = a dead unit


def dead_fraction(values: Tensor) -> float:
    """Share of units (columns of (rows, units)) that are ~0 on every row."""
    return float((values.abs().amax(0) <= DEAD_EPS).float().mean())


def saturated_fraction(values: Tensor, activation: str) -> float:
    """Share of values on the flat ends of their function (tanh, sigmoid); 0 for functions
    without flat ends."""
    saturated = ACTIVATIONS[activation].saturated if activation in ACTIVATIONS else None
    return float(saturated(values).float().mean()) if saturated else 0.0


def attention_health(maps: Tensor, max_entropy: float) -> list[dict[str, Any]]:
    """Per head of one block's softmax weights (B, heads, T, T): the mean entropy of a
    query's weights in nats (max_entropy = uniform over the keys it may see; near 0 = every
    query looks at one key), that entropy over max_entropy, and the mean largest weight."""
    p = maps.double()
    ent = -(p * p.clamp_min(1e-30).log()).sum(-1).mean((0, 2))  # (heads,)
    peak = p.amax(-1).mean((0, 2))
    rows = []
    for h in range(p.shape[1]):
        e = float(ent[h])
        rows.append(
            {
                "head": h + 1,
                "entropy": e,
                "max_entropy": max_entropy,
                "spread": e / max_entropy if max_entropy > 0 else math.nan,
                "peak": float(peak[h]),
            }
        )
    return rows
