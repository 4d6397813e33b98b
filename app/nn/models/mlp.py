"""Build a torch.nn.Module from a model spec: hidden blocks, output head, weight init."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.spec.experiment import LayerSpec, ModelSpec

Tensor = torch.Tensor


class Block(nn.Module):
    """Linear -> norm -> activation -> dropout, plus the input when residual."""

    def __init__(self, n_in: int, layer: LayerSpec) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, layer.units)
        norm = NORMS[layer.norm]
        act = ACTIVATIONS[layer.activation]
        assert norm.make is not None and act.make is not None
        self.norm = norm.make(layer.units)
        self.act = act.make()
        self.drop = nn.Dropout(layer.dropout) if layer.dropout > 0 else nn.Identity()
        self.residual = layer.residual

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_trace(x)[1]

    def forward_trace(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(activation output before dropout/skip, block output)."""
        a = self.act(self.norm(self.linear(x)))
        h = self.drop(a)
        return a, (x + h if self.residual else h)


class Network(nn.Module):
    def __init__(self, n_in: int, n_out: int, spec: ModelSpec) -> None:
        super().__init__()
        blocks = []
        width = n_in
        for layer in spec.layers:
            blocks.append(Block(width, layer))
            width = layer.units
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(width, n_out)
        self.layer_specs = list(spec.layers)

    def forward(self, x: Tensor) -> Tensor:
        # Each parameter is registered once, so state_dict() has one key per tensor
        # (blocks.<i>.linear/norm.*, head.*); the training hot path uses fast_forward.
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def forward_trace(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Per hidden layer activations and the output."""
        acts = []
        for block in self._blocks():
            a, x = block.forward_trace(x)
            acts.append(a)
        return acts, self.head(x)

    def linears(self) -> list[nn.Linear]:
        """Hidden layers' Linear modules then the head: the network diagram's edges."""
        return [block.linear for block in self._blocks()] + [self.head]

    def _blocks(self) -> list[Block]:
        return [b for b in self.blocks if isinstance(b, Block)]

    def layer_names(self) -> list[str]:
        return [f"h{i + 1}" for i in range(len(self.blocks))] + ["out"]


def fast_forward(net: Network) -> Callable[[Tensor], Tensor]:
    """The same math as `net(x)` without nn.Module call overhead, for the training hot path.

    Every module call costs ~1-2 us, a large share of a tiny net's step. Forward hooks do
    not fire here, and the parameter tensors are captured: in-place loads (load_state_dict)
    are seen, a Parameter replaced by a new object is not (rebuild then)."""
    plan: list[tuple[tuple[Callable[[Tensor], Tensor], ...], bool]] = []
    for block in net._blocks():
        lin = block.linear
        fns: list[Callable[[Tensor], Tensor]] = [
            partial(F.linear, weight=lin.weight, bias=lin.bias)
        ]
        fns += [m.forward for m in (block.norm, block.act, block.drop) if not _identity(m)]
        plan.append((tuple(fns), block.residual))
    head = partial(F.linear, weight=net.head.weight, bias=net.head.bias)
    if not any(residual for _, residual in plan):
        flat: tuple[Callable[[Tensor], Tensor], ...] = (*(f for fns, _ in plan for f in fns), head)

        def plain(x: Tensor) -> Tensor:
            for fn in flat:
                x = fn(x)
            return x

        return plain

    def with_skips(x: Tensor) -> Tensor:
        for fns, residual in plan:
            h = x
            for fn in fns:
                h = fn(h)
            x = x + h if residual else h
        return head(x)

    return with_skips


def _identity(module: nn.Module) -> bool:
    return type(module) is nn.Identity


def batch_norm_problem(net: nn.Module, n_train: int, batch_size: int) -> str:
    """Why this net cannot train with these batches ("" if it can): torch's BatchNorm
    needs 2+ samples per training batch, and a last partial batch of 1 counts too."""
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    if not has_bn or (batch_size > 1 and n_train % batch_size != 1):
        return ""
    return (
        f"train.batch_size: batch norm needs at least 2 samples in every batch; batch size "
        f"{batch_size} with {n_train} training points leaves a batch of 1 (change the batch "
        f"size or the samples, or use layer norm)"
    )


def init_weights(net: Network, spec: ModelSpec, generator: torch.Generator) -> None:
    """Apply the init scheme to every Linear (gain from the activation that follows it)."""
    scheme = INITS[spec.init]
    assert scheme.fill is not None
    scale = spec.init_scale if spec.init_scale is not None else scheme.default_scale
    activations = [layer.activation for layer in spec.layers] + ["linear"]
    with torch.no_grad():
        for linear, act_key in zip(net.linears(), activations, strict=True):
            act = ACTIVATIONS[act_key]
            scheme.fill(linear.weight, act.gain, act.kaiming, scale, generator)
            if spec.bias_init is not None:
                linear.bias.fill_(spec.bias_init)
            elif spec.init == "default":
                bound = 1 / math.sqrt(linear.weight.shape[1])
                linear.bias.uniform_(-bound, bound, generator=generator)
            else:
                linear.bias.zero_()


def build_model(n_in: int, n_out: int, spec: ModelSpec, seed: int) -> Network:
    net = Network(n_in, n_out, spec)
    init_weights(net, spec, torch.Generator().manual_seed(seed))
    return net
