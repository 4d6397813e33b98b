"""Optimizers map to the right torch classes with the spec's values; the fast (fused /
foreach) implementations match the plain ones; penalties and decay do what they say."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.choices.optimizers import OPTIMIZERS, build_optimizer
from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec, weights_copy

# name -> (torch class, non-default spec params, expected param_group values)
CASES: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any], dict[str, Any]]] = {
    "sgd": (torch.optim.SGD, {}, {"momentum": 0, "nesterov": False, "weight_decay": 0}),
    "momentum": (
        torch.optim.SGD,
        {"momentum": 0.8, "dampening": 0.1},
        {"momentum": 0.8, "dampening": 0.1, "nesterov": False},
    ),
    "nesterov": (torch.optim.SGD, {"momentum": 0.7}, {"momentum": 0.7, "nesterov": True}),
    "adagrad": (
        torch.optim.Adagrad,
        {"lr_decay": 0.01, "initial_accumulator_value": 0.2, "eps": 1e-9},
        {"lr_decay": 0.01, "initial_accumulator_value": 0.2, "eps": 1e-9},
    ),
    "rmsprop": (
        torch.optim.RMSprop,
        {"alpha": 0.95, "eps": 1e-7, "momentum": 0.5, "centered": True},
        {"alpha": 0.95, "eps": 1e-7, "momentum": 0.5, "centered": True},
    ),
    "adam": (
        torch.optim.Adam,
        {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "amsgrad": True},
        {"betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True, "weight_decay": 0},
    ),
    "adamw": (
        torch.optim.AdamW,
        {"beta1": 0.85, "beta2": 0.995, "eps": 1e-7},
        {"betas": (0.85, 0.995), "eps": 1e-7, "amsgrad": False},
    ),
    "nadam": (
        torch.optim.NAdam,
        {"beta1": 0.8, "momentum_decay": 0.01},
        {"betas": (0.8, 0.999), "momentum_decay": 0.01},
    ),
    "radam": (torch.optim.RAdam, {"beta2": 0.98, "eps": 1e-6}, {"betas": (0.9, 0.98)}),
    "adamax": (torch.optim.Adamax, {"beta1": 0.7}, {"betas": (0.7, 0.999), "eps": 1e-8}),
    "adafactor": (
        torch.optim.Adafactor,
        {"beta2_decay": -0.5, "d": 2.0},
        {"beta2_decay": -0.5, "d": 2.0},
    ),
}


def test_every_registered_optimizer_is_covered() -> None:
    assert set(CASES) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(CASES))
def test_optimizer_is_the_torch_class_with_the_spec_values(name: str) -> None:
    cls, params, expected = CASES[name]
    spec = make_spec(train={"optimizer": {"name": name, "lr": 0.02, **params}, "weight_decay": 0.1})
    trainer = Trainer(spec)
    opt = trainer.optimizer
    assert type(opt) is cls
    for group in opt.param_groups:
        assert group["lr"] == 0.02
        for key, value in expected.items():
            assert group[key] == value, (key, group[key])
    # Every model parameter is optimised, exactly once.
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in trainer.model.parameters())
    if name == "adamw":  # decoupled decay on weights only, never biases
        weights, biases = opt.param_groups
        assert weights["weight_decay"] == 0.1 and biases["weight_decay"] == 0.0
        assert {id(p) for p in weights["params"]} == {id(w) for w in trainer.weights}
    else:  # the trainer applies decoupled decay itself; torch's own L2 stays off
        assert all(g.get("weight_decay", 0) == 0 for g in opt.param_groups)


@pytest.mark.parametrize("name", list(CASES))
def test_fast_implementation_matches_the_plain_one(name: str) -> None:
    """Fused / foreach kernels give the plain per-tensor loop's results to 1e-6."""
    _, params, _ = CASES[name]
    spec = make_spec(
        train={"optimizer": {"name": name, "lr": 0.02, **params}, "weight_decay": 0.05, "epochs": 4}
    )
    fast, plain = Trainer(spec), Trainer(spec)
    t = spec.train
    plain.optimizer = build_optimizer(
        name, t.optimizer.lr, t.optimizer.params(), plain.weights, plain.biases, 0.05, fast=False
    )
    flag = "fused" if OPTIMIZERS[name].fused else "foreach"
    assert fast.optimizer.defaults[flag] is True
    assert not plain.optimizer.defaults.get("fused") and not plain.optimizer.defaults["foreach"]
    end_fast, end_plain = fast.run(), plain.run()
    assert end_fast["step"] == end_plain["step"] == 24
    for a, b in zip(fast.model.parameters(), plain.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert weights_copy(fast)[0].ne(weights_copy(Trainer(spec))[0]).any()  # it did train


def test_penalties_add_exactly_l1_and_half_l2_over_weights() -> None:
    l1, l2 = 0.03, 0.2
    plain = Trainer(make_spec())
    penalised = Trainer(make_spec(train={"l1": l1, "l2": l2}))
    x, y = plain.data.train.x, plain.data.train.y
    loss0, pen0 = (t.detach() for t in plain.objective(x, y))
    loss, pen = (t.detach() for t in penalised.objective(x, y))
    assert float(pen0) == 0.0
    assert float(loss) == pytest.approx(float(loss0), rel=1e-7)  # same init, same data loss
    by_hand = sum(
        l1 * float(w.abs().sum()) + l2 / 2 * float((w**2).sum()) for w in weights_copy(plain)
    )
    assert float(pen) == pytest.approx(by_hand, rel=1e-6)
    # Biases are not penalised: the penalty ignores them.
    with torch.no_grad():
        for b in penalised.biases:
            b.add_(5.0)
    assert float(penalised.objective(x, y)[1].detach()) == pytest.approx(by_hand, rel=1e-6)


def test_penalty_shows_in_the_step_record_and_the_gradient() -> None:
    """The gradient of l2/2·Σw² is l2·w: SGD's first step moves by lr·(g + l2·w)."""
    l2, lr = 0.5, 0.1
    spec = make_spec(train={"l2": l2, "batch_size": 5000, "optimizer": {"lr": lr}})
    trainer = Trainer(spec)
    before = weights_copy(trainer)
    x, y = trainer.data.train.x, trainer.data.train.y
    net_out = trainer.model(x)
    data_loss = F.binary_cross_entropy_with_logits(net_out[:, 0], y)
    data_grads = torch.autograd.grad(data_loss, trainer.weights)
    rec = next(r for r in trainer.records() if r["kind"] == "step")
    hand_pen = sum(l2 / 2 * float((w**2).sum()) for w in before)
    assert rec["penalty"] == pytest.approx(hand_pen, rel=1e-6)
    assert rec["loss"] == pytest.approx(data_loss.item(), rel=1e-5)  # the data loss alone
    for w0, g, w1 in zip(before, data_grads, trainer.weights, strict=True):
        torch.testing.assert_close(w1.detach(), w0 - lr * (g + l2 * w0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_decoupled_weight_decay_shrinks_weights_by_lr_wd(name: str) -> None:
    """weight_decay on a non-AdamW optimizer: w <- w·(1 - lr·wd), then the optimizer's step.
    With a zero learning-rate effect on the data (tiny lr) the shrink dominates."""
    lr, wd = 0.05, 0.5
    spec = make_spec(train={"optimizer": {"name": name, "lr": lr}, "weight_decay": wd})
    with_decay, without = (
        Trainer(spec),
        Trainer(make_spec(train={"optimizer": {"name": name, "lr": lr}})),
    )
    recs_a = with_decay.records()
    recs_b = without.records()
    for _ in range(2):  # start + step-0 eval
        next(recs_a), next(recs_b)
    w0 = weights_copy(with_decay)
    next(recs_a), next(recs_b)
    # Same gradient (same weights, same batch); the decayed run also shrank first.
    for a, b, w in zip(with_decay.weights, without.weights, w0, strict=True):
        torch.testing.assert_close(a.detach(), b.detach() - lr * wd * w, rtol=1e-5, atol=1e-6)
