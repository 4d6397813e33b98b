"""The recurrent net: stacked torch recurrent modules (nn.RNN / nn.GRU / nn.LSTM, one layer
each so that LayerNorm and dropout can sit between them) and the dense head on h_T.

Training runs torch's fused modules. What they do not expose (each step's gates, and the
gradient of the loss with respect to each hidden state h_t, which flows into h_t from the
head *and* from h_{t+1}) comes from `unroll`: the top layer recomputed one step at a time
with the same parameters, so autograd sees every h_t as its own tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from app.nn.choices.cells import CELLS
from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.models.mlp import Network, init_weights
from app.nn.spec.experiment import ModelSpec
from app.nn.spec.rnn import RnnPart

Tensor = torch.Tensor


@dataclass
class Pair:
    """A recurrent layer's input or recurrent weights with their bias, shown as one "layer"
    of the per-layer charts (gradient norm, update ratio, weight norm)."""

    weight: Tensor
    bias: Tensor


def weights(rnn: nn.Module) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A one-layer torch recurrent module's (weight_ih, weight_hh, bias_ih, bias_hh)."""
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    w_ih, w_hh, b_ih, b_hh = (getattr(rnn, name) for name in names)
    return w_ih, w_hh, b_ih, b_hh


class SeqNet(nn.Module):
    def __init__(self, n_in: int, n_out: int, part: RnnPart, head: ModelSpec) -> None:
        super().__init__()
        self.cell = CELLS[part.cell]
        self.hidden = part.hidden
        rnns: list[nn.Module] = []
        width = n_in
        for _ in range(part.layers):
            if self.cell.module == "RNN":
                rnn: nn.Module = nn.RNN(
                    width, part.hidden, nonlinearity=self.cell.nonlinearity, batch_first=True
                )
            else:
                rnn = getattr(nn, self.cell.module)(width, part.hidden, batch_first=True)
            rnns.append(rnn)
            width = part.hidden
        self.rnns = nn.ModuleList(rnns)
        norms = [nn.LayerNorm(part.hidden) if part.layer_norm else nn.Identity() for _ in rnns]
        self.norms = nn.ModuleList(norms)
        self.drop = nn.Dropout(part.dropout) if part.dropout > 0 else nn.Identity()
        self.head = Network(part.hidden, n_out, head)
        self.n_layers = part.layers

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.states(x)[-1][:, -1])

    def states(self, x: Tensor) -> list[Tensor]:
        """Each recurrent layer's hidden states (B, T, H), after its LayerNorm."""
        out = []
        h = x
        for i, (rnn, norm) in enumerate(zip(self.rnns, self.norms, strict=True)):
            if i:
                h = self.drop(h)
            h = norm(rnn(h)[0])
            out.append(h)
        return out

    def linears(self) -> list[Pair | nn.Linear]:
        """Per recurrent layer its input and recurrent weights, then the head's Linears."""
        pairs: list[Pair | nn.Linear] = []
        for rnn in self.rnns:
            w_ih, w_hh, b_ih, b_hh = weights(rnn)
            pairs += [Pair(w_ih, b_ih), Pair(w_hh, b_hh)]
        return pairs + list(self.head.linears())

    def layer_names(self) -> list[str]:
        names = []
        for i in range(self.n_layers):
            names += [f"r{i + 1}.in", f"r{i + 1}.rec"]
        return names + self.head.layer_names()


def chunk_values(net: SeqNet, rnn: nn.Module, x: Tensor, h: Tensor) -> dict[str, Tensor]:
    """One layer's gates and candidate (B, T, H) each (LSTM i, f, g, o; GRU r, z, n; none
    for a plain RNN), recomputed from its input x (B, T, In) and its hidden states h
    (B, T, H) as torch's module returned them: every chunk at step t depends on x_t and
    h_{t-1} only, so one batched pass gives all steps (no loop over time)."""
    w_ih, w_hh, b_ih, b_hh = weights(rnn)
    prev = torch.cat([h.new_zeros(h.shape[0], 1, h.shape[2]), h[:, :-1]], 1)
    gx = torch.nn.functional.linear(x, w_ih, b_ih)
    gh = torch.nn.functional.linear(prev, w_hh, b_hh)
    if net.cell.key == "lstm":
        pre_i, pre_f, pre_g, pre_o = (gx + gh).chunk(4, -1)
        return {"i": pre_i.sigmoid(), "f": pre_f.sigmoid(), "g": pre_g.tanh(), "o": pre_o.sigmoid()}
    if net.cell.key == "gru":
        xr, xz, xn = gx.chunk(3, -1)
        hr, hz, hn = gh.chunk(3, -1)
        r = (xr + hr).sigmoid()
        return {"r": r, "z": (xz + hz).sigmoid(), "n": (xn + r * hn).tanh()}
    return {}


def layer_trace(net: SeqNet, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Each recurrent layer's input and hidden states (B, T, H) before its norm, as
    `states` computes them (the output is the head's on the top layer's normed h_T)."""
    inputs, hs = [], []
    h = x
    for i, (rnn, norm) in enumerate(zip(net.rnns, net.norms, strict=True)):
        if i:
            h = net.drop(h)
        inputs.append(h)
        raw = rnn(h)[0]
        hs.append(raw)
        h = norm(raw)
    return inputs, hs


@dataclass
class Unrolled:
    hs: list[Tensor]  # the top layer's h_t (B, H) before its norm, one tensor per step
    gates: dict[str, Tensor]  # gate name -> (B, T, H) activations in [0, 1]
    out: Tensor  # the head's output on h_T (B, C)


def unroll(net: SeqNet, x: Tensor) -> Unrolled:
    """The forward pass with the top layer stepped by hand (torch's cell equations), so
    that every h_t is a separate node of the autograd graph. Same numbers as `net(x)`
    in eval mode (dropout is between layers, none after the top one)."""
    h_in = x
    for i in range(net.n_layers - 1):
        if i:
            h_in = net.drop(h_in)
        h_in = net.norms[i](net.rnns[i](h_in)[0])
    if net.n_layers > 1:
        h_in = net.drop(h_in)
    w_ih, w_hh, b_ih, b_hh = weights(net.rnns[-1])
    gx = torch.nn.functional.linear(h_in, w_ih, b_ih)  # (B, T, G*H)
    batch, steps = x.shape[0], x.shape[1]
    h = x.new_zeros(batch, net.hidden)
    c = x.new_zeros(batch, net.hidden)
    hs: list[Tensor] = []
    gates: dict[str, list[Tensor]] = {g: [] for g in net.cell.gates}
    kind = net.cell.key
    for t in range(steps):
        gh = torch.nn.functional.linear(h, w_hh, b_hh)
        if kind == "lstm":
            pre_i, pre_f, pre_g, pre_o = (gx[:, t] + gh).chunk(4, 1)
            gi, gf, go = pre_i.sigmoid(), pre_f.sigmoid(), pre_o.sigmoid()
            c = gf * c + gi * pre_g.tanh()
            h = go * c.tanh()
            step_gates = {"i": gi, "f": gf, "o": go}
        elif kind == "gru":
            xr, xz, xn = gx[:, t].chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
            h = (1 - z) * n + z * h
            step_gates = {"r": r, "z": z}
        else:
            pre = gx[:, t] + gh
            h = pre.tanh() if net.cell.nonlinearity == "tanh" else pre.relu()
            step_gates = {}
        hs.append(h)
        for name, value in step_gates.items():
            gates[name].append(value)
    last = net.norms[-1](hs[-1])
    stacked = {name: torch.stack(values, 1) for name, values in gates.items()}
    return Unrolled(hs, stacked, net.head(last))


def head_over_time(net: SeqNet, hs: list[Tensor]) -> Tensor:
    """The head applied to every h_t: what the net would answer if the sequence ended at t
    (B, T, C)."""
    return net.head(net.norms[-1](torch.stack(hs, 1)))


def init_seqnet(net: SeqNet, part: RnnPart, head: ModelSpec, generator: torch.Generator) -> None:
    """The spec's init scheme on every block of rows of the recurrent weights (one block per
    gate), then the head as the dense net's. Input blocks get the gain of the function they
    feed; recurrent blocks gain 1: the recurrence repeats the same matrix T times, and a
    gain above 1 pushes its spectrum past 1 (the "default" scheme is torch's own init)."""
    scheme = INITS[head.init]
    assert scheme.fill is not None
    scale = head.init_scale if head.init_scale is not None else scheme.default_scale
    cell = net.cell
    with torch.no_grad():
        for rnn in net.rnns:
            k = 1 / math.sqrt(net.hidden)
            names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
            for name, p in zip(names, weights(rnn), strict=True):
                if head.init == "default":  # torch's U(-1/sqrt(H), 1/sqrt(H)) for all four
                    p.uniform_(-k, k, generator=generator)
                elif name.startswith("bias"):
                    p.fill_(head.bias_init if head.bias_init is not None else 0.0)
                else:
                    for chunk, rows in zip(cell.chunks, p.chunk(len(cell.chunks), 0), strict=True):
                        fn = "sigmoid" if chunk in cell.gates else cell.nonlinearity
                        act = ACTIVATIONS[fn]
                        gain = act.gain if name == "weight_ih_l0" else 1.0
                        scheme.fill(rows, gain, act.kaiming, scale, generator)
            if cell.memory_gate:
                at = cell.chunks.index(cell.memory_gate) * net.hidden
                _, _, b_ih, b_hh = weights(rnn)
                b_ih[at : at + net.hidden] = part.forget_bias
                b_hh[at : at + net.hidden] = 0.0
    init_weights(net.head, head, generator)


def build_seqnet(n_in: int, n_out: int, part: RnnPart, head: ModelSpec, seed: int) -> SeqNet:
    net = SeqNet(n_in, n_out, part, head)
    init_seqnet(net, part, head, torch.Generator().manual_seed(seed))
    return net
