"""The training loop: record format, determinism, divergence, early stopping, live control
and every regularisation / architecture option running end to end."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from app.nn.training.trainer import Trainer
from tests.nn.util import make_spec, of_kind, run, weights_copy, without_timing

STEP_KEYS = {
    "kind",
    "step",
    "epoch",
    "loss",
    "lr",
    "grad_norm",
    "grad_w",
    "grad_b",
    "update_ratio",
    "weight_norm",
    "diverged",
}
EVAL_KEYS = {"kind", "step", "epoch", "lr", "train", "val", "test", "layers"}
LAYER_KEYS = {"dead", "saturated", "act_mean", "act_std", "symmetry"}
END_KEYS = {"kind", "status", "reason", "step", "epoch", "best_epoch", "final", "seconds"}


def test_record_format_is_stable() -> None:
    """Other layers build on these keys: adding is fine, renaming or removing is not."""
    records = run(make_spec(train={"epochs": 2}))
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "start" and kinds[1] == "eval" and kinds[-1] == "end"
    assert kinds.count("step") == 2 * 6  # 60 training points, batch 10
    start = records[0]
    assert start["layers"] == ["h1", "h2", "out"] and start["units"] == [2, 6, 5, 1]
    assert start["sizes"] == {"train": 60, "val": 30, "test": 30}
    assert start["chance_loss"] == pytest.approx(math.log(2))
    for rec in of_kind(records, "step"):
        assert set(rec) >= STEP_KEYS
        assert len(rec["grad_w"]) == len(rec["grad_b"]) == len(rec["update_ratio"]) == 3
        assert len(rec["weight_norm"]) == 3 and rec["diverged"] == ""
        assert all(isinstance(v, float) for v in (rec["loss"], rec["lr"], rec["grad_norm"]))
    for rec in of_kind(records, "eval"):
        assert set(rec) >= EVAL_KEYS
        assert set(rec["train"]) == {"loss", "acc"}
        assert set(rec["layers"]) >= LAYER_KEYS
        assert all(len(v) == 2 for v in rec["layers"].values())
    end = records[-1]
    assert set(end) >= END_KEYS
    assert end["status"] == "finished" and end["step"] == 12 and end["epoch"] == 2
    assert set(end["final"]) == {
        f"{s}_{k}" for s in ("train", "val", "test") for k in ("loss", "acc")
    }


def test_regression_scores_and_empty_splits() -> None:
    spec = make_spec(data={"dataset": "sine", "val_fraction": 0.0}, train={"epochs": 1})
    end = run(spec)[-1]
    assert set(end["final"]) == {
        f"{s}_{k}" for s in ("train", "val", "test") for k in ("loss", "r2", "rmse")
    }
    assert end["final"]["val_loss"] is None and end["final"]["val_r2"] is None
    assert end["final"]["train_rmse"] == pytest.approx(
        math.sqrt(end["final"]["train_loss"]), rel=1e-4
    )


def test_eval_cadence() -> None:
    evals = of_kind(run(make_spec(stream={"eval_every": 4}, train={"epochs": 2})), "eval")
    assert [e["step"] for e in evals] == [0, 4, 8, 12]  # every 4 steps, and the last
    evals = of_kind(run(make_spec(train={"epochs": 3})), "eval")
    assert [e["step"] for e in evals] == [0, 6, 12, 18]  # 0 = after every epoch


OPTIONS: dict[str, dict[str, Any]] = {
    "dropout": {"model": {"layers": [{"units": 6, "dropout": 0.3}, {"units": 5, "dropout": 0.5}]}},
    "input_noise": {"train": {"input_noise": 0.3}},
    "dropout+noise+es": {
        "model": {"layers": [{"units": 6, "dropout": 0.3}]},
        "train": {"input_noise": 0.2, "early_stopping": {"patience": 2}},
    },
}


@pytest.mark.parametrize("over", list(OPTIONS.values()), ids=list(OPTIONS))
def test_same_spec_and_seed_give_identical_records(over: dict[str, Any]) -> None:
    first, second = run(make_spec(**over)), run(make_spec(**over))
    assert without_timing(first) == without_timing(second)
    other = run(make_spec(seed=1, **over))
    assert without_timing(other) != without_timing(first)


def test_a_huge_learning_rate_diverges_and_says_at_which_step() -> None:
    spec = make_spec(
        data={"dataset": "plane"},
        model={"layers": [{"units": 16, "activation": "relu"}] * 3},
        train={"optimizer": {"name": "sgd", "lr": 10.0}, "epochs": 50},
    )
    records = run(spec)
    end, last_step = records[-1], of_kind(records, "step")[-1]
    assert end["status"] == "diverged"
    assert f"at step {last_step['step']}" in end["reason"] == last_step["diverged"]
    assert last_step["step"] < 50 * 6  # it stopped early
    assert all(s["diverged"] == "" for s in of_kind(records, "step")[:-1])
    loss = last_step["loss"]
    assert not math.isfinite(loss) or loss > 1e4 * of_kind(records, "eval")[0]["train"]["loss"]


def test_a_sane_learning_rate_does_not_diverge() -> None:
    spec = make_spec(data={"dataset": "plane"}, train={"optimizer": {"lr": 0.01}, "epochs": 5})
    assert run(spec)[-1]["status"] == "finished"


def test_early_stopping_restores_the_best_validation_weights() -> None:
    patience = 3
    spec = make_spec(
        data={"dataset": "xor", "noise": 0.5, "samples": 80, "val_fraction": 0.3},
        model={"layers": [{"units": 32, "activation": "relu"}] * 2},
        train={
            "optimizer": {"name": "adam", "lr": 0.05},
            "epochs": 300,
            "early_stopping": {"patience": patience},
        },
    )
    trainer = Trainer(spec)
    states: dict[int, list[torch.Tensor]] = {}
    val_loss: dict[int, float] = {}
    for rec in trainer.records():
        if rec["kind"] == "eval" and rec["step"] > 0:
            states[rec["epoch"]] = [p.detach().clone() for p in trainer.model.parameters()]
            val_loss[rec["epoch"]] = rec["val"]["loss"]
        elif rec["kind"] == "end":
            end = rec
    assert end["status"] == "finished" and "early stopping" in end["reason"]
    best = end["best_epoch"]
    assert end["epoch"] == best + patience < 300  # stopped after `patience` idle epochs
    assert min(val_loss, key=lambda e: val_loss[e]) == best
    assert max(val_loss) == end["epoch"] and val_loss[end["epoch"]] > val_loss[best]
    for restored, kept in zip(trainer.model.parameters(), states[best], strict=True):
        assert torch.equal(restored.detach(), kept)
    assert end["final"]["val_loss"] == pytest.approx(val_loss[best], rel=1e-6)


def test_live_lr_change_applies_without_resetting_weights() -> None:
    trainer = Trainer(make_spec(train={"optimizer": {"name": "sgd", "lr": 0.05}}))
    records = trainer.records()
    steps = [r for r in (next(records) for _ in range(6)) if r["kind"] == "step"]
    assert steps and all(s["lr"] == 0.05 for s in steps)
    before = weights_copy(trainer)
    assert trainer.set_hparams(lr=0.4) == {"lr": 0.4}
    assert all(torch.equal(a, b) for a, b in zip(before, weights_copy(trainer), strict=True))
    rec = next(records)
    assert rec["kind"] == "step" and rec["lr"] == 0.4
    # Plain SGD: the real update is exactly the new lr times the gradient.
    after = weights_copy(trainer)
    for g, b, a in zip(rec["grad_w"], before, after, strict=True):
        assert float((a - b).norm()) == pytest.approx(0.4 * g, rel=1e-4)


def test_live_optimizer_params_and_bad_keys() -> None:
    trainer = Trainer(make_spec(train={"optimizer": {"name": "momentum", "momentum": 0.5}}))
    trainer.set_hparams(momentum=0.95, l2=0.1)
    assert all(g["momentum"] == 0.95 for g in trainer.optimizer.param_groups)
    assert trainer.hp["l2"] == 0.1
    with pytest.raises(ValueError, match="beta1"):
        trainer.set_hparams(beta1=0.5)
    with pytest.raises(ValueError, match="without clipping"):
        trainer.set_hparams(grad_clip=1.0)
    adam = Trainer(make_spec(train={"optimizer": {"name": "adamw"}, "weight_decay": 0.1}))
    adam.set_hparams(beta2=0.9, weight_decay=0.3)
    assert all(g["betas"] == (0.9, 0.9) for g in adam.optimizer.param_groups)
    assert adam.optimizer.param_groups[0]["weight_decay"] == 0.3


def test_stop_ends_the_run_between_steps() -> None:
    trainer = Trainer(make_spec(train={"epochs": 50}))
    records = trainer.records()
    for rec in records:
        if rec["kind"] == "step" and rec["step"] == 7:
            trainer.stop()
            break
    end = next(records)
    assert end["kind"] == "end" and end["status"] == "stopped" and end["step"] == 7


def test_gradient_clipping_by_norm_and_by_value() -> None:
    spec = make_spec(train={"optimizer": {"lr": 1.0}, "grad_clip": {"mode": "norm", "max": 0.01}})
    steps = of_kind(run(spec), "step")
    assert any(s["grad_norm"] > 0.01 for s in steps)  # it had something to clip
    assert all(s["grad_norm_clipped"] <= 0.01 * (1 + 1e-5) for s in steps)
    lr, limit = 1.0, 0.002
    spec = make_spec(train={"optimizer": {"lr": lr}, "grad_clip": {"mode": "value", "max": limit}})
    trainer = Trainer(spec)
    records = trainer.records()
    while True:
        before = weights_copy(trainer)
        if next(records)["kind"] == "step":
            break
    for a, b in zip(weights_copy(trainer), before, strict=True):
        assert float((a - b).abs().max()) <= lr * limit * (1 + 1e-5)  # every value clipped


def test_label_smoothing_changes_the_loss_as_cross_entropy_says() -> None:
    base = {"data": {"dataset": "blobs"}}
    plain = Trainer(make_spec(**base))
    smooth = Trainer(make_spec(**base, train={"label_smoothing": 0.2}))
    x, y = plain.data.train.x, plain.data.train.y
    out = plain.model(x).detach()
    expected = torch.nn.functional.cross_entropy(out, y.long(), label_smoothing=0.2)
    assert smooth.objective(x, y)[0].item() == pytest.approx(float(expected), rel=1e-6)
    assert smooth.objective(x, y)[0].item() != pytest.approx(plain.objective(x, y)[0].item())


ARCHITECTURES: dict[str, dict[str, Any]] = {
    "residual": {
        "data": {"features": ["x1", "x2", "x1sq", "x2sq"]},
        "model": {"layers": [{"units": 4, "residual": True}, {"units": 4, "residual": True}]},
    },
    "batchnorm": {"model": {"layers": [{"units": 6, "norm": "batch"}] * 2}},
    "layernorm": {"model": {"layers": [{"units": 6, "norm": "layer"}] * 2}},
    "dropout": {"model": {"layers": [{"units": 8, "dropout": 0.5}]}},
    "no-hidden": {"model": {"layers": []}},
    "all-features": {
        "data": {
            "features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2", "cos_x1", "cos_x2"]
        }
    },
    "everything": {
        "data": {"dataset": "spiral3", "val_fraction": 0.2},
        "model": {"layers": [{"units": 2, "norm": "batch", "dropout": 0.2, "residual": True}]},
        "train": {
            "optimizer": {"name": "adamw"},
            "schedule": {"name": "warmup_cosine", "warmup_epochs": 1},
            "label_smoothing": 0.1,
            "l1": 0.001,
            "l2": 0.001,
            "weight_decay": 0.01,
            "input_noise": 0.1,
            "grad_clip": {"mode": "norm", "max": 1.0},
            "early_stopping": {"patience": 5},
        },
    },
}


@pytest.mark.parametrize("over", list(ARCHITECTURES.values()), ids=list(ARCHITECTURES))
def test_every_option_trains_end_to_end(over: dict[str, Any]) -> None:
    records = run(make_spec(**over))
    end = records[-1]
    assert end["status"] == "finished", end["reason"]
    losses = [s["loss"] for s in of_kind(records, "step")]
    assert all(math.isfinite(v) for v in losses) and len(losses) == 18
    assert math.isfinite(end["final"]["train_loss"])


@pytest.mark.parametrize(
    ("samples", "batch_size"),
    [(120, 1), (122, 10)],  # every batch of 1, or 61 points leaving a last batch of 1
)
def test_batch_norm_refuses_batches_of_one_with_a_clear_message(
    samples: int, batch_size: int
) -> None:
    spec = make_spec(
        data={"samples": samples},
        model={"layers": [{"units": 4, "norm": "batch"}]},
        train={"batch_size": batch_size},
    )
    with pytest.raises(ValueError, match="batch norm needs at least 2 samples in every batch"):
        Trainer(spec)
    layer_norm = make_spec(
        data={"samples": samples},
        model={"layers": [{"units": 4, "norm": "layer"}]},
        train={"batch_size": batch_size, "epochs": 1},
    )
    assert run(layer_norm)[-1]["status"] == "finished"


def test_input_noise_perturbs_the_batches_and_can_change_live() -> None:
    quiet = of_kind(run(make_spec(train={"epochs": 1})), "step")
    noisy = of_kind(run(make_spec(train={"epochs": 1, "input_noise": 0.5})), "step")
    assert quiet[0]["loss"] != noisy[0]["loss"]  # same weights, same batch, noisier inputs
    trainer = Trainer(make_spec(train={"epochs": 1, "input_noise": 0.5}))
    records = trainer.records()
    for _ in range(3):  # start, step-0 eval, step 1
        next(records)
    trainer.set_hparams(input_noise=0.0)
    rest = [r for r in records if r["kind"] == "step"]
    assert [r["loss"] for r in rest] != [r["loss"] for r in noisy[1:]]
    assert trainer.hp["input_noise"] == 0.0
