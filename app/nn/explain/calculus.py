"""The derivatives backpropagation multiplies, written out by hand for the explorer.

Every activation of the registry has its function and its derivative here, and every loss its
gradient with respect to the network's output, in closed form (float64). Nothing here calls
autograd: the tests compare these formulas, assembled by the chain rule in trace.py, with
torch.autograd on the same network. A registry entry without a formula here fails
`test_every_registry_activation_and_loss_has_a_formula`, so a new activation cannot silently
go unexplained.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Tensor = torch.Tensor
Pair = tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]

LEAKY_SLOPE = 0.01  # nn.LeakyReLU's default, as the registry builds it
SOFTPLUS_THRESHOLD = 20.0  # nn.Softplus: linear above this, as torch computes it


def _phi(z: Tensor) -> Tensor:
    return torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _Phi(z: Tensor) -> Tensor:
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


# name -> (f, f'): the activation and its derivative, elementwise. Where f is not
# differentiable (ReLU at 0) the value is torch's choice, so the numbers agree exactly.
ACTIVATION_CALCULUS: dict[str, Pair] = {
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
    "leaky_relu": (
        lambda z: torch.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)),
    ),
    "elu": (
        lambda z: torch.where(z > 0, z, torch.expm1(z)),
        lambda z: torch.where(z > 0, torch.ones_like(z), torch.exp(z)),
    ),
    "gelu": (lambda z: z * _Phi(z), lambda z: _Phi(z) + z * _phi(z)),
    "silu": (
        lambda z: z * torch.sigmoid(z),
        lambda z: torch.sigmoid(z) * (1 + z * (1 - torch.sigmoid(z))),
    ),
    "softplus": (
        lambda z: torch.where(z > SOFTPLUS_THRESHOLD, z, torch.log1p(torch.exp(z))),
        lambda z: torch.where(z > SOFTPLUS_THRESHOLD, torch.ones_like(z), torch.sigmoid(z)),
    ),
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "sigmoid": (torch.sigmoid, lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z))),
    "linear": (lambda z: z, torch.ones_like),
}

# The largest value each derivative can take: the "at most 0.25 per layer" of sigmoid.
MAX_SLOPE: dict[str, float] = {
    "relu": 1.0,
    "leaky_relu": 1.0,
    "elu": 1.0,
    "gelu": 1.129,  # Phi(z) + z phi(z) peaks at z = sqrt(2)
    "silu": 1.0998,  # peaks near z = 2.4
    "softplus": 1.0,
    "tanh": 1.0,
    "sigmoid": 0.25,
    "linear": 1.0,
}


def loss_and_grad(
    name: str, task: str, out: Tensor, y: Tensor, delta: float = 1.0
) -> tuple[Tensor, Tensor, str]:
    """The batch-mean loss, dL/d(out) for each output (same shape as `out`, (B, K)), and the
    formula of one example's output gradient in words. `name` is resolved (no "auto")."""
    b = out.shape[0]
    if name == "bce":
        p = torch.sigmoid(out[:, 0])
        z = out[:, 0]
        # log(1 + e^z) - y z, written to stay finite for large |z|.
        loss = (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()
        return loss, ((p - y) / b)[:, None], "(σ(z) − y) / B"
    if name == "ce":
        logp = torch.log_softmax(out, 1)
        onehot = torch.nn.functional.one_hot(y.long(), out.shape[1]).to(out.dtype)
        loss = -(logp * onehot).sum(1).mean()
        return loss, (torch.exp(logp) - onehot) / b, "(softmax(z) − onehot(y)) / B"
    if name == "mse" and task == "regression":
        r = out[:, 0] - y
        return (r * r).mean(), (2 * r / b)[:, None], "2 (z − y) / B"
    if name == "mse" and out.shape[1] == 1:  # on the predicted probability
        p = torch.sigmoid(out[:, 0])
        r = p - y
        grad = 2 * r * p * (1 - p) / b
        return (r * r).mean(), grad[:, None], "2 (σ(z) − y) σ(z)(1 − σ(z)) / B"
    if name == "mse":  # multi-class, on the softmax probabilities
        p = torch.softmax(out, 1)
        onehot = torch.nn.functional.one_hot(y.long(), out.shape[1]).to(out.dtype)
        dp = 2 * (p - onehot) / (b * out.shape[1])
        # Softmax Jacobian: dp_i/dz_j = p_i (δ_ij − p_j).
        grad = p * (dp - (dp * p).sum(1, keepdim=True))
        return ((p - onehot) ** 2).mean(), grad, "softmaxᵀ · 2 (p − onehot(y)) / (B K)"
    if name == "huber":
        r = out[:, 0] - y
        small = r.abs() <= delta
        loss = torch.where(small, 0.5 * r * r, delta * (r.abs() - 0.5 * delta)).mean()
        grad = torch.where(small, r, delta * torch.sign(r)) / b
        return loss, grad[:, None], "clip(z − y, ±δ) / B"
    if name == "l1":
        r = out[:, 0] - y
        return r.abs().mean(), (torch.sign(r) / b)[:, None], "sign(z − y) / B"
    raise ValueError(f"no formula for loss {name!r} on a {task} task")


LOSS_NAMES = ("bce", "ce", "mse", "huber", "l1")
