"""Which engine runs a trainer's steps, and why: the fused kernel where it covers the
configuration, else the eager PyTorch loop (the reference). Each table below is the
kernel's side of a registry: an entry missing here simply falls back to eager."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import torch
from torch import nn

from app.nn.choices.losses import resolve_loss
from app.nn.models.mlp import Block, Network

if TYPE_CHECKING:
    from app.nn.training.trainer import Trainer

# Codes of kernel.cpp's enums.
ACTIVATIONS = {
    "relu": 0,
    "leaky_relu": 1,
    "elu": 2,
    "gelu": 3,
    "silu": 4,
    "softplus": 5,
    "tanh": 6,
    "sigmoid": 7,
    "linear": 8,
}
# (task, resolved loss) -> kernel loss
LOSSES = {
    ("binary", "bce"): 0,
    ("multiclass", "ce"): 1,
    ("regression", "mse"): 2,
    ("binary", "mse"): 3,
    ("multiclass", "mse"): 4,
    ("regression", "huber"): 5,
    ("regression", "l1"): 6,
}
OPTIMIZERS = {"sgd": 0, "momentum": 0, "nesterov": 0, "adam": 1, "adamw": 2, "rmsprop": 3}
NORMS = ("none", "layer")
ENV = "PLAYGROUND_ENGINE"  # "eager" turns the fused path off (an operator's switch)


def unsupported(trainer: Trainer) -> str:
    """Why the fused kernel cannot run this trainer ("" if it can)."""
    model, spec = trainer.model, trainer.spec
    if type(model) is not Network or not all(type(b) is Block for b in model.blocks):
        return "a custom model (not the spec's dense network)"
    for i, layer in enumerate(spec.model.layers):
        if layer.norm not in NORMS:
            return f"layer {i + 1} uses {layer.norm} norm (the fused kernel has none/layer)"
        if layer.activation not in ACTIVATIONS:
            return f"layer {i + 1}'s activation {layer.activation} has no fused kernel"
    if any(type(m) is nn.LayerNorm and m.eps != 1e-5 for m in model.modules()):
        return "a LayerNorm eps other than 1e-5"
    if trainer.opt_name not in OPTIMIZERS:
        covered = ", ".join(OPTIMIZERS)
        return f"optimizer {trainer.opt_name} has no fused kernel (these do: {covered})"
    loss = resolve_loss(spec.train.loss, trainer.task)
    if (trainer.task, loss) not in LOSSES:
        return f"loss {loss} on a {trainer.task} task has no fused kernel"
    tensors = [*trainer.params, trainer.data.train.x, trainer.data.train.y]
    if any(t.dtype != torch.float32 or not t.is_contiguous() for t in tensors):
        return "parameters or data are not contiguous float32"
    return ""


def choose(trainer: Trainer, engine: str) -> tuple[str, str]:
    """(path, reason): "fused" or "eager", and why."""
    if engine == "eager":
        return "eager", "eager engine requested"
    if os.environ.get(ENV, "").lower() == "eager":
        return "eager", f"{ENV}=eager"
    if problem := unsupported(trainer):
        return "eager", problem
    from app.nn.fused.build import load

    module, problem = load()
    if module is None:
        return "eager", problem
    return "fused", "a dense net, optimizer and loss the fused kernel covers"
