"""32 positional-encoding (and 31): without positions a bidirectional transformer cannot
reverse a sequence; with sinusoidal positions it can, and a head attends to the mirrored
position (the anti-diagonal of its map)."""

from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.measure.attention import attention_maps
from app.nn.training.transformer import TransformerTrainer

CLAIMS = (
    Claim("blind_never_whole", 0, "no positions: validation sequence accuracy < 0.05"),
    Claim("blind_third", 0, "no positions: validation token accuracy between 0.2 and 0.5"),
    Claim("positions_reverse", 1, "sinusoidal: validation sequence accuracy >= 0.95"),
    Claim("head_mirrors", 2, "sinusoidal: some head's mean weight on position L-1-i > 0.6"),
)


def mirror_weight(trainer: TransformerTrainer) -> float:
    """The largest mean attention weight, over blocks and heads, that output slot i gives to
    input slot L - 1 - i on validation examples."""
    maps, _ = attention_maps(trainer.net, trainer.data.val.x[:256])
    length = maps.shape[-1]
    slots = torch.arange(length)
    return float(maps[..., slots, slots.flip(0)].mean((1, 3)).max())


def measure(seed: int | None = None) -> dict[str, Any]:
    runs = run_lesson("positional-encoding", seed)
    out = {}
    for label, run in runs.items():
        assert isinstance(run.trainer, TransformerTrainer)
        out[label] = {
            "seq": run.final["val_seq_acc"],
            "acc": run.final["val_acc"],
            "mirror": mirror_weight(run.trainer),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    blind, pos = m["no positions"], m["sinusoidal"]
    return {
        "blind_never_whole": outcome(blind["seq"] < 0.05, "{:.3f}", blind["seq"]),
        "blind_third": outcome(0.2 <= blind["acc"] <= 0.5, "{:.3f}", blind["acc"]),
        "positions_reverse": outcome(pos["seq"] >= 0.95, "{:.3f}", pos["seq"]),
        "head_mirrors": outcome(pos["mirror"] > 0.6, "{:.2f}", pos["mirror"]),
    }
