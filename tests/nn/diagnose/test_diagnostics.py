"""Diagnostics checked against independent computations (numpy, explicit loops, autograd)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from app.nn.diagnose import diagnostics as dg
from app.nn.measure.metrics import symmetry
from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec, of_kind


def trainer_for(**over: object) -> Trainer:
    return Trainer(make_spec(**over))


# ---- distributions ----------------------------------------------------------------------
def test_bands_match_numpy_percentiles_and_skip_non_finite() -> None:
    values = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    expected = np.percentile(values.numpy(), dg.PERCENTILES)
    got = dg.bands(torch.cat([values, torch.tensor([math.nan, math.inf])]))
    assert list(got) == ["p5", "p25", "p50", "p75", "p95"]
    assert list(got.values()) == pytest.approx(expected.tolist(), abs=1e-6)
    assert all(math.isnan(v) for v in dg.bands(torch.tensor([math.nan])).values())


def test_histogram_matches_numpy_and_counts_non_finite_apart() -> None:
    values = torch.rand(500, generator=torch.Generator().manual_seed(1)) * 4 - 1
    counts, edges = np.histogram(values.numpy(), bins=10)
    got = dg.histogram(torch.cat([values, torch.tensor([math.inf, math.nan])]), bins=10)
    assert got["counts"] == counts.tolist()
    assert got["edges"] == pytest.approx(edges.tolist(), abs=1e-6)
    assert got["nonfinite"] == 2
    constant = dg.histogram(torch.full((7,), 2.0), bins=4)
    assert sum(constant["counts"]) == 7 and constant["edges"][0] < 2.0 < constant["edges"][-1]


def test_distribution_mean_std() -> None:
    values = torch.tensor([1.0, 2.0, 3.0, 6.0])
    got = dg.distribution(values, bins=3)
    assert got["mean"] == pytest.approx(3.0)
    assert got["std"] == pytest.approx(float(np.std([1, 2, 3, 6])))


# ---- flags ------------------------------------------------------------------------------
def test_gradient_flags_compare_each_hidden_layer_with_the_output_layer() -> None:
    assert dg.gradient_flags([1e-5, 0.5, 1.0]) == ["vanishing", "ok"]
    assert dg.gradient_flags([200.0, 1.0]) == ["exploding"]
    assert dg.gradient_flags([5e3, 1e4]) == ["exploding"]  # beyond the absolute bound
    assert dg.gradient_flags([math.nan, 1.0]) == ["nonfinite"]
    assert dg.gradient_flags([0.0, 0.0]) == ["vanishing"]  # nothing flows at all
    assert dg.update_ratio_flags([1e-6, 1e-3, 0.5]) == ["low", "ok", "high"]


def test_loss_at_init_against_chance() -> None:
    assert dg.expected_init_loss("multiclass", 3) == pytest.approx(math.log(3))
    assert dg.expected_init_loss("binary", 2) == pytest.approx(math.log(2))
    assert dg.expected_init_loss("regression", 1) is None
    near = dg.loss_at_init(0.7, "binary", 2)
    assert near["ratio"] == pytest.approx(0.7 / math.log(2)) and near["ok"] is True
    assert dg.loss_at_init(5.0, "multiclass", 3)["ok"] is False
    assert dg.loss_at_init(0.3, "regression", 1)["ok"] is None


# ---- lesson measurements ----------------------------------------------------------------
def test_sparsity_and_loss_jitter() -> None:
    w = [torch.tensor([0.0, 5e-4, -0.2]), torch.tensor([[1e-3, 0.5]])]
    assert dg.sparsity(w, tol=1e-3) == pytest.approx(3 / 5)
    losses = [1.0, 0.5, 0.75, 0.25, 0.5]
    assert dg.loss_jitter(losses) == pytest.approx(float(np.std(np.diff(losses))))
    assert dg.loss_jitter([1.0, 2.0]) == 0.0


def test_softmax_temperature_matches_the_definition() -> None:
    logits = torch.tensor([[2.0, 1.0, -1.0], [0.0, 0.0, 0.0]])
    for t in (0.3, 1.0, 3.0):
        probs, entropy = dg.softmax_temperature(logits, t)
        e = np.exp(logits.double().numpy() / t)
        p = e / e.sum(1, keepdims=True)
        assert probs.numpy() == pytest.approx(p, abs=1e-9)
        assert entropy.numpy() == pytest.approx(-(p * np.log(p)).sum(1), abs=1e-9)
    _, hot = dg.softmax_temperature(logits, 1e-3)
    _, flat = dg.softmax_temperature(logits, 1e4)
    assert float(hot[0]) < 1e-6 and float(flat[0]) == pytest.approx(math.log(3), abs=1e-3)
    assert float(flat[1]) == pytest.approx(math.log(3))  # equal logits: uniform at any T
    with pytest.raises(ValueError):
        dg.softmax_temperature(logits, 0.0)


def test_temperature_view_binary_reads_the_logit_as_two_classes() -> None:
    trainer = trainer_for()
    with torch.no_grad():
        z = float(trainer.model(trainer.data.train.x[:0].new_tensor([[1.0, -2.0]]))[0, 0])
    view = dg.temperature_view(trainer, 1.0, -2.0, (1.0, 2.0))
    p = 1 / (1 + math.exp(-z))
    assert view[0]["probs"] == pytest.approx([1 - p, p])
    assert view[0]["max_entropy"] == pytest.approx(math.log(2))
    assert view[1]["entropy"] >= view[0]["entropy"]
    with pytest.raises(ValueError):
        dg.temperature_view(trainer_for(data={"dataset": "sine"}), 0.0, 0.0)


def test_sign_agreement_of_crafted_updates() -> None:
    delta = torch.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0], [-1.0, -1.0, 1.0]])
    # Rows: all one sign -> 1; +,- -> 0; unmoved -> skipped; two of three -> 1/3.
    assert dg.sign_agreement(delta) == pytest.approx((1 + 0 + 1 / 3) / 3)
    assert math.isnan(dg.sign_agreement(torch.zeros(2, 2)))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_per_sample_sign_agreement_matches_explicit_per_point_gradients(activation: str) -> None:
    trainer = trainer_for(model={"layers": [{"units": 6, "activation": activation}] * 2})
    layer, n = 1, 20
    x, y = trainer.data.train.x[:n], trainer.data.train.y[:n]
    weight = trainer.weights[layer]
    rows = []
    for i in range(n):  # one backward per point: that point's own gradient
        loss = trainer.loss_fn(trainer.model(x[i : i + 1]), y[i : i + 1], 0.0, 1.0)
        (g,) = torch.autograd.grad(loss, weight)
        signs = torch.sign(g)
        for row in signs:
            if row.abs().sum() > 0:
                rows.append(float(row.sum().abs() / row.abs().sum()))
    expected = sum(rows) / len(rows)
    assert dg.per_sample_sign_agreement(trainer, layer, max_points=n) == pytest.approx(expected)
    if activation == "sigmoid":
        assert expected == pytest.approx(1.0)


def test_dropout_behaviour_keeps_expectations_and_leaves_the_rng_alone() -> None:
    trainer = trainer_for(model={"layers": [{"units": 64, "activation": "relu", "dropout": 0.3}]})
    state = torch.get_rng_state()
    got = dg.dropout_behaviour(trainer.model, trainer.data.train.x, masks=300)
    assert torch.equal(torch.get_rng_state(), state)
    (layer,) = got["layers"]
    assert layer["p"] == 0.3
    assert layer["kept_fraction"] == pytest.approx(0.7, abs=0.01)
    assert layer["expectation_ratio"] == pytest.approx(1.0, abs=0.02)
    assert got["output_diff"] > 0
    plain = dg.dropout_behaviour(trainer_for().model, trainer.data.train.x)
    assert plain == {"output_diff": 0.0, "layers": []}


# ---- the probe and the frame --------------------------------------------------------------
def test_probe_gradients_match_a_plain_backward_and_leave_grad_alone() -> None:
    trainer = trainer_for(train={"l2": 0.1})
    x, y = trainer.data.train.x, trainer.data.train.y
    p = dg.probe(trainer, max_points=len(y))
    assert all(w.grad is None for w in trainer.weights)  # .grad untouched
    loss, pen = trainer.objective(x, y)
    (loss + pen).backward()
    for got, w in zip(p.weight_grads, trainer.weights, strict=True):
        assert torch.allclose(got, w.grad, atol=1e-6)  # type: ignore[arg-type]
    assert p.loss == pytest.approx(float(loss.detach()))
    assert [tuple(i.shape) for i in p.inputs] == [(len(y), 2), (len(y), 6), (len(y), 5)]


def test_frame_values_against_independent_computations() -> None:
    spec = make_spec(model={"layers": [{"units": 8, "activation": "relu"}] * 2})
    trainer = Trainer(spec)
    records = iter(trainer.records())
    steps = [r for r in (next(records) for _ in range(12)) if r["kind"] == "step"]
    frame = dg.diagnostics_frame(trainer, step_record=steps[-1], bins=12)
    json.dumps(frame)  # JSON-ready
    model, x = trainer.model, trainer.data.train.x
    with torch.no_grad():
        acts, _ = model.forward_trace(x)
    assert [layer["name"] for layer in frame["layers"]] == ["h1", "h2"]
    out_norm = frame["output"]["grad_norm"]
    for i, (layer, a) in enumerate(zip(frame["layers"], acts, strict=True)):
        assert layer["dead"] == pytest.approx(float((a.abs().amax(0) <= 1e-6).float().mean()))
        assert layer["symmetry"] == pytest.approx(symmetry(trainer.weights[i]))
        assert sum(layer["activation"]["counts"]) == a.numel()
        assert layer["activation"]["bands"]["p50"] == pytest.approx(float(np.median(a.numpy())))
        assert layer["gradient"]["bands"]["p5"] <= layer["gradient"]["bands"]["p95"]
        assert layer["update_ratio"] == steps[-1]["update_ratio"][i]
        assert layer["grad_ratio"] == pytest.approx(layer["grad_norm"] / out_norm)
    assert frame["loss_at_init"]["expected"] == pytest.approx(math.log(2))
    assert frame["loss_at_init"]["actual"] == trainer.initial_loss
    assert frame["reference"]["update_ratio"] == 1e-3


def test_frames_do_not_change_the_run() -> None:
    """Probing in eval mode between steps leaves dropout masks and BatchNorm statistics alone."""
    spec = make_spec(
        model={"layers": [{"units": 8, "activation": "relu", "norm": "batch", "dropout": 0.3}]}
    )
    plain = [r["loss"] for r in of_kind(list(Trainer(spec).records()), "step")]
    probed_trainer = Trainer(spec)
    probed = []
    for rec in probed_trainer.records():
        if rec["kind"] == "step":
            probed.append(rec["loss"])
            dg.diagnostics_frame(probed_trainer)
    assert probed == plain


def test_zero_init_frame_reads_full_symmetry_and_flags_the_stalled_gradient() -> None:
    trainer = trainer_for(model={"init": "zeros"})
    trainer.initial_loss = trainer.evaluation()["train"]["loss"]
    frame = dg.diagnostics_frame(trainer)
    assert [layer["symmetry"] for layer in frame["layers"]] == [1.0, 1.0]
    assert frame["flags"]["vanishing"] == ["h1", "h2"]  # tanh(0) = 0: nothing flows back
    assert frame["loss_at_init"]["actual"] == pytest.approx(math.log(2))
    assert frame["loss_at_init"]["ok"] is True


def test_an_explicit_batch_is_probed_as_given() -> None:
    trainer = trainer_for()
    x, y = trainer.data.train.x, trainer.data.train.y
    given = dg.probe(trainer, batch=(x[:10], y[:10]))
    default = dg.probe(trainer, max_points=10)
    assert given.loss == default.loss
    assert all(torch.equal(a, b) for a, b in zip(given.acts, default.acts, strict=True))
    frame = dg.diagnostics_frame(trainer, batch=(x[10:30], y[10:30]))
    assert sum(frame["layers"][0]["activation"]["counts"]) == 20 * 6


def test_frame_reports_sparsity_and_dropout_readouts() -> None:
    trainer = trainer_for(model={"layers": [{"units": 32, "activation": "relu", "dropout": 0.5}]})
    with torch.no_grad():
        trainer.weights[0][:, 0] = 0.0  # half of h1's incoming weights (one of two inputs)
    frame = dg.diagnostics_frame(trainer)
    expected = float((trainer.weights[0].abs() <= dg.NEAR_ZERO).double().mean())
    assert frame["layers"][0]["sparsity"] == pytest.approx(expected) and expected >= 0.5
    (layer,) = frame["dropout"]["layers"]
    assert layer["p"] == 0.5 and layer["expectation_ratio"] == pytest.approx(1.0, abs=0.1)
    assert dg.diagnostics_frame(trainer_for())["dropout"] is None
