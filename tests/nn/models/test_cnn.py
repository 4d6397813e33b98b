"""The conv net builder against a hand-written functional forward pass (torch.nn.functional
with the same weights), and its init's fan-in counting the kernel."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from app.nn.models.cnn import ConvBlock, as_units, build_cnn
from app.nn.spec.experiment import validate_spec


def spec_of(conv: list[dict[str, object]], layers: list[dict[str, object]] | None = None):  # type: ignore[no-untyped-def]
    return validate_spec(
        {"family": "cnn", "cnn": {"conv": conv}, "model": {"layers": layers or []}}
    )


def test_forward_is_conv_act_pool_then_dense_by_hand() -> None:
    spec = spec_of(
        [
            {"channels": 3, "kernel": 3, "padding": 1, "pool": "max", "activation": "relu"},
            {
                "channels": 5,
                "kernel": 2,
                "stride": 2,
                "padding": 0,
                "pool": "none",
                "activation": "tanh",
            },
        ],
        [{"units": 7, "activation": "sigmoid"}],
    )
    assert spec.cnn is not None
    net = build_cnn(spec.cnn, 10, spec.model, seed=1)
    net.eval()
    x = torch.rand(4, 1, 8, 8)
    c1, c2 = net.convs()
    h = F.max_pool2d(F.relu(F.conv2d(x, c1.weight, c1.bias, 1, 1)), 2)
    h = torch.tanh(F.conv2d(h, c2.weight, c2.bias, 2, 0))
    dense = net.blocks[2].linear  # type: ignore[union-attr]
    h = torch.sigmoid(F.linear(h.flatten(1), dense.weight, dense.bias))
    want = F.linear(h, net.head.weight, net.head.bias)
    assert torch.allclose(net(x), want, atol=1e-6)
    acts, out = net.forward_trace(x)
    assert torch.allclose(out, want, atol=1e-6)
    assert [tuple(a.shape) for a in acts] == [(4 * 64, 3), (4 * 4, 5), (4, 7)]
    assert net.layer_names() == ["conv1", "conv2", "h1", "out"]
    assert len(net.linears()) == 4


def test_batchnorm_and_avg_pool_follow_torch_modules() -> None:
    spec = spec_of([{"channels": 4, "batchnorm": True, "pool": "avg", "activation": "elu"}])
    assert spec.cnn is not None
    net = build_cnn(spec.cnn, 10, spec.model, seed=2)
    block = net.blocks[0]
    assert isinstance(block, ConvBlock)
    x = torch.randn(6, 1, 8, 8)
    net.train()
    z = F.conv2d(x, block.linear.weight, block.linear.bias, 1, 1)
    mean, var = z.mean((0, 2, 3), keepdim=True), z.var((0, 2, 3), unbiased=False, keepdim=True)
    a = F.elu((z - mean) / torch.sqrt(var + 1e-5))
    want = F.linear(F.avg_pool2d(a, 2).flatten(1), net.head.weight, net.head.bias)
    assert torch.allclose(net(x), want, atol=1e-5)


def test_kaiming_init_counts_the_kernel_in_the_fan_in() -> None:
    spec = validate_spec(
        {
            "family": "cnn",
            "model": {"layers": [], "init": "kaiming_normal"},
            "cnn": {"conv": [{"channels": 32, "kernel": 5, "padding": 2}]},
        }
    )
    assert spec.cnn is not None
    w = build_cnn(spec.cnn, 10, spec.model, seed=0).convs()[0].weight
    want = math.sqrt(2) / math.sqrt(1 * 5 * 5)  # relu gain / sqrt(in·k·k)
    assert abs(float(w.detach().std()) - want) / want < 0.1
    first = build_cnn(spec.cnn, 10, spec.model, seed=0).convs()[0].weight
    assert torch.equal(first, w)


def test_as_units_makes_channels_the_columns() -> None:
    a = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    rows = as_units(a)
    assert rows.shape == (8, 3) and torch.equal(
        rows[:, 1].sort().values, a[:, 1].flatten().sort().values
    )
