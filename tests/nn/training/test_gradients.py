"""Per-step gradient measurements against independent oracles: torch.autograd on a copy of
the model, central finite differences in float64, and the real weight change."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec, merge, weights_copy


def _full_batch(**over: Any) -> Trainer:
    """A trainer whose every step sees the whole training set (the order cannot matter):
    the batch size is capped at the training set."""
    return Trainer(make_spec(**merge(over, {"train": {"batch_size": 5000}})))


def _autograd_norms(trainer: Trainer, l2: float) -> tuple[list[float], list[float], float]:
    """Grad norms of BCE + l2/2·Σw² on the full training set, via autograd on a copy."""
    net = copy.deepcopy(trainer.model).double()
    x, y = trainer.data.train.x.double(), trainer.data.train.y.double()
    lins = net.linears()
    loss = F.binary_cross_entropy_with_logits(net(x)[:, 0], y)
    loss = loss + 0.5 * l2 * sum((lin.weight**2).sum() for lin in lins)
    params = [lin.weight for lin in lins] + [lin.bias for lin in lins]
    extras = [p for p in net.parameters() if all(p is not q for q in params)]
    grads = torch.autograd.grad(loss, params + extras)
    norms = [float(torch.linalg.vector_norm(g)) for g in grads]
    n = len(lins)
    return norms[:n], norms[n : 2 * n], math.sqrt(sum(v * v for v in norms))


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"train": {"l2": 0.3, "optimizer": {"name": "adam", "lr": 0.05}}},
        {"model": {"layers": [{"units": 6, "norm": "layer"}, {"units": 5, "norm": "batch"}]}},
        {"train": {"optimizer": {"name": "momentum", "lr": 0.1}}},
    ],
    ids=["sgd", "adam+l2", "norms", "momentum"],
)
def test_grad_norms_match_autograd(over: dict[str, Any]) -> None:
    trainer = _full_batch(**over)
    l2 = trainer.spec.train.l2
    records = trainer.records()
    checked = 0
    for rec in records:
        if rec["kind"] == "eval" and rec["step"] < 4:
            # The weights the next step will see: compute its gradients independently.
            want_w, want_b, want_total = _autograd_norms(trainer, l2)
            step = next(records)
            assert step["kind"] == "step"
            assert step["grad_w"] == pytest.approx(want_w, rel=2e-5, abs=1e-6)
            assert step["grad_b"] == pytest.approx(want_b, rel=2e-5, abs=1e-6)
            assert step["grad_norm"] == pytest.approx(want_total, rel=2e-5)
            checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_batchnorm_params_count_in_the_global_norm() -> None:
    trainer = _full_batch(model={"layers": [{"units": 4, "norm": "batch"}]})
    rec = next(r for r in trainer.records() if r["kind"] == "step")
    layers_only = math.sqrt(sum(g * g for g in rec["grad_w"] + rec["grad_b"]))
    assert rec["grad_norm"] > layers_only  # the BatchNorm affine params add to it
    assert all(g > 0 for g in rec["grad_w"])


@pytest.mark.parametrize(
    "over",
    [
        {"train": {"optimizer": {"name": "momentum", "lr": 0.2}, "weight_decay": 0.1}},
        {"train": {"optimizer": {"name": "adamw", "lr": 0.05}, "weight_decay": 0.2}},
        {"train": {"grad_clip": {"mode": "norm", "max": 0.05}}},
        {"train": {"grad_clip": {"mode": "value", "max": 0.01}, "l1": 0.01}},
    ],
    ids=["momentum+wd", "adamw", "clip-norm", "clip-value+l1"],
)
def test_update_ratio_is_the_real_weight_change(over: dict[str, Any]) -> None:
    trainer = Trainer(make_spec(**over))
    records = trainer.records()
    steps = 0
    while steps < 6:
        before = weights_copy(trainer)
        rec = next(records)
        if rec["kind"] != "step":
            continue
        after = weights_copy(trainer)
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert rec["update_ratio"][i] == pytest.approx(
                float((a - b).norm() / a.norm()), rel=1e-4, abs=1e-9
            )
            assert rec["weight_norm"][i] == pytest.approx(float(a.norm()), rel=1e-6)
        steps += 1


def test_update_ratio_is_not_lr_times_grad_under_momentum() -> None:
    """Momentum makes the step differ from lr·g: the ratio must see the real one."""
    records = Trainer(make_spec(train={"optimizer": {"name": "momentum", "lr": 0.1}})).records()
    steps = [r for r in records if r["kind"] == "step"][:10]
    naive = [
        0.1 * g / w for g, w in zip(steps[-1]["grad_w"], steps[-1]["weight_norm"], strict=True)
    ]
    assert steps[-1]["update_ratio"] != pytest.approx(naive, rel=0.05)
    # Plain SGD with no decay or clipping: the update is exactly lr·g.
    records = Trainer(make_spec()).records()
    step = next(r for r in records if r["kind"] == "step")
    lr = step["lr"]
    for g, w, ratio in zip(step["grad_w"], step["weight_norm"], step["update_ratio"], strict=True):
        assert ratio == pytest.approx(lr * g / w, rel=1e-4)


def _total(trainer: Trainer, x: torch.Tensor, y: torch.Tensor) -> float:
    loss, pen = trainer.objective(x, y)
    return float(loss + pen)


def _finite_difference_check(over: dict[str, Any]) -> None:
    trainer = Trainer(make_spec(**over))
    trainer.model.double()  # in place: the trainer's weight lists still point at them
    trainer.model.eval()  # batch-norm statistics and dropout fixed, the function is smooth
    x, y = trainer.data.train.x[:12].double(), trainer.data.train.y[:12].double()
    loss, pen = trainer.objective(x, y)
    params = list(trainer.model.parameters())
    grads = torch.autograd.grad(loss + pen, params)
    h = 1e-6
    with torch.no_grad():
        for p, g in zip(params, grads, strict=True):
            flat = p.view(-1)
            for i in range(flat.numel()):
                old = float(flat[i])
                flat[i] = old + h
                up = _total(trainer, x, y)
                flat[i] = old - h
                down = _total(trainer, x, y)
                flat[i] = old
                numeric = (up - down) / (2 * h)
                assert float(g.view(-1)[i]) == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize(
    "over",
    [
        {"train": {"l2": 0.2}},
        {
            "data": {"dataset": "spiral3"},
            "model": {"layers": [{"units": 4, "activation": "sigmoid", "norm": "layer"}]},
            "train": {"label_smoothing": 0.1},
        },
        {
            "data": {"dataset": "multigauss", "features": ["x1", "x2", "x1x2"]},
            "model": {"layers": [{"units": 3, "activation": "gelu", "residual": True}]},
            "train": {"loss": "huber", "huber_delta": 0.2},
        },
        {"model": {"layers": [{"units": 3, "activation": "elu", "norm": "batch"}]}},
    ],
    ids=["bce+l2", "ce+smoothing+layernorm", "huber+residual", "batchnorm-eval"],
)
def test_finite_differences_agree_with_backprop(over: dict[str, Any]) -> None:
    _finite_difference_check(over)
