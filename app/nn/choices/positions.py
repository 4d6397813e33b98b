"""Positional encodings of the transformer family, one registry (the model builds them:
app.nn.models.transformer). Attention by itself is blind to order: without one of these a
bidirectional transformer treats its input as a bag of tokens."""

from __future__ import annotations

from dataclasses import dataclass

from app.nn.choices.registry import Entry, Registry


@dataclass(frozen=True)
class PositionInfo(Entry):
    added: bool = False  # a vector added to the token embedding (else none, or inside attention)


POSITIONS: Registry[PositionInfo] = Registry(
    "positional encoding",
    [
        PositionInfo("none", "None", "No position information: attention sees a bag of tokens."),
        PositionInfo(
            "sinusoidal",
            "Sinusoidal",
            "Fixed sines and cosines of the position at geometric frequencies, added.",
            added=True,
        ),
        PositionInfo("learned", "Learned", "One trained vector per position, added.", added=True),
        PositionInfo(
            "rope",
            "Rotary (RoPE)",
            "Queries and keys rotated by an angle proportional to their position: the "
            "attention logit depends on the offset between two positions.",
        ),
    ],
)
