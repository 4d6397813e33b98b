"""The backprop explorer's hand-written chain rule against torch.autograd, and its optimizer
step against torch.optim: every number the page shows, to 1e-6 (float64 throughout)."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from app.nn.choices.layers import ACTIVATIONS
from app.nn.choices.losses import LOSSES, loss_function
from app.nn.choices.optimizers import build_optimizer
from app.nn.explain import ExplainSpec, explain, symmetry, vanishing
from app.nn.explain.calculus import ACTIVATION_CALCULUS, LOSS_NAMES, MAX_SLOPE
from app.nn.training.trainer import Trainer

TOL = dict(rtol=1e-6, atol=1e-9)


def autograd(e):  # type: ignore[no-untyped-def]
    """The same network in float64 through torch's modules and the engine's loss."""
    act = ACTIVATIONS[e.spec.activation].make()
    ws = [w.clone().requires_grad_() for w in e.weights]
    bs = [b.clone().requires_grad_() for b in e.biases]
    a, zs, acts = e.x, [], []
    for w, b in zip(ws[:-1], bs[:-1], strict=True):
        z = F.linear(a, w, b)
        z.retain_grad()
        a = act(z)
        a.retain_grad()
        zs.append(z)
        acts.append(a)
    out = F.linear(a, ws[-1], bs[-1])
    out.retain_grad()
    loss = loss_function(e.loss_name, e.task)(out, e.y, 0.0, 1.0)
    loss.backward()
    return loss, [*zs, out], acts, ws, bs


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b.detach().to(a.dtype), **TOL)


CASES = [
    *[dict(activation=a, hidden=[3]) for a in ACTIVATIONS],
    dict(activation="sigmoid", hidden=[4, 4], batch=4),
    dict(activation="tanh", hidden=[2, 3], batch=3, dataset="blobs"),  # softmax CE
    dict(activation="relu", hidden=[4], dataset="blobs", loss="mse"),
    dict(activation="sigmoid", hidden=[3], loss="mse", batch=2),  # MSE on a probability
    dict(activation="elu", hidden=[3, 2], dataset="plane", batch=4),
    dict(activation="gelu", hidden=[3], dataset="sine", loss="huber", batch=4),
    dict(activation="silu", hidden=[4], dataset="plane", loss="l1", batch=2),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_every_forward_and_backward_number_equals_autograd(case: dict) -> None:
    e = explain(ExplainSpec(**case, seed=3, point=5))
    loss, zs, acts, ws, bs = autograd(e)
    assert float(e.now.loss) == pytest.approx(float(loss.detach()), rel=1e-9)
    for mine, d_mine, theirs in zip(e.now.z, e.now.d_z, zs, strict=True):
        close(mine, theirs)
        close(d_mine, theirs.grad)
    for mine, theirs in zip(e.now.a[:-1], acts, strict=True):
        close(mine, theirs)
    for mine, theirs in zip(e.now.d_a, acts, strict=True):
        close(mine, theirs.grad)
    for mine, w in zip(e.now.d_w, ws, strict=True):
        close(mine, w.grad)
    for mine, b in zip(e.now.d_b, bs, strict=True):
        close(mine, b.grad)
    # dL/dW is literally dL/dz x a_prev, summed over the batch, edge by edge.
    inputs = [e.x, *e.now.a[:-1]]
    for dw, dz, a in zip(e.now.d_w, e.now.d_z, inputs, strict=True):
        for j, i in itertools.product(range(dw.shape[0]), range(dw.shape[1])):
            assert float(dw[j, i]) == pytest.approx(float((dz[:, j] * a[:, i]).sum()), abs=1e-12)


def test_the_weights_and_points_are_the_playgrounds() -> None:
    spec = ExplainSpec(hidden=[4, 4], activation="tanh", batch=3, point=7, seed=11)
    e = explain(spec)
    trainer = Trainer(spec.experiment())
    for w, lin in zip(e.weights, trainer.model.linears(), strict=True):
        assert torch.equal(w, lin.weight.detach().double())
    out = trainer.model(trainer.data.train.x[7:10])
    torch.testing.assert_close(e.now.z[-1].float(), out.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("warmup", [0, 3])
def test_the_update_equals_torch_optim(optimizer: str, warmup: int) -> None:
    spec = ExplainSpec(optimizer=optimizer, lr=0.05, warmup=warmup, batch=2, hidden=[3, 2])
    e = explain(spec)
    experiment = spec.experiment()
    trainer = Trainer(experiment)
    params = [
        p.detach().double().clone().requires_grad_()
        for lin in trainer.model.linears()
        for p in (lin.weight, lin.bias)
    ]
    opt = build_optimizer(optimizer, spec.lr, e.hyper, params, [], 0.0, fast=False)
    loss_fn = loss_function(e.loss_name, e.task)
    act = ACTIVATIONS[spec.activation].make()
    for _ in range(warmup + 1):
        opt.zero_grad()
        a = e.x
        for w, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
            a = act(F.linear(a, w, b))
        loss_fn(F.linear(a, params[-2], params[-1]), e.y, 0.0, 1.0).backward()
        opt.step()
    mine = [
        p + d
        for p, d in zip(
            itertools.chain(*zip(e.weights, e.biases, strict=True)), e.deltas, strict=True
        )
    ]
    for m, theirs in zip(mine, params, strict=True):
        close(m, theirs)
    assert e.t == warmup + 1


def test_sigmoid_slopes_stay_under_a_quarter_and_the_signal_shrinks() -> None:
    e = explain(ExplainSpec(hidden=[4, 4], activation="sigmoid", batch=4, seed=2))
    layers = vanishing(e)
    assert all(layer["max_slope"] <= 0.25 and layer["bound"] == 0.25 for layer in layers)
    assert layers[0]["grad_ratio"] < layers[1]["grad_ratio"] < 1


def test_zero_init_gives_every_unit_of_a_layer_the_same_gradient() -> None:
    zero = explain(ExplainSpec(init="zeros", hidden=[3, 3], batch=2, activation="tanh"))
    assert max(symmetry(zero)) == 0.0
    rand = explain(ExplainSpec(hidden=[3, 3], batch=2, activation="tanh"))
    assert min(symmetry(rand)[:-1]) > 1e-6


def test_every_registry_activation_and_loss_has_a_formula() -> None:
    assert set(ACTIVATION_CALCULUS) == set(ACTIVATIONS) == set(MAX_SLOPE)
    assert set(LOSS_NAMES) == set(LOSSES) - {"auto"}
    z = torch.linspace(-6, 6, 2001, dtype=torch.float64)
    for name, (f, df) in ACTIVATION_CALCULUS.items():
        zz = z.clone().requires_grad_()
        y = ACTIVATIONS[name].make()(zz)
        y.sum().backward()
        close(f(z), y)
        close(df(z), zz.grad)
        assert float(df(z).max()) <= MAX_SLOPE[name] + 1e-3, name


def test_bad_specs_are_refused_with_the_field() -> None:
    for bad in ({"hidden": [5]}, {"hidden": [2, 2, 2]}, {"batch": 5}, {"activation": "nope"}):
        with pytest.raises(ValueError):
            ExplainSpec(**bad)
