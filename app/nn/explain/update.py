"""One optimizer step written out: the state each optimizer keeps and the step it takes.

The same arithmetic as torch.optim's SGD (plain, momentum, Nesterov), RMSprop and Adam with
the registry's default hyper-parameters and no weight decay; tests/nn/test_explain.py checks
the new weights against torch.optim itself.
"""

from __future__ import annotations

from typing import Any

import torch

Tensor = torch.Tensor
State = dict[str, list[Tensor]]

FORMULAS: dict[str, list[str]] = {
    "sgd": ["Δw = −lr · g"],
    "momentum": ["v ← μ v + (1 − d) g   (v = g at the first step)", "Δw = −lr · v"],
    "nesterov": ["v ← μ v + g   (v = g at the first step)", "Δw = −lr · (g + μ v)"],
    "rmsprop": ["s ← α s + (1 − α) g²", "Δw = −lr · g / (√s + ε)"],
    "adam": [
        "m ← β₁ m + (1 − β₁) g,   s ← β₂ s + (1 − β₂) g²",
        "m̂ = m / (1 − β₁ᵗ),   ŝ = s / (1 − β₂ᵗ)",
        "Δw = −lr · m̂ / (√ŝ + ε)",
    ],
}


def empty_state(name: str, params: list[Tensor]) -> State:
    zeros = [torch.zeros_like(p) for p in params]
    if name in ("momentum", "nesterov"):
        return {"v": zeros}
    if name == "rmsprop":
        return {"s": zeros}
    if name == "adam":
        return {"m": zeros, "s": [torch.zeros_like(p) for p in params]}
    return {}


def step(
    name: str, hyper: dict[str, Any], lr: float, t: int, grads: list[Tensor], state: State
) -> tuple[list[Tensor], State, dict[str, float]]:
    """Step number t (1 = first) from `state`: (Δw per parameter, the new state, scalars the
    page shows such as the bias corrections)."""
    if name == "sgd":
        return [-lr * g for g in grads], {}, {}
    if name in ("momentum", "nesterov"):
        mu = float(hyper["momentum"])
        damp = float(hyper.get("dampening", 0.0))
        v = [
            g.clone() if t == 1 else mu * b + (1 - damp) * g
            for g, b in zip(grads, state["v"], strict=True)
        ]
        if name == "nesterov":
            return [-lr * (g + mu * b) for g, b in zip(grads, v, strict=True)], {"v": v}, {"μ": mu}
        return [-lr * b for b in v], {"v": v}, {"μ": mu}
    if name == "rmsprop":
        alpha, eps = float(hyper["alpha"]), float(hyper["eps"])
        s = [alpha * a + (1 - alpha) * g * g for g, a in zip(grads, state["s"], strict=True)]
        deltas = [-lr * g / (a.sqrt() + eps) for g, a in zip(grads, s, strict=True)]
        return deltas, {"s": s}, {"α": alpha, "ε": eps}
    if name == "adam":
        b1, b2 = hyper["betas"] if "betas" in hyper else (hyper["beta1"], hyper["beta2"])
        b1, b2, eps = float(b1), float(b2), float(hyper["eps"])
        m = [b1 * a + (1 - b1) * g for g, a in zip(grads, state["m"], strict=True)]
        s = [b2 * a + (1 - b2) * g * g for g, a in zip(grads, state["s"], strict=True)]
        c1, c2 = 1 - b1**t, 1 - b2**t
        deltas = [-lr * (mm / c1) / ((ss / c2).sqrt() + eps) for mm, ss in zip(m, s, strict=True)]
        return (
            deltas,
            {"m": m, "s": s},
            {"β₁": b1, "β₂": b2, "ε": eps, "1 − β₁ᵗ": c1, "1 − β₂ᵗ": c2},
        )
    raise ValueError(f"the explorer does not write out the {name!r} update")
