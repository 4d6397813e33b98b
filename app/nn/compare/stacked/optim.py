"""Optimizer updates on stacked parameter rows, one hyper-parameter set per row.

Each rule reproduces the arithmetic of torch.optim's single-tensor implementation of its
optimizers (the path torch takes on CPU) for every row of a (m, n) block at once, with lr,
betas, eps, momentum... as per-row values (a float when all rows agree, else an (m, 1)
column). One rule serves a family: sgd / momentum / nesterov are SGD with per-row momentum
(0 for plain SGD, which is then exactly p -= lr·g), adam / adamw are Adam (decoupled weight
decay is applied by the caller before the update, as the Trainer does for every optimizer).
Most rows go to the single UnifiedRule (stacked_unified.py, which also dispatches); these
family rules serve the variants outside its recipe (AMSGrad, centered or momentum RMSProp,
Adamax). tests/nn/test_compare.py checks them against the real torch.optim through the
ordinary Trainer. Adafactor (factored per matrix) has no stacked rule: comparisons that use
it train sequentially.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

Tensor = torch.Tensor


Coef = float | Tensor  # one value for every row, or an (m, 1) column


def per_row(values: list[float]) -> Coef:
    """A Python float when all rows agree (scalar ops are cheaper), else an (m, 1) column."""
    if all(v == values[0] for v in values):
        return float(values[0])
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def axpy_(p: Tensor, x: Tensor, coef: Coef) -> Tensor:
    """p += coef · x."""
    return p.add_(x, alpha=coef) if isinstance(coef, float) else p.addcmul_(x, coef)


def addsq_(t: Tensor, g: Tensor, coef: Coef) -> Tensor:
    """t += coef · g²."""
    return t.addcmul_(g, g, value=coef) if isinstance(coef, float) else t.addcmul_(g, g * coef)


class StackedRule:
    """One optimizer family over a contiguous block of member rows."""

    def __init__(self, names: list[str], params: list[dict[str, Any]], n: int) -> None:
        self.names, self.params, self.n = list(names), [dict(p) for p in params], n
        self.t = 0  # steps taken (all rows step together)
        self.state: dict[str, Tensor] = {}
        self._cols: dict[str, Coef] = {}

    @property
    def m(self) -> int:
        return len(self.names)

    def hp(self, key: str, row: int) -> Any:
        return self.params[row][key]

    def col(self, key: str, fn: Callable[[float], float] | None = None) -> Coef:
        """A cached per-row constant (optionally transformed, e.g. 1 - beta)."""
        name = key if fn is None else f"{key}:{id(fn)}"
        if name not in self._cols:
            values = [float(self.hp(key, r)) for r in range(self.m)]
            self._cols[name] = per_row([fn(v) for v in values] if fn else values)
        return self._cols[name]

    def flag(self, key: str) -> Tensor | bool:
        """A per-row boolean: one bool when uniform, else an (m, 1) mask."""
        value = self.col(key)
        return bool(value) if isinstance(value, float) else value > 0

    def zeros(self, key: str, fill: Coef = 0.0) -> Tensor:
        if key not in self.state:
            self.state[key] = torch.zeros(self.m, self.n) + fill
        return self.state[key]

    def step(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        self.t += 1
        self.update(p, g, lr)

    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        raise NotImplementedError

    def keep(self, rows: list[int]) -> None:
        """Keep only these rows (members that stopped leave the stack)."""
        idx = torch.tensor(rows, dtype=torch.long)
        self.names = [self.names[r] for r in rows]
        self.params = [self.params[r] for r in rows]
        self.state = {k: v.index_select(0, idx) for k, v in self.state.items()}
        self._cols.clear()

    def set_param(self, row: int, key: str, value: Any) -> None:
        if key not in self.params[row]:
            raise ValueError(f"{key}: not a parameter of {self.names[row]}")
        self.params[row][key] = value
        self._cols.clear()


def _one_minus(v: float) -> float:
    return 1.0 - v


def _where(mask: Tensor | bool, a: Tensor, b: Tensor) -> Tensor:
    if isinstance(mask, bool):
        return a if mask else b
    return torch.where(mask, a, b)


class _SGD(StackedRule):
    def hp(self, key: str, row: int) -> Any:
        name = self.names[row]
        if key == "momentum":
            return 0.0 if name == "sgd" else self.params[row]["momentum"]
        if key == "dampening":
            return self.params[row]["dampening"] if name == "momentum" else 0.0
        if key == "nesterov":
            return name == "nesterov"
        return super().hp(key, row)

    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        neg_lr = per_row([-v for v in lr])
        mu = self.col("momentum")
        if isinstance(mu, float) and mu == 0.0:
            axpy_(p, g, neg_lr)
            return
        if "buf" not in self.state:  # torch starts the buffer at the first gradient
            self.state["buf"] = g.clone()
        else:
            axpy_(self.state["buf"].mul_(mu), g, self.col("dampening", _one_minus))
        buf = self.state["buf"]
        nesterov = self.flag("nesterov")
        if nesterov is False:
            axpy_(p, buf, neg_lr)
        else:
            axpy_(p, _where(nesterov, axpy_(g.clone(), buf, mu), buf), neg_lr)


class _Adam(StackedRule):
    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        m, v = self.zeros("m"), self.zeros("v")
        m.lerp_(g, self.col("beta1", _one_minus))
        addsq_(v.mul_(self.col("beta2")), g, self.col("beta2", _one_minus))
        src = v
        amsgrad = self.flag("amsgrad")
        if amsgrad is not False:
            vmax = self.zeros("vmax")
            torch.maximum(vmax, v, out=vmax)
            src = _where(amsgrad, vmax, v)
        t, rows = self.t, range(self.m)
        bc2_sqrt = per_row([math.sqrt(1 - self.hp("beta2", r) ** t) for r in rows])
        step = per_row([-lr[r] / (1 - self.hp("beta1", r) ** t) for r in rows])
        denom = (src.sqrt() / bc2_sqrt).add_(self.col("eps"))
        axpy_(p, m / denom, step)


class _RMSprop(StackedRule):
    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        sq = self.zeros("sq")
        addsq_(sq.mul_(self.col("alpha")), g, self.col("alpha", _one_minus))
        centered = self.flag("centered")
        if centered is not False:
            ga = self.zeros("ga")
            ga.lerp_(g, self.col("alpha", _one_minus))
            gsq = ga * ga if centered is True else ga * ga * centered
            avg = (sq - gsq).sqrt_()
        else:
            avg = sq.sqrt()
        avg.add_(self.col("eps"))
        neg_lr = per_row([-v for v in lr])
        mom = self.col("momentum")
        if isinstance(mom, float) and mom == 0.0:
            axpy_(p, g / avg, neg_lr)
            return
        # Rows with momentum 0 get buf = g / avg: exactly torch's momentum-free update.
        buf = self.zeros("buf")
        buf.mul_(mom).add_(g / avg)
        axpy_(p, buf, neg_lr)


class _Adagrad(StackedRule):
    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        total = self.zeros("sum", self.col("initial_accumulator_value"))
        total.addcmul_(g, g)
        std = total.sqrt().add_(self.col("eps"))
        clr = [-lr[r] / (1 + (self.t - 1) * self.hp("lr_decay", r)) for r in range(self.m)]
        axpy_(p, g / std, per_row(clr))


class _NAdam(StackedRule):
    def __init__(self, names: list[str], params: list[dict[str, Any]], n: int) -> None:
        super().__init__(names, params, n)
        self.mu_product = [1.0] * self.m  # torch keeps it per tensor; all equal per row

    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        m, v = self.zeros("m"), self.zeros("v")
        t, bc2, c_grad, c_avg = self.t, [], [], []
        for r in range(self.m):
            beta1, md = self.hp("beta1", r), self.hp("momentum_decay", r)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * md))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
            self.mu_product[r] *= mu
            prod = self.mu_product[r]
            bc2.append(1 - self.hp("beta2", r) ** t)
            c_grad.append(-lr[r] * (1.0 - mu) / (1.0 - prod))
            c_avg.append(-lr[r] * mu_next / (1.0 - prod * mu_next))
        m.lerp_(g, self.col("beta1", _one_minus))
        addsq_(v.mul_(self.col("beta2")), g, self.col("beta2", _one_minus))
        denom = v.div(per_row(bc2)).sqrt_().add_(self.col("eps"))
        axpy_(p, g / denom, per_row(c_grad))
        axpy_(p, m / denom, per_row(c_avg))

    def keep(self, rows: list[int]) -> None:
        self.mu_product = [self.mu_product[r] for r in rows]
        super().keep(rows)


class _RAdam(StackedRule):
    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        m, v = self.zeros("m"), self.zeros("v")
        m.lerp_(g, self.col("beta1", _one_minus))
        addsq_(v.mul_(self.col("beta2")), g, self.col("beta2", _one_minus))
        t, coef, adaptive = self.t, [], []
        for r in range(self.m):
            beta1, beta2 = self.hp("beta1", r), self.hp("beta2", r)
            bc1, bc2 = 1 - beta1**t, 1 - beta2**t
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * t * (beta2**t) / bc2
            adaptive.append(rho_t > 5.0)
            if rho_t > 5.0:  # variance tractable: rectified adaptive step
                rect = math.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
                coef.append(-lr[r] / bc1 * rect * math.sqrt(bc2))
            else:  # early steps: plain momentum SGD
                coef.append(-lr[r] / bc1)
        if not any(adaptive):
            axpy_(p, m, per_row(coef))
            return
        denom = v.sqrt().add_(self.col("eps"))
        if not all(adaptive):
            mask = torch.tensor(adaptive).unsqueeze(1)
            denom = torch.where(mask, denom, torch.ones(()))
        axpy_(p, m / denom, per_row(coef))


class _Adamax(StackedRule):
    def update(self, p: Tensor, g: Tensor, lr: list[float]) -> None:
        m, inf = self.zeros("m"), self.zeros("inf")
        m.lerp_(g, self.col("beta1", _one_minus))
        torch.maximum(inf.mul_(self.col("beta2")), g.abs().add_(self.col("eps")), out=inf)
        clr = [-lr[r] / (1 - self.hp("beta1", r) ** self.t) for r in range(self.m)]
        axpy_(p, m / inf, per_row(clr))


RULES: dict[str, type[StackedRule]] = {
    "sgd": _SGD,
    "adam": _Adam,
    "rmsprop": _RMSprop,
    "adagrad": _Adagrad,
    "nadam": _NAdam,
    "radam": _RAdam,
    "adamax": _Adamax,
}
