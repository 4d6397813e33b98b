"""A small transformer written out, so that its attention maps can be read.

torch's own layers (nn.MultiheadAttention, F.scaled_dot_product_attention) return fused
results; here every head's softmax(Q K^T / sqrt(d_k)) is a tensor the live view and the
lessons can look at, and the tests check the arithmetic against torch's layers.

This module imports torch and the standard library only: the exported script
(app.nn.export.transformer) carries its source verbatim, so the script and the app build
the same network from the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

Tensor = torch.Tensor
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


@dataclass(frozen=True)
class TransformerConfig:
    vocab: int
    seq_len: int
    d_model: int = 32
    heads: int = 2
    blocks: int = 2
    ffn: int = 64
    activation: str = "gelu"
    positions: str = "sinusoidal"  # none | sinusoidal | learned | rope
    norm: str = "pre"  # pre | post: LayerNorm before each sublayer, or after the residual add
    causal: bool = False
    dropout: float = 0.0
    scaled: bool = True  # divide the attention logits by sqrt(d_k)


def sinusoidal_table(length: int, d: int) -> Tensor:
    """(length, d): sin at even dimensions, cos at odd ones, wavelengths 2pi .. 10000*2pi."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    table = torch.zeros(length, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return table


def rope_angles(length: int, d_head: int) -> tuple[Tensor, Tensor]:
    """cos and sin, (length, d_head / 2), of position x frequency for rotary encodings."""
    freq = 10000.0 ** (-torch.arange(0, d_head, 2, dtype=torch.float32) / d_head)
    angles = torch.arange(length, dtype=torch.float32).unsqueeze(1) * freq
    return angles.cos(), angles.sin()


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate each pair (x[i], x[i + d/2]) of the last dimension by its position's angle."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


class Attention(nn.Module):
    """Multi-head self-attention that keeps its last maps when `keep` is set."""

    cos: Tensor  # buffers (RoPE angles; the causal mask)
    sin: Tensor
    mask: Tensor

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.heads, self.d_head = cfg.heads, cfg.d_model // cfg.heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.causal, self.rope = cfg.causal, cfg.positions == "rope"
        self.scale = 1 / math.sqrt(self.d_head) if cfg.scaled else 1.0
        if self.rope:
            cos, sin = rope_angles(cfg.seq_len, self.d_head)
            self.register_buffer("cos", cos, persistent=False)
            self.register_buffer("sin", sin, persistent=False)
        mask = torch.ones(cfg.seq_len, cfg.seq_len).triu(1).bool()
        self.register_buffer("mask", mask, persistent=False)
        self.keep = False
        self.maps: Tensor | None = None  # (B, heads, T, T) softmax weights, when kept
        self.logits: Tensor | None = None  # the scaled logits before the mask, when kept

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.d_head).permute(2, 0, 3, 1, 4)
        if self.rope:
            q = rotate(q, self.cos[:t], self.sin[:t])
            k = rotate(k, self.cos[:t], self.sin[:t])
        logits = (q @ k.transpose(-1, -2)) * self.scale
        if self.causal:
            logits = logits.masked_fill(self.mask[:t, :t], float("-inf"))
        maps = logits.softmax(-1)
        if self.keep:
            self.maps, self.logits = maps.detach(), logits.detach()
        y = (self.drop(maps) @ v).transpose(1, 2).reshape(b, t, d)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.pre = cfg.norm == "pre"
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.ffn1 = nn.Linear(cfg.d_model, cfg.ffn)
        self.act = ACTIVATIONS[cfg.activation]()
        self.ffn2 = nn.Linear(cfg.ffn, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def ffn(self, x: Tensor) -> Tensor:
        return self.ffn2(self.act(self.ffn1(x)))

    def forward(self, x: Tensor) -> Tensor:
        if self.pre:  # the residual stream is never normalised: gradients reach every block
            x = x + self.drop(self.attn(self.ln1(x)))
            return x + self.drop(self.ffn(self.ln2(x)))
        x = self.ln1(x + self.drop(self.attn(x)))
        return self.ln2(x + self.drop(self.ffn(x)))


class Transformer(nn.Module):
    """Token embedding + positions, `blocks` blocks, (pre-LN: a final LayerNorm), a linear
    head giving every position's logits over the vocabulary: (B, T) ids -> (B, T, vocab)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.d_model)
        if cfg.positions == "learned":
            self.pos = nn.Parameter(torch.randn(cfg.seq_len, cfg.d_model))
        elif cfg.positions == "sinusoidal":
            self.register_buffer("pos", sinusoidal_table(cfg.seq_len, cfg.d_model), False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.blocks))
        self.norm = nn.LayerNorm(cfg.d_model) if cfg.norm == "pre" else nn.Identity()
        self.head = nn.Linear(cfg.d_model, cfg.vocab)

    def positions(self) -> Tensor | None:
        """The (seq_len, d_model) vectors added to the embeddings, None for none / RoPE."""
        pos = getattr(self, "pos", None)
        return pos if isinstance(pos, Tensor) else None

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.embed(tokens)
        pos = self.positions()
        if pos is not None:
            x = x + pos[: tokens.shape[1]]
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def block_list(self) -> list[Block]:
        return [block for block in self.blocks if isinstance(block, Block)]

    def attentions(self) -> list[Attention]:
        return [block.attn for block in self.block_list()]


def build_transformer(cfg: TransformerConfig, seed: int) -> Transformer:
    """The network initialised from `seed` alone (torch's default inits; the global RNG is
    left as it was)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return Transformer(cfg)
