"""What the transformer's live views show, measured on the model: attention maps, the scale
of the attention logits, the positional-encoding matrix, the token embeddings in 2-D, and
sampled continuations.

Pictures travel as uint8 (0..255 over [lo, hi]) in base64: a 4-block, 4-head map of a
16-token input is 4 KB of bytes, ~5.5 KB as text, where JSON floats would take ~25 KB.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import torch

from app.nn.models.transformer import Transformer

Tensor = torch.Tensor


def pack(values: Tensor, lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """Values as uint8 over [lo, hi] (default: their own range), base64, with the shape."""
    v = values.detach().float()
    finite = v[torch.isfinite(v)]
    lo = float(finite.min()) if lo is None and finite.numel() else (lo or 0.0)
    hi = float(finite.max()) if hi is None and finite.numel() else (hi if hi is not None else 1.0)
    span = hi - lo if hi > lo else 1.0
    q = ((v.nan_to_num(lo, hi, lo) - lo) / span * 255).round().clamp(0, 255).to(torch.uint8)
    return {
        "shape": list(v.shape),
        "lo": lo,
        "hi": hi,
        "b64": base64.b64encode(q.numpy().tobytes()).decode("ascii"),
    }


def unpack(packed: dict[str, Any]) -> Tensor:
    """The inverse of `pack` to 1/255 of the range (tests and the exported script use it)."""
    raw = bytearray(base64.b64decode(packed["b64"]))
    q = torch.frombuffer(raw, dtype=torch.uint8).float().reshape(packed["shape"])
    return packed["lo"] + q / 255 * (packed["hi"] - packed["lo"])


@torch.no_grad()
def attention_maps(model: Transformer, tokens: Tensor) -> tuple[Tensor, Tensor]:
    """(maps, logits) of every block for a batch of inputs: (blocks, B, heads, T, T) each,
    in eval mode (no dropout)."""
    was = model.training
    model.eval()
    layers = model.attentions()
    for attn in layers:
        attn.keep = True
    try:
        model(tokens)
        maps = torch.stack([a.maps for a in layers if a.maps is not None])
        logits = torch.stack([a.logits for a in layers if a.logits is not None])
    finally:
        for attn in layers:
            attn.keep, attn.maps, attn.logits = False, None, None
        model.train(was)
    return maps, logits


def entropy(p: Tensor) -> Tensor:
    """Entropy in nats along the last dimension (0 log 0 = 0)."""
    return -(p * p.clamp_min(1e-12).log()).sum(-1)


def logit_scale(model: Transformer, logits: Tensor) -> dict[str, Any]:
    """Per block and head: the spread of the attention logits as used, and the mean entropy of
    each query's attention with and without the 1/sqrt(d_head) factor. Without it the
    logits grow with d_head and softmax saturates to one key (entropy near 0), where its
    gradient vanishes."""
    d_head = model.cfg.d_model // model.cfg.heads
    factor = math.sqrt(d_head)
    used = 1.0 if model.cfg.scaled else factor  # what turns the used logits into unscaled ones
    finite = torch.isfinite(logits)
    raw = torch.where(finite, logits, torch.zeros(()))
    n = finite.sum((-1, -2, 1)).clamp_min(1)  # (blocks, heads): finite entries
    mean = raw.sum((-1, -2, 1)) / n
    var = ((raw - mean[:, None, :, None, None]) ** 2 * finite).sum((-1, -2, 1)) / n
    unscaled = (logits * used).softmax(-1)
    scaled = (logits * used / factor).softmax(-1)
    return {
        "d_head": d_head,
        "scaled": model.cfg.scaled,
        "std": var.sqrt().tolist(),
        "entropy_scaled": entropy(scaled).mean((1, 3)).tolist(),
        "entropy_unscaled": entropy(unscaled).mean((1, 3)).tolist(),
        "max_weight": logits.softmax(-1).amax(-1).mean((1, 3)).tolist(),
    }


@torch.no_grad()
def embeddings_2d(model: Transformer) -> dict[str, Any]:
    """The token embeddings projected on their first two principal axes."""
    w = model.embed.weight.detach().double()
    centred = w - w.mean(0)
    _, s, v = torch.linalg.svd(centred, full_matrices=False)
    xy = centred @ v[:2].T
    total = float((s**2).sum())
    return {
        "xy": [[round(float(a), 4), round(float(b), 4)] for a, b in xy],
        "explained": [float(x**2) / total if total > 0 else 0.0 for x in s[:2]],
    }


@torch.no_grad()
def sample(
    model: Transformer, prompt: Tensor, steps: int, temperature: float, g: torch.Generator
) -> list[int]:
    """Continue `prompt` (1-D ids) by `steps` tokens: greedy at temperature 0, else drawn
    from softmax(logits / T). The context slides when it outgrows the model's length."""
    was = model.training
    model.eval()
    ids = prompt.tolist()
    window = model.cfg.seq_len
    for _ in range(steps):
        logits = model(torch.tensor([ids[-window:]]))[0, -1]
        if temperature <= 0:
            ids.append(int(logits.argmax()))
        else:
            probs = (logits.double() / temperature).softmax(-1)
            ids.append(int(torch.multinomial(probs, 1, generator=g)))
    model.train(was)
    return ids[len(prompt) :]
