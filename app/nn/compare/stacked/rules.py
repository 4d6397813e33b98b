"""One stacked update for members with different optimizers, and the rule dispatcher.

Most optimizers are one elementwise recipe with different per-row coefficients:

    m <- a·m + b·g                      velocity / first moment
    v <- c·v + e·g²                     second moment, or Adagrad's running sum
    p <- p + (k1·g + k2·m) / (σ·√v + ε)

    sgd        k1 = -lr                      (a = b = c = e = σ = 0, ε = 1)
    momentum   m = velocity (g at step 1), k2 = -lr
    nesterov   k1 = -lr, k2 = -lr·μ
    adam(w)    σ = 1/√(1-β2^t), k2 = -lr/(1-β1^t)
    rmsprop    c = α, σ = 1, k1 = -lr        (no momentum, not centered)
    adagrad    c = e = σ = 1, k1 = -lr/(1+(t-1)·lr_decay)
    nadam      σ = 1/√(1-β2^t), k1 and k2 from the μ schedule
    radam      rectified: σ = 1, k2 = -lr·r·√(1-β2^t)/(1-β1^t); early steps σ = 0, ε = 1

so a mixed comparison (SGD vs momentum vs Adam vs ...) costs one update, not one per
optimizer: ~11 tensor ops per step whatever the mix. The values are torch.optim's up to
float rounding (tests/nn/test_compare.py compares with the real optimizers). Variants
outside the recipe (AMSGrad, centered or momentum RMSProp, Adamax) use their own rule
from stacked_optim.py; Adafactor has none (the comparison then trains sequentially).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.compare.stacked.optim import RULES, StackedRule, Tensor, per_row

UNIFIED = {"sgd", "adam", "rmsprop", "adagrad", "nadam", "radam"}  # rule families it covers


def family(name: str, params: dict[str, Any]) -> str | None:
    """The stacked rule that serves this optimizer ("unified" for most), None if none."""
    rule = OPTIMIZERS[name].stacked if name in OPTIMIZERS else None
    if rule is None or rule not in RULES:
        return None
    if rule == "adam" and params.get("amsgrad"):
        return rule
    if rule == "rmsprop" and (params.get("momentum") or params.get("centered")):
        return rule
    return "unified" if rule in UNIFIED else rule


def make_rule(names: list[str], params: list[dict[str, Any]], n: int) -> StackedRule:
    """The rule for rows that all belong to one family."""
    families = {family(name, p) for name, p in zip(names, params, strict=True)}
    if len(families) != 1 or None in families:
        raise ValueError(f"one rule serves one family, got {sorted(map(str, families))}")
    key = families.pop()
    cls = UnifiedRule if key == "unified" else RULES[str(key)]
    return cls(names, params, n)


Coefs = tuple[float, float, float, float, float, float, float, float]  # a b c e σ ε k1 k2


class UnifiedRule(StackedRule):
    def __init__(self, names: list[str], params: list[dict[str, Any]], n: int) -> None:
        super().__init__(names, params, n)
        self.mu_product = [1.0] * self.m  # NAdam's running product of μ_t

    def keep(self, rows: list[int]) -> None:
        self.mu_product = [self.mu_product[r] for r in rows]
        super().keep(rows)

    def coefs(self, r: int, lr: float) -> Coefs:
        name, hp, t = self.names[r], self.params[r], self.t
        if name in ("sgd", "momentum", "nesterov"):
            mu = 0.0 if name == "sgd" else hp["momentum"]
            if mu == 0.0:  # torch keeps no buffer: plain SGD
                return (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -lr, 0.0)
            damp = hp["dampening"] if name == "momentum" else 0.0
            a, b = (0.0, 1.0) if t == 1 else (mu, 1.0 - damp)  # the buffer starts at g
            k1 = -lr if name == "nesterov" else 0.0
            return (a, b, 0.0, 0.0, 0.0, 1.0, k1, -lr * mu if name == "nesterov" else -lr)
        if name == "rmsprop":
            alpha = hp["alpha"]
            return (0.0, 0.0, alpha, 1.0 - alpha, 1.0, hp["eps"], -lr, 0.0)
        if name == "adagrad":
            clr = lr / (1 + (t - 1) * hp["lr_decay"])
            return (0.0, 0.0, 1.0, 1.0, 1.0, hp["eps"], -clr, 0.0)
        b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        moments = (b1, 1.0 - b1, b2, 1.0 - b2)
        if name in ("adam", "adamw"):
            return (*moments, 1 / math.sqrt(bc2), eps, 0.0, -lr / bc1)
        if name == "nadam":
            md = hp["momentum_decay"]
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
            self.mu_product[r] *= mu
            prod = self.mu_product[r]
            k1 = -lr * (1.0 - mu) / (1.0 - prod)
            return (*moments, 1 / math.sqrt(bc2), eps, k1, -lr * mu_next / (1.0 - prod * mu_next))
        # radam
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2**t) / bc2
        if rho_t <= 5.0:  # variance not yet tractable: momentum SGD on the corrected mean
            return (*moments, 0.0, 1.0, 0.0, -lr / bc1)
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        return (*moments, 1.0, eps, 0.0, -lr * rect * math.sqrt(bc2) / bc1)

    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        rows = [self.coefs(r, lr[r]) for r in range(self.m)]
        used = [any(row[j] for row in rows) for j in range(8)]  # skip all-zero terms
        cols = torch.tensor(rows, dtype=torch.float32).t().unsqueeze(2).unbind(0)
        a, b, c, e, sigma, eps, k1, k2 = cols  # each (m, 1)
        m = self.zeros("m")
        v = self.zeros("v", self._v0())
        if used[1]:
            m.mul_(a).addcmul_(g, b)
        if used[3]:
            v.mul_(c).addcmul_(g, g * e)
        u = m * k2 if not used[6] else g * k1
        if used[6] and used[7]:
            u.addcmul_(m, k2)
        if used[4]:
            p.addcdiv_(u, v.sqrt().mul_(sigma).add_(eps))
        else:  # σ = 0 and ε = 1 everywhere: the SGD family
            p.add_(u)

    def _v0(self) -> float | Tensor:
        """Adagrad starts its sum at initial_accumulator_value; the others at 0."""
        start = [
            float(p["initial_accumulator_value"]) if name == "adagrad" else 0.0
            for name, p in zip(self.names, self.params, strict=True)
        ]
        return per_row(start)
