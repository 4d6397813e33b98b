"""K copies of one MLP as a single (K, n) parameter tensor, run in one batched pass (baddbmm).

Each row is one member's parameters, laid out as `Network.linears()` flattened (weight, stored
transposed, then bias, layer by layer), so a row converts to and from a `Network` exactly. One flat
tensor keeps per-step Python overhead flat in K: one backward, one optimizer update per
optimizer family, and per-layer norms for every member from one matmul.

Supported: any activation, residual skips, dropout (one mask per step shared by all members,
which is the mask each would draw alone from the same seed). Not supported: BatchNorm and
LayerNorm (their parameters and running statistics are per layer, not per row); such specs
train sequentially (see compare.py).
"""

from __future__ import annotations

import itertools

import torch

from app.nn.choices.layers import ACTIVATIONS
from app.nn.models.mlp import Network
from app.nn.spec.experiment import ModelSpec

Tensor = torch.Tensor


def unsupported_reason(spec: ModelSpec) -> str:
    """Why this model cannot run stacked ("" when it can)."""
    for i, layer in enumerate(spec.layers):
        if layer.norm != "none":
            return f"layer {i + 1} uses {layer.norm} norm"
    return ""


class StackedMLP:
    """The architecture of a plain MLP, applied to stacked parameter rows."""

    def __init__(self, n_in: int, n_out: int, spec: ModelSpec) -> None:
        reason = unsupported_reason(spec)
        if reason:
            raise ValueError(f"cannot stack this model: {reason}")
        self.n_in, self.n_out, self.spec = n_in, n_out, spec
        widths = [n_in, *(layer.units for layer in spec.layers), n_out]
        self.shapes = [(o, i) for i, o in itertools.pairwise(widths)]
        self.sizes = [s for o, i in self.shapes for s in (o * i, o)]
        self.n = sum(self.sizes)
        makers = [ACTIVATIONS[layer.activation].make for layer in spec.layers]
        # Bound forward methods: the same math without nn.Module call overhead.
        self.acts = [make().forward for make in makers if make is not None]
        self.dropout = [layer.dropout for layer in spec.layers]
        self.residual = [layer.residual for layer in spec.layers]
        n_lin = len(self.shapes)
        # segments[:, j]: 1 on the entries of weight j (j < L) or of bias j - L.
        self.segments = torch.zeros(self.n, 2 * n_lin)
        self.weight_mask = torch.zeros(self.n)
        start = 0
        for j, (o, i) in enumerate(self.shapes):
            self.segments[start : start + o * i, j] = 1
            self.weight_mask[start : start + o * i] = 1
            start += o * i
            self.segments[start : start + o, n_lin + j] = 1
            start += o
        # ... and a last column of ones: the total over all parameters.
        self.segments_total = torch.cat([self.segments, torch.ones(self.n, 1)], 1)

    def views(self, p: Tensor) -> list[tuple[Tensor, Tensor]]:
        """(weight (K, in, out) = W transposed, bias (K, 1, out)) per Linear; views into p.

        Rows store each weight transposed so that baddbmm takes the views as they are:
        fewer autograd nodes per step than transposing on the fly."""
        parts = torch.split(p, self.sizes, dim=1)
        k = p.shape[0]
        return [
            (parts[2 * j].view(k, i, o), parts[2 * j + 1].view(k, 1, o))
            for j, (o, i) in enumerate(self.shapes)
        ]

    def weights(self, p: Tensor) -> list[Tensor]:
        """Weights as Linear holds them: (K, out, in)."""
        return [w.transpose(1, 2) for w, _ in self.views(p)]

    def forward(self, p: Tensor, x: Tensor, gen: torch.Generator | None = None) -> Tensor:
        """(K, B, n_out) outputs for a shared (B, n_in) batch; dropout on when gen is given."""
        layers = self.views(p)
        h = x.expand(p.shape[0], *x.shape)
        for j, (w, b) in enumerate(layers[:-1]):
            a = self.acts[j](torch.baddbmm(b, h, w))
            drop = self.dropout[j]
            if gen is not None and drop > 0:
                # The mask a lone Network would draw: same shape, same generator stream.
                mask = torch.empty(a.shape[1:]).bernoulli_(1 - drop, generator=gen)
                a = a * mask.div_(1 - drop)
            h = h + a if self.residual[j] else a
        w, b = layers[-1]
        return torch.baddbmm(b, h, w)

    def trace(self, p: Tensor, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Eval mode: per hidden layer activations (K, N, units) and the output."""
        layers = self.views(p)
        h = x.expand(p.shape[0], *x.shape)
        acts = []
        for j, (w, b) in enumerate(layers[:-1]):
            a = self.acts[j](torch.baddbmm(b, h, w))
            acts.append(a)
            h = h + a if self.residual[j] else a
        w, b = layers[-1]
        return acts, torch.baddbmm(b, h, w)

    def row(self, net: Network) -> Tensor:
        """A Network's parameters as one flat row."""
        parts = [t.detach() for lin in net.linears() for t in (lin.weight.T, lin.bias)]
        return torch.cat([t.reshape(-1) for t in parts])

    def network(self, row: Tensor) -> Network:
        """An ordinary Network holding this row's parameters."""
        net = Network(self.n_in, self.n_out, self.spec)
        parts = torch.split(row.detach(), self.sizes)
        with torch.no_grad():
            for j, lin in enumerate(net.linears()):
                lin.weight.copy_(parts[2 * j].view(lin.in_features, lin.out_features).T)
                lin.bias.copy_(parts[2 * j + 1])
        return net
