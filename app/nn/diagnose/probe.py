"""One eval-mode forward and backward pass over a trainer's model, for the diagnostics.

Eval mode because a train-mode forward would draw dropout masks from the run's RNG (changing
its future) and move BatchNorm's running statistics (changing the model). Forward hooks on
each Linear catch its inputs and outputs; `Network.forward_trace` calls the modules, so they
fire (the trainer's fused hot path would not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # the trainer is only a parameter type here
    from app.nn.training.trainer import Trainer

Tensor = torch.Tensor


def _probe_batch(trainer: Trainer, max_points: int) -> tuple[Tensor, Tensor]:
    train = trainer.data.train
    return train.x[:max_points], train.y[:max_points]


@dataclass
class Probe:
    """One eval-mode forward and backward pass: per hidden layer activations; per Linear
    (hidden layers, then the output layer) its weight gradient, its inputs and the loss
    gradient at its outputs; and the data loss."""

    acts: list[Tensor]
    weight_grads: list[Tensor]
    inputs: list[Tensor]
    out_grads: list[Tensor]
    loss: float


def probe(
    trainer: Trainer, max_points: int = 512, batch: tuple[Tensor, Tensor] | None = None
) -> Probe:
    """Probe on `batch` (features, targets), by default the first max_points training points.
    Gradients are of the loss plus the L1/L2 penalty, as the optimizer sees them, and are
    returned, never written to .grad."""
    model = trainer.model
    x, y = batch if batch is not None else _probe_batch(trainer, max_points)
    linears = model.linears()
    seen: list[tuple[Tensor, Tensor]] = []

    def hook(module: torch.nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        seen.append((inputs[0], output))

    handles = [lin.register_forward_hook(hook) for lin in linears]
    was_training = model.training
    model.eval()
    try:
        acts, out = model.forward_trace(x)
        t = trainer.spec.train
        loss = trainer.loss_fn(out, y, t.label_smoothing, t.huber_delta)
        pen = trainer.penalty()
        total = loss + pen if pen is not None else loss
        outputs = [o for _, o in seen]
        grads = torch.autograd.grad(total, trainer.weights + outputs, allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    n = len(trainer.weights)
    filled = [
        g if g is not None else torch.zeros_like(ref)
        for g, ref in zip(grads, trainer.weights + outputs, strict=True)
    ]
    return Probe(
        acts=[a.detach() for a in acts],
        weight_grads=filled[:n],
        inputs=[i.detach() for i, _ in seen],
        out_grads=filled[n:],
        loss=float(loss.detach()),
    )
