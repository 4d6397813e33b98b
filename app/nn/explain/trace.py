"""Forward, backward and update of a tiny network, every number computed by hand (float64).

`explain(spec)` builds the playground's own network and data for an ExplainSpec, then:
forward layer by layer (z = a_prev Wᵀ + b, a = f(z)), the loss and dL/dz at the output,
backward layer by layer (dL/da = dL/dz_next · W_next, da/dz = f'(z), dL/dz = dL/da ⊙ da/dz,
dL/dW = dL/dzᵀ · a_prev, dL/db = Σ_batch dL/dz), then one optimizer step. `warmup` steps are
taken first with the same arithmetic, so momentum and Adam show a non-empty state.
No autograd anywhere: tests compare every number with torch.autograd and torch.optim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from app.nn.choices.losses import resolve_loss
from app.nn.explain import update
from app.nn.explain.calculus import ACTIVATION_CALCULUS, MAX_SLOPE, loss_and_grad
from app.nn.explain.spec import ExplainSpec
from app.nn.training.trainer import Trainer

Tensor = torch.Tensor


@dataclass
class Pass:
    """One forward and backward pass. Layer lists run input -> output; `z[l]`, `a[l]` are
    layer l+1's (the last is the output layer, a = z: its activation is inside the loss)."""

    z: list[Tensor]
    a: list[Tensor]
    slope: list[Tensor]  # da/dz per hidden layer
    loss: Tensor
    d_a: list[Tensor]  # dL/da per hidden layer
    d_z: list[Tensor]  # dL/dz per layer (hidden, then output)
    d_w: list[Tensor]
    d_b: list[Tensor]


@dataclass
class Explained:
    spec: ExplainSpec
    task: str
    loss_name: str
    loss_formula: str
    x: Tensor  # (B, 2) the network's inputs
    y: Tensor  # (B,) targets
    weights: list[Tensor]  # before the step shown
    biases: list[Tensor]
    now: Pass
    deltas: list[Tensor]  # Δ per parameter: W1, b1, W2, b2, ...
    state_before: update.State
    state_after: update.State
    scalars: dict[str, float]
    t: int  # the optimizer's step number of the step shown
    hyper: dict[str, Any] = field(default_factory=dict)


def forward_backward(
    spec: ExplainSpec,
    task: str,
    loss_name: str,
    ws: list[Tensor],
    bs: list[Tensor],
    x: Tensor,
    y: Tensor,
    delta: float,
) -> tuple[Pass, str]:
    f, df = ACTIVATION_CALCULUS[spec.activation]
    a_prev, zs, acts, slopes = x, [], [], []
    for w, b in zip(ws[:-1], bs[:-1], strict=True):
        z = a_prev @ w.T + b
        zs.append(z)
        slopes.append(df(z))
        a_prev = f(z)
        acts.append(a_prev)
    out = a_prev @ ws[-1].T + bs[-1]
    zs.append(out)
    acts.append(out)
    loss, d_out, formula = loss_and_grad(loss_name, task, out, y, delta)
    d_z: list[Tensor] = [d_out]
    d_a: list[Tensor] = []
    for layer in range(len(ws) - 2, -1, -1):  # hidden layers, last to first
        da = d_z[0] @ ws[layer + 1]
        d_a.insert(0, da)
        d_z.insert(0, da * slopes[layer])
    inputs = [x, *acts[:-1]]
    d_w = [dz.T @ a for dz, a in zip(d_z, inputs, strict=True)]
    d_b = [dz.sum(0) for dz in d_z]
    return Pass(zs, acts, slopes, loss, d_a, d_z, d_w, d_b), formula


def explain(spec: ExplainSpec) -> Explained:
    experiment = spec.experiment()
    trainer = Trainer(experiment)
    task = experiment.task
    loss_name = resolve_loss(experiment.train.loss, task)
    delta = experiment.train.huber_delta
    linears = trainer.model.linears()
    ws = [lin.weight.detach().double().clone() for lin in linears]
    bs = [lin.bias.detach().double().clone() for lin in linears]
    train = trainer.data.train
    start = spec.point % len(train)
    idx = [(start + i) % len(train) for i in range(spec.batch)]
    x, y = train.x[idx].double(), train.y[idx].double()
    opt = experiment.train.optimizer
    hyper = {k: v for k, v in opt.model_dump().items() if k not in ("name", "lr")}
    params = [p for pair in zip(ws, bs, strict=True) for p in pair]
    state = update.empty_state(spec.optimizer, params)
    for t in range(1, spec.warmup + 1):  # the same batch, the same formulas
        p, _ = forward_backward(spec, task, loss_name, params[0::2], params[1::2], x, y, delta)
        grads = [g for pair in zip(p.d_w, p.d_b, strict=True) for g in pair]
        deltas, state, _ = update.step(spec.optimizer, hyper, opt.lr, t, grads, state)
        params = [q + d for q, d in zip(params, deltas, strict=True)]
    now, formula = forward_backward(spec, task, loss_name, params[0::2], params[1::2], x, y, delta)
    grads = [g for pair in zip(now.d_w, now.d_b, strict=True) for g in pair]
    t = spec.warmup + 1
    deltas, after, scalars = update.step(spec.optimizer, hyper, opt.lr, t, grads, state)
    return Explained(
        spec, task, loss_name, formula, x, y, params[0::2], params[1::2], now, deltas,
        state, after, scalars, t, hyper,
    )  # fmt: skip


def vanishing(e: Explained) -> list[dict[str, float]]:
    """Per hidden layer: the largest da/dz seen, the activation's bound on it, and the
    layer's weight-gradient norm relative to the output layer's."""
    out_norm = float(e.now.d_w[-1].norm())
    return [
        {
            "max_slope": float(s.abs().max()),
            "bound": MAX_SLOPE[e.spec.activation],
            "grad_ratio": float(g.norm()) / out_norm if out_norm else 0.0,
        }
        for s, g in zip(e.now.slope, e.now.d_w[:-1], strict=True)
    ]


def symmetry(e: Explained) -> list[float]:
    """Per layer, the largest difference between two units' weight-gradient rows: 0 means
    every unit of the layer gets the same gradient (and, from equal weights, stays equal)."""
    return [float((g[:, None, :] - g[None, :, :]).abs().max()) for g in e.now.d_w]
