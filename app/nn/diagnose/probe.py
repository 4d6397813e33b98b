"""One eval-mode forward and backward pass over a trainer's model, for the diagnostics.

Eval mode because a train-mode forward would draw dropout masks from the run's RNG (changing
its future) and move BatchNorm's running statistics (changing the model). The model is read
through its trainer's hook (app/nn/training/probing.py: `probe_trace`, `probe_loss`,
`probe_names`), so every family answers the same probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from app.nn.training.probing import Site

if TYPE_CHECKING:  # the trainer is only a parameter type here
    from app.nn.training.trainer import Trainer

Tensor = torch.Tensor


def _probe_batch(trainer: Trainer, max_points: int) -> tuple[Tensor, Tensor]:
    train = trainer.data.train
    return train.x[:max_points], train.y[:max_points]


@dataclass
class Probe:
    """One eval-mode forward and backward pass: the activation sites of the trace; per
    weight layer (in `trainer.weights` order, the output layer last) its weight gradient;
    per hooked Linear its inputs and the loss gradient at its outputs; and the data loss."""

    sites: dict[str, Site]
    weight_grads: list[Tensor]
    inputs: list[Tensor]
    out_grads: list[Tensor]
    loss: float
    attention: list[Tensor] = field(default_factory=list)
    attention_max_entropy: float = 0.0

    @property
    def acts(self) -> list[Tensor]:
        """The sites' activations in order (for a dense net: one per hidden layer)."""
        return [site.values for site in self.sites.values()]


def probe(
    trainer: Trainer, max_points: int = 512, batch: tuple[Tensor, Tensor] | None = None
) -> Probe:
    """Probe on `batch` (features, targets), by default the first max_points training points.
    Gradients are of the loss plus the L1/L2 penalty, as the optimizer sees them, and are
    returned, never written to .grad."""
    model = trainer.model
    x, y = batch if batch is not None else _probe_batch(trainer, max_points)
    was_training = model.training
    model.eval()
    try:
        trace = trainer.probe_trace(x)
        loss = trainer.probe_loss(trace.out, y)
        pen = trainer.penalty()
        total = loss + pen if pen is not None else loss
        outputs = [o for _, o in trace.linear_io]
        grads = torch.autograd.grad(total, trainer.weights + outputs, allow_unused=True)
    finally:
        model.train(was_training)
    n = len(trainer.weights)
    filled = [
        g if g is not None else torch.zeros_like(ref)
        for g, ref in zip(grads, trainer.weights + outputs, strict=True)
    ]
    sites = {
        name: Site(site.values.detach(), site.activation) for name, site in trace.sites.items()
    }
    return Probe(
        sites=sites,
        weight_grads=filled[:n],
        inputs=[i.detach() for i, _ in trace.linear_io],
        out_grads=filled[n:],
        loss=float(loss.detach()),
        attention=[a.detach() for a in trace.attention],
        attention_max_entropy=trace.attention_max_entropy,
    )
