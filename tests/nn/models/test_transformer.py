"""The hand-written attention against torch's own (nn.MultiheadAttention and
F.scaled_dot_product_attention), and the properties the lessons rely on: causal masking,
rotary offsets, and order-blindness without positions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from app.nn.measure.attention import attention_maps, pack, unpack
from app.nn.models.transformer import (
    Attention,
    TransformerConfig,
    build_transformer,
    rope_angles,
    rotate,
    sinusoidal_table,
)


def config(**over: object) -> TransformerConfig:
    base = {"vocab": 11, "seq_len": 7, "d_model": 16, "heads": 4, "blocks": 2, "ffn": 24}
    return TransformerConfig(**{**base, **over})  # type: ignore[arg-type]


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_multihead_attention(causal: bool) -> None:
    torch.manual_seed(0)
    cfg = config(causal=causal, positions="none")
    ours = Attention(cfg)
    ours.keep = True
    theirs = nn.MultiheadAttention(cfg.d_model, cfg.heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.out.weight)
        theirs.out_proj.bias.copy_(ours.out.bias)
    x = torch.randn(3, cfg.seq_len, cfg.d_model)
    mask = nn.Transformer.generate_square_subsequent_mask(cfg.seq_len) if causal else None
    want, want_maps = theirs(x, x, x, attn_mask=mask, average_attn_weights=False)
    got = ours(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert ours.maps is not None
    torch.testing.assert_close(ours.maps, want_maps, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_rope_attention_matches_sdpa_on_rotated_queries_and_keys(causal: bool) -> None:
    torch.manual_seed(1)
    cfg = config(causal=causal, positions="rope")
    ours = Attention(cfg)
    x = torch.randn(2, cfg.seq_len, cfg.d_model)
    b, t, h, dh = 2, cfg.seq_len, cfg.heads, cfg.d_model // cfg.heads
    q, k, v = (x @ ours.qkv.weight.T + ours.qkv.bias).view(b, t, 3, h, dh).permute(2, 0, 3, 1, 4)
    cos, sin = rope_angles(t, dh)
    y = F.scaled_dot_product_attention(
        rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=causal
    )
    want = ours.out(y.transpose(1, 2).reshape(b, t, cfg.d_model))
    torch.testing.assert_close(ours(x), want, rtol=1e-5, atol=1e-6)


def test_rope_logits_depend_only_on_the_offset() -> None:
    torch.manual_seed(2)
    q, k = torch.randn(8), torch.randn(8)
    cos, sin = rope_angles(20, 8)

    def logit(m: int, n: int) -> float:
        return float(rotate(q, cos[m], sin[m]) @ rotate(k, cos[n], sin[n]))

    assert logit(3, 1) == pytest.approx(logit(12, 10), abs=1e-5)
    assert logit(5, 5) == pytest.approx(float(q @ k), abs=1e-5)
    assert logit(3, 1) != pytest.approx(logit(3, 2), abs=1e-3)


def test_sinusoidal_table_is_the_formula() -> None:
    table = sinusoidal_table(9, 6)
    for pos in range(9):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert float(table[pos, 2 * i]) == pytest.approx(math.sin(angle), abs=1e-6)
            assert float(table[pos, 2 * i + 1]) == pytest.approx(math.cos(angle), abs=1e-6)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_causal_outputs_ignore_later_tokens(norm: str) -> None:
    net = build_transformer(config(causal=True, norm=norm, positions="learned"), seed=3)
    a = torch.randint(0, 11, (1, 7))
    b = a.clone()
    b[0, 4:] = (b[0, 4:] + 1) % 11
    out_a, out_b = net(a), net(b)
    torch.testing.assert_close(out_a[:, :4], out_b[:, :4])
    assert not torch.allclose(out_a[:, 4:], out_b[:, 4:])


def test_without_positions_an_encoder_is_blind_to_order() -> None:
    """Permuting the input permutes the output: reversal cannot be learned (the lesson
    positional-encoding, concept 32)."""
    for positions in ("none", "sinusoidal"):
        net = build_transformer(config(positions=positions), seed=4)
        x = torch.randint(0, 11, (2, 7))
        perm = torch.tensor([6, 5, 4, 3, 2, 1, 0])
        equivariant = torch.allclose(net(x)[:, perm], net(x[:, perm]), atol=1e-5)
        assert equivariant == (positions == "none")


def test_maps_are_rows_of_probabilities_and_survive_packing() -> None:
    net = build_transformer(config(causal=True), seed=5)
    maps, logits = attention_maps(net, torch.randint(0, 11, (3, 7)))
    assert maps.shape == (2, 3, 4, 7, 7) and logits.shape == maps.shape
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 3, 4, 7))
    assert float(maps.triu(1).abs().max()) == 0.0  # no weight on later tokens
    packed = pack(maps, 0.0, 1.0)
    assert len(packed["b64"]) <= 4 * maps.numel() / 3 + 4  # one byte per weight, in base64
    assert float((unpack(packed) - maps).abs().max()) <= 0.5 / 255 + 1e-6
    assert net.training  # the read-out put it back in training mode


def test_same_seed_same_network() -> None:
    a, b = build_transformer(config(), 7), build_transformer(config(), 7)
    for (na, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb), na
