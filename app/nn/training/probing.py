"""The diagnostics hook: what the panel's probe (app/nn/diagnose/probe.py) asks of a trainer.

Every family's trainer answers three questions, so that the probe never names a model:
  probe_names()      the weight layers' names, in `trainer.weights` order (the step
                     record's `grad_w` / `update_ratio` order); the last one is the output
                     layer whose gradient the others are compared with
  probe_trace(x)     an eval-mode forward pass that keeps its activations (a `Trace`), keyed
                     by the family's own layer names
  probe_loss(out, y) the data loss the optimizer minimises, on that output
and says how many examples the live panel may probe (`probe_examples`).

`DenseProbe` answers for nets with `forward_trace`, `linears()` and `layer_specs` (the MLP's
`Network`, the CNN's `ConvNet`); `Trainer` inherits it. The recurrent and transformer
trainers override it (app/nn/training/sequences.py, transformer.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

Tensor = torch.Tensor


@dataclass
class Site:
    """One place where activations are read: (rows, units), every unit a column, and the
    function that made them (an ACTIVATIONS key: it decides the saturation test; "linear"
    for values no single function bounds)."""

    values: Tensor
    activation: str


@dataclass
class Trace:
    """One forward pass as the probe sees it. A site named like a weight layer fills that
    layer's row of the panel (a Linear's row shows the activation after it); any other site
    (an RNN's gates, its hidden states) gets a row of its own."""

    sites: dict[str, Site]
    out: Tensor
    # Per weight layer that a forward hook can see: (its input, its output), for the
    # per-point sign agreement; empty when the family has no such layers.
    linear_io: list[tuple[Tensor, Tensor]] = field(default_factory=list)
    # Per attention block: its softmax weights (B, heads, T, T), and the entropy of a
    # uniform spread over the keys a query may see (log T; less when causal), averaged.
    attention: list[Tensor] = field(default_factory=list)
    attention_max_entropy: float = 0.0


class _Dense(Protocol):
    """What DenseProbe reads of the trainer it is mixed into (Trainer keeps its own types)."""

    model: Any
    spec: Any
    loss_fn: Any

    def probe_names(self) -> list[str]: ...


class DenseProbe:
    """The hook for a dense net or a CNN: `forward_trace` calls each module, so forward
    hooks on each weight layer catch its inputs and outputs (the fused hot path would not)."""

    # The most examples the live panel probes (None: the panel's own cap). A sequence is
    # T rows of every activation: 512 of them cost a frame ~100-150 ms, 32 ~10-20 ms.
    probe_examples: int | None = None

    def probe_names(self: _Dense) -> list[str]:
        names: list[str] = self.model.layer_names()
        return names

    def probe_trace(self: _Dense, x: Tensor) -> Trace:
        seen: list[tuple[Tensor, Tensor]] = []

        def hook(module: torch.nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            seen.append((inputs[0], output))

        handles = [lin.register_forward_hook(hook) for lin in self.model.linears()]
        try:
            acts, out = self.model.forward_trace(x)
        finally:
            for handle in handles:
                handle.remove()
        names = self.probe_names()
        sites = {
            names[i]: Site(a, layer.activation)
            for i, (a, layer) in enumerate(zip(acts, self.model.layer_specs, strict=True))
        }
        return Trace(sites, out, linear_io=seen)

    def probe_loss(self: _Dense, out: Tensor, y: Tensor) -> Tensor:
        t = self.spec.train
        loss: Tensor = self.loss_fn(out, y, t.label_smoothing, t.huber_delta)
        return loss
