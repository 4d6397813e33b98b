"""Model building: the module-free training forward equals the module one; init schemes
have the statistics they promise; evaluation metrics measure what they say."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from app.nn.choices.layers import ACTIVATIONS, INITS
from app.nn.measure.metrics import evaluate, layer_health, symmetry
from app.nn.models.mlp import build_model, fast_forward
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec

LAYOUTS: dict[str, list[dict[str, Any]]] = {
    "plain": [{"units": 5, "activation": "tanh"}, {"units": 4, "activation": "linear"}],
    "norms+dropout": [
        {"units": 6, "activation": "relu", "norm": "batch", "dropout": 0.3},
        {"units": 6, "activation": "gelu", "norm": "layer", "dropout": 0.5, "residual": True},
    ],
    "residual": [{"units": 3, "activation": "silu", "residual": True}],
    "none": [],
}


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_fast_forward_equals_the_module_forward(
    layout: list[dict[str, Any]], training: bool
) -> None:
    n_in = 3 if layout and layout[0].get("units") == 3 else 2
    model_spec = validate_spec(
        {"data": {"features": ["x1", "x2", "x1x2"][:n_in]}, "model": {"layers": layout}}
    ).model
    net = build_model(n_in, 2, model_spec, seed=3)
    net.train(training)
    x = torch.randn(16, n_in, generator=torch.Generator().manual_seed(0))
    fast = fast_forward(net)
    torch.manual_seed(7)
    expected = net(x)
    torch.manual_seed(7)  # the same dropout masks
    got = fast(x)
    assert torch.equal(got, expected)
    g1 = torch.autograd.grad(expected.square().sum(), list(net.parameters()))
    g2 = torch.autograd.grad(got.square().sum(), list(net.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(g1, g2, strict=True))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_builds_and_runs(activation: str) -> None:
    spec = validate_spec({"model": {"layers": [{"units": 4, "activation": activation}]}})
    net = build_model(2, 1, spec.model, seed=0)
    x = torch.linspace(-3, 3, 14).reshape(7, 2)
    assert torch.equal(fast_forward(net)(x), net(x))


def _wide_weight(init: str, activation: str = "tanh", **extra: Any) -> torch.Tensor:
    layers = [{"units": 128, "activation": activation}] * 2
    spec = validate_spec({"model": {"layers": layers, "init": init, **extra}})
    return build_model(2, 1, spec.model, seed=0).linears()[1].weight.detach()


def test_init_schemes_have_the_promised_scale() -> None:
    fan = 128
    tanh_gain = 5 / 3
    assert _wide_weight("zeros").abs().max() == 0
    assert torch.all(_wide_weight("constant", init_scale=0.3) == 0.3)
    assert float(_wide_weight("normal", init_scale=0.5).std()) == pytest.approx(0.5, rel=0.03)
    assert float(_wide_weight("uniform", init_scale=0.2).abs().max()) <= 0.2
    xavier_std = tanh_gain * math.sqrt(2 / (fan + fan))
    for init in ("xavier_uniform", "xavier_normal"):
        assert float(_wide_weight(init).std()) == pytest.approx(xavier_std, rel=0.03)
    he_std = math.sqrt(2 / fan)
    for init in ("kaiming_uniform", "kaiming_normal"):
        assert float(_wide_weight(init, "relu").std()) == pytest.approx(he_std, rel=0.03)
    assert float(_wide_weight("lecun_normal").std()) == pytest.approx(1 / math.sqrt(fan), rel=0.03)
    w = _wide_weight("orthogonal", "relu")
    torch.testing.assert_close(w @ w.T, 2 * torch.eye(fan), atol=1e-4, rtol=0)  # gain² = 2
    assert float(_wide_weight("default").abs().max()) <= 1 / math.sqrt(fan)


def test_every_init_is_covered_and_seeded() -> None:
    for init in INITS:
        a = _wide_weight(init)
        assert torch.equal(a, _wide_weight(init))
        assert torch.isfinite(a).all()


def test_bias_init() -> None:
    spec = validate_spec({"model": {"bias_init": -0.5}})
    net = build_model(2, 1, spec.model, seed=0)
    assert all(torch.all(lin.bias == -0.5) for lin in net.linears())


@torch.no_grad()
def _health(trainer: Trainer) -> dict[str, list[float]]:
    acts, _ = trainer.model.forward_trace(trainer.data.train.x)
    return layer_health(trainer.model, acts)


def test_dead_units_and_saturation_are_measured() -> None:
    dead_spec = make_spec(
        model={
            "layers": [{"units": 6, "activation": "relu"}],
            "init": "uniform",
            "init_scale": 0.5,
            "bias_init": -10.0,
        }
    )
    assert _health(Trainer(dead_spec))["dead"] == [1.0]
    healthy = make_spec(model={"layers": [{"units": 6, "activation": "leaky_relu"}]})
    assert _health(Trainer(healthy))["dead"] == [0.0]
    saturated = make_spec(model={"init": "normal", "init_scale": 20.0})
    assert min(_health(Trainer(saturated))["saturated"]) > 0.7
    calm = make_spec(model={"init": "normal", "init_scale": 0.01})
    assert max(_health(Trainer(calm))["saturated"]) == 0.0


def test_symmetry_metric() -> None:
    assert symmetry(torch.ones(4, 3)) == pytest.approx(1.0)
    assert symmetry(torch.zeros(4, 3)) == pytest.approx(1.0)
    assert symmetry(torch.eye(3)) == pytest.approx(0.0)


def test_evaluate_scores_against_hand_computation() -> None:
    trainer = Trainer(make_spec(data={"dataset": "plane"}))
    t = trainer.spec.train
    ev = evaluate(
        trainer.model, trainer.data.splits(), "regression", trainer.loss_fn, 0.0, t.huber_delta
    )
    split = trainer.data.test
    with torch.no_grad():
        pred = trainer.model(split.x)[:, 0]
    mse = float(((pred - split.y) ** 2).mean())
    r2 = 1 - mse * len(split) / float(((split.y - split.y.mean()) ** 2).sum())
    assert ev["test"] == pytest.approx({"loss": mse, "r2": r2, "rmse": math.sqrt(mse)}, rel=1e-5)
    classifier = Trainer(make_spec(data={"val_fraction": 0.0}))
    ev = classifier.evaluation()
    assert ev["val"] is None
    with torch.no_grad():
        out = classifier.model(classifier.data.test.x)[:, 0]
    acc = float(((out > 0) == (classifier.data.test.y > 0.5)).float().mean())
    assert ev["test"]["acc"] == pytest.approx(acc)


@torch.no_grad()
def test_dropout_differs_between_train_and_eval_and_keeps_the_expectation() -> None:
    """Inverted dropout: random in train mode, identity in eval mode, and the average
    train-mode activation equals the eval-mode one."""
    spec = validate_spec(
        {"model": {"layers": [{"units": 64, "activation": "tanh", "dropout": 0.5}]}}
    )
    net = build_model(2, 1, spec.model, seed=0)
    block = net.blocks[0]
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    net.train()
    a, b = block(x), block(x)
    assert not torch.equal(a, b)
    assert 0.3 < float((a == 0).float().mean()) < 0.7  # about half the units dropped
    net.eval()
    expected = block(x)
    assert torch.equal(expected, block(x))
    net.train()
    mean = torch.stack([block(x) for _ in range(4000)]).mean(0)
    torch.testing.assert_close(mean, expected, atol=0.05 * float(expected.abs().max()), rtol=0)
