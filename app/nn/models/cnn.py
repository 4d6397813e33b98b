"""Build a convolutional network from a spec: conv blocks, the dense head, weight init.

The network answers the same questions as the MLP's `Network` (app/nn/models/mlp.py), so
the shared trainer, meters and diagnostics work on it unchanged: `linears()` lists every
weight layer (the convs, then the dense layers, then the head), `forward_trace` gives one
activation per hidden layer as (rows, units): a conv layer's channels are its units and
every pixel of every image a row, so a dead channel is one that is zero everywhere.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.models.mlp import Block
from app.nn.spec.cnn import CnnPart, ConvLayerSpec
from app.nn.spec.experiment import LayerSpec, ModelSpec

Tensor = torch.Tensor
POOLS = {
    "max": lambda: nn.MaxPool2d(2),
    "avg": lambda: nn.AvgPool2d(2),
    "global_max": lambda: nn.AdaptiveMaxPool2d(1),
    "global_avg": lambda: nn.AdaptiveAvgPool2d(1),
}


class ConvBlock(nn.Module):
    """Conv2d -> BatchNorm2d -> activation -> 2x2 pool -> dropout."""

    def __init__(self, c_in: int, layer: ConvLayerSpec) -> None:
        super().__init__()
        self.linear = nn.Conv2d(c_in, layer.channels, layer.kernel, layer.stride, layer.padding)
        self.norm = nn.BatchNorm2d(layer.channels) if layer.batchnorm else nn.Identity()
        act = ACTIVATIONS[layer.activation]
        assert act.make is not None
        self.act = act.make()
        self.pool = POOLS[layer.pool]() if layer.pool in POOLS else nn.Identity()
        self.drop = nn.Dropout(layer.dropout) if layer.dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.pool(self.act(self.norm(self.linear(x)))))

    def maps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(feature maps after the activation (N, C, H, W), block output)."""
        a = self.act(self.norm(self.linear(x)))
        return a, self.drop(self.pool(a))


def as_units(a: Tensor) -> Tensor:
    """(N, C, H, W) -> (N*H*W, C): channels as units, each pixel of each image a row."""
    return a.permute(0, 2, 3, 1).reshape(-1, a.shape[1])


class ConvNet(nn.Module):
    def __init__(self, part: CnnPart, n_out: int, spec: ModelSpec) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        c_in = 1
        for layer in part.conv:
            convs.append(ConvBlock(c_in, layer))
            c_in = layer.channels
        width = part.flat_width()
        dense: list[nn.Module] = []
        for dense_layer in spec.layers:
            dense.append(Block(width, dense_layer))
            width = dense_layer.units
        self.n_conv = len(convs)
        self.blocks = nn.ModuleList(convs + dense)
        self.head = nn.Linear(width, n_out)
        self.layer_specs: list[ConvLayerSpec | LayerSpec] = [*part.conv, *spec.layers]
        self.image_size = part.size

    def forward(self, x: Tensor) -> Tensor:
        for i, block in enumerate(self.blocks):
            if i == self.n_conv:
                x = x.flatten(1)
            x = block(x)
        if self.n_conv == len(self.blocks):
            x = x.flatten(1)
        return self.head(x)

    def feature_maps(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Each conv layer's maps (N, C, H, W) after its activation, and the output."""
        maps = []
        for block in self.blocks[: self.n_conv]:
            assert isinstance(block, ConvBlock)
            a, x = block.maps(x)
            maps.append(a)
        x = x.flatten(1)
        for block in self.blocks[self.n_conv :]:
            x = block(x)
        return maps, self.head(x)

    def forward_trace(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Per hidden layer activations as (rows, units), and the output."""
        acts = []
        for i, block in enumerate(self.blocks):
            if i < self.n_conv:
                assert isinstance(block, ConvBlock)
                a, x = block.maps(x)
                acts.append(as_units(a))
                continue
            if i == self.n_conv:
                x = x.flatten(1)
            assert isinstance(block, Block)
            a, x = block.forward_trace(x)
            acts.append(a)
        if self.n_conv == len(self.blocks):
            x = x.flatten(1)
        return acts, self.head(x)

    def linears(self) -> list[nn.Conv2d | nn.Linear]:
        """The weight layers in order: convs, dense layers, head (one gradient norm each)."""
        layers: list[nn.Conv2d | nn.Linear] = [b.linear for b in self.blocks]  # type: ignore[misc]
        return [*layers, self.head]

    def convs(self) -> list[nn.Conv2d]:
        return [b.linear for b in self.blocks[: self.n_conv]]  # type: ignore[misc]

    def layer_names(self) -> list[str]:
        n_dense = len(self.blocks) - self.n_conv
        return (
            [f"conv{i + 1}" for i in range(self.n_conv)]
            + [f"h{i + 1}" for i in range(n_dense)]
            + ["out"]
        )


def init_weights(net: ConvNet, spec: ModelSpec, generator: torch.Generator) -> None:
    """The spec's init scheme on every weight layer. A conv weight (out, in, k, k) is filled
    as the (out, in·k·k) matrix it multiplies patches with, so fan-in counts the kernel."""
    scheme = INITS[spec.init]
    assert scheme.fill is not None
    scale = spec.init_scale if spec.init_scale is not None else scheme.default_scale
    activations = [layer.activation for layer in net.layer_specs] + ["linear"]
    with torch.no_grad():
        for layer, act_key in zip(net.linears(), activations, strict=True):
            act = ACTIVATIONS[act_key]
            matrix = layer.weight.view(layer.weight.shape[0], -1)
            scheme.fill(matrix, act.gain, act.kaiming, scale, generator)
            assert layer.bias is not None
            if spec.bias_init is not None:
                layer.bias.fill_(spec.bias_init)
            elif spec.init == "default":
                bound = 1 / math.sqrt(matrix.shape[1])
                layer.bias.uniform_(-bound, bound, generator=generator)
            else:
                layer.bias.zero_()


def build_cnn(part: CnnPart, n_out: int, spec: ModelSpec, seed: int) -> ConvNet:
    net = ConvNet(part, n_out, spec)
    init_weights(net, spec, torch.Generator().manual_seed(seed))
    return net
