"""Optimizers, one registry. Each entry builds the real torch.optim class with its own params.

Decoupled weight decay (`train.weight_decay`) is AdamW's own mechanism; for the other
optimizers the trainer applies the same decoupled shrink (p -= lr·wd·p) itself, so "adam" +
L2 penalty vs "adamw" + weight decay is exactly the comparison the literature makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from app.nn.choices.registry import Entry, Param, Registry

Groups = list[dict[str, Any]]
# (param groups, lr, the spec's params, weight decay, implementation flags) -> optimizer
Builder = Callable[[Groups, float, dict[str, Any], float, dict[str, Any]], torch.optim.Optimizer]


@dataclass(frozen=True)
class OptimizerInfo(Entry):
    default_lr: float = 0.01
    build: Builder | None = None
    decoupled_decay_builtin: bool = False  # the torch class applies weight_decay itself
    fused: bool = False  # torch has a fused CPU kernel (else the foreach one is used)
    # The stacked update rule that serves it in batched comparisons (a key of
    # app.nn.compare.stacked.optim.RULES); None: its comparisons train members one by one.
    stacked: str | None = None


_BETA1 = Param("beta1", 0.9, 0.0, 0.9999, help="decay of the first-moment (mean) estimate")
_BETA2 = Param("beta2", 0.999, 0.0, 0.99999, help="decay of the second-moment estimate")
_EPS = Param("eps", 1e-8, 1e-12, 1.0, help="added to the denominator", log=True)
_MOMENTUM = Param("momentum", 0.9, 0.0, 0.9999, help="fraction of the last update kept")
_AMSGRAD = Param("amsgrad", False, kind="bool", help="use the max of past second moments")


def _betas(p: dict[str, Any]) -> tuple[float, float]:
    return (p["beta1"], p["beta2"])


OPTIMIZERS: Registry[OptimizerInfo] = Registry(
    "optimizer",
    [
        OptimizerInfo(
            "sgd",
            "SGD",
            "Plain stochastic gradient descent: w -= lr·g.",
            stacked="sgd",
            fused=True,
            default_lr=0.03,
            build=lambda g, lr, p, wd, f: torch.optim.SGD(g, lr=lr, **f),
        ),
        OptimizerInfo(
            "momentum",
            "SGD + momentum",
            "Heavy ball: a velocity accumulates gradients.",
            stacked="sgd",
            params=(_MOMENTUM, Param("dampening", 0.0, 0.0, 1.0, help="scales new gradients")),
            fused=True,
            default_lr=0.03,
            build=lambda g, lr, p, wd, f: torch.optim.SGD(
                g, lr=lr, momentum=p["momentum"], dampening=p["dampening"], **f
            ),
        ),
        OptimizerInfo(
            "nesterov",
            "SGD + Nesterov",
            "Momentum with the gradient taken at the look-ahead.",
            stacked="sgd",
            params=(_MOMENTUM,),
            fused=True,
            default_lr=0.03,
            build=lambda g, lr, p, wd, f: torch.optim.SGD(
                g, lr=lr, momentum=p["momentum"], nesterov=True, **f
            ),
        ),
        OptimizerInfo(
            "adagrad",
            "Adagrad",
            "Per-weight lr shrinks with the sum of squared gradients.",
            stacked="adagrad",
            params=(
                Param("lr_decay", 0.0, 0.0, 1.0, help="lr decay per step"),
                Param("initial_accumulator_value", 0.0, 0.0, 10.0, help="start of the sum"),
                Param("eps", 1e-10, 1e-12, 1.0, log=True, help="added to the denominator"),
            ),
            fused=True,
            default_lr=0.05,
            build=lambda g, lr, p, wd, f: torch.optim.Adagrad(
                g,
                lr=lr,
                lr_decay=p["lr_decay"],
                initial_accumulator_value=p["initial_accumulator_value"],
                eps=p["eps"],
                **f,
            ),
        ),
        OptimizerInfo(
            "rmsprop",
            "RMSProp",
            "Divide by a running RMS of gradients (no bias correction).",
            stacked="rmsprop",
            params=(
                Param("alpha", 0.99, 0.0, 0.99999, help="decay of the squared-gradient average"),
                _EPS,
                Param("momentum", 0.0, 0.0, 0.9999, help="momentum on the scaled step"),
                Param("centered", False, kind="bool", help="divide by the variance estimate"),
            ),
            default_lr=0.01,
            build=lambda g, lr, p, wd, f: torch.optim.RMSprop(
                g,
                lr=lr,
                alpha=p["alpha"],
                eps=p["eps"],
                momentum=p["momentum"],
                centered=p["centered"],
                **f,
            ),
        ),
        OptimizerInfo(
            "adam",
            "Adam",
            "Momentum + RMS scaling, both bias-corrected.",
            stacked="adam",
            params=(_BETA1, _BETA2, _EPS, _AMSGRAD),
            fused=True,
            default_lr=0.01,
            build=lambda g, lr, p, wd, f: torch.optim.Adam(
                g, lr=lr, betas=_betas(p), eps=p["eps"], amsgrad=p["amsgrad"], **f
            ),
        ),
        OptimizerInfo(
            "adamw",
            "AdamW",
            "Adam with decoupled weight decay (set train.weight_decay).",
            stacked="adam",
            params=(_BETA1, _BETA2, _EPS, _AMSGRAD),
            fused=True,
            default_lr=0.01,
            decoupled_decay_builtin=True,
            build=lambda g, lr, p, wd, f: torch.optim.AdamW(
                g, lr=lr, betas=_betas(p), eps=p["eps"], amsgrad=p["amsgrad"], weight_decay=wd, **f
            ),
        ),
        OptimizerInfo(
            "nadam",
            "NAdam",
            "Adam with Nesterov momentum.",
            stacked="nadam",
            params=(
                _BETA1,
                _BETA2,
                _EPS,
                Param("momentum_decay", 0.004, 0.0, 1.0, help="momentum schedule decay"),
            ),
            default_lr=0.01,
            build=lambda g, lr, p, wd, f: torch.optim.NAdam(
                g, lr=lr, betas=_betas(p), eps=p["eps"], momentum_decay=p["momentum_decay"], **f
            ),
        ),
        OptimizerInfo(
            "radam",
            "RAdam",
            "Adam with a rectified (warm-up-like) variance term.",
            stacked="radam",
            params=(_BETA1, _BETA2, _EPS),
            default_lr=0.01,
            build=lambda g, lr, p, wd, f: torch.optim.RAdam(
                g, lr=lr, betas=_betas(p), eps=p["eps"], **f
            ),
        ),
        OptimizerInfo(
            "adamax",
            "Adamax",
            "Adam with the infinity norm in place of the RMS.",
            stacked="adamax",
            params=(_BETA1, _BETA2, _EPS),
            default_lr=0.02,
            build=lambda g, lr, p, wd, f: torch.optim.Adamax(
                g, lr=lr, betas=_betas(p), eps=p["eps"], **f
            ),
        ),
        OptimizerInfo(
            "adafactor",
            "Adafactor",
            "Factored second moments (row and column averages).",
            params=(
                Param("beta2_decay", -0.8, -1.0, 0.0, help="decay-rate exponent of beta2"),
                Param("d", 1.0, 0.01, 100.0, help="clipping threshold of the update RMS"),
            ),
            default_lr=0.01,
            build=lambda g, lr, p, wd, f: torch.optim.Adafactor(
                g, lr=lr, beta2_decay=p["beta2_decay"], d=p["d"], **f
            ),
        ),
    ],
)

# Spec params whose value lives in a torch param_group and may change between steps.
LIVE_GROUP_KEYS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "momentum": lambda g, v: g.__setitem__("momentum", v),
    "alpha": lambda g, v: g.__setitem__("alpha", v),
    "eps": lambda g, v: g.__setitem__("eps", v),
    "beta1": lambda g, v: g.__setitem__("betas", (v, g["betas"][1])),
    "beta2": lambda g, v: g.__setitem__("betas", (g["betas"][0], v)),
}


def build_optimizer(
    name: str,
    lr: float,
    params: dict[str, Any],
    decay: Iterable[torch.Tensor],
    no_decay: Iterable[torch.Tensor],
    weight_decay: float,
    fast: bool = True,
) -> torch.optim.Optimizer:
    """The torch optimizer for a spec.

    Weights and biases/norm params form two groups only when the torch class applies
    weight decay itself (biases are never decayed); otherwise one group, since every group
    costs a pass of Python per step. `fast` picks torch's fused CPU kernel where there is
    one, else the foreach one: same results to ~1e-7 (tested), far less per-step overhead
    than the default per-tensor loop on CPU."""
    info = OPTIMIZERS[name]
    wd = weight_decay if info.decoupled_decay_builtin else 0.0
    decay, no_decay = list(decay), list(no_decay)
    if info.decoupled_decay_builtin:
        groups: Groups = [
            {"params": decay, "weight_decay": wd},
            {"params": no_decay, "weight_decay": 0.0},
        ]
    else:
        groups = [{"params": decay + no_decay}]
    groups = [g for g in groups if g["params"]]
    flags = ({"fused": True} if info.fused else {"foreach": True}) if fast else {}
    assert info.build is not None
    return info.build(groups, lr, params, wd, flags)
