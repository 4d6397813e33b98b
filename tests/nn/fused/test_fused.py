"""The fused kernel against the eager loop (the reference): same per-step losses within
1e-5 relative over 1,000 steps for every configuration it covers, same metrics, the
model's own parameters updated; and eager, with its reason, for everything it does not.

The default run checks a seeded sample of the configurations; `-m slow` checks them all."""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch

from app.nn import fused
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.fused import build, plan
from app.nn.models.mlp import Network
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.trainer import Record, Trainer
from tests.nn.util import merge

STEPS = 1000
BASE: dict[str, Any] = {
    "seed": 3,
    "data": {"dataset": "spiral", "samples": 500, "train_fraction": 0.5},
    "model": {"layers": [{"units": 8, "activation": "tanh"}] * 2},
    "train": {"optimizer": {"name": "sgd", "lr": 0.03}, "batch_size": 10, "epochs": 40},
    "stream": {"eval_every": 100_000},
}


def _layers(act: str, **extra: Any) -> dict[str, Any]:
    return {"model": {"layers": [{"units": 8, "activation": act, **extra}] * 2}}


def _opt(name: str, lr: float, **params: Any) -> dict[str, Any]:
    return {"train": {"optimizer": {"name": name, "lr": lr, **params}}}


# Stable settings (DESIGN.md: Adam runs in unstable stretches split between any two
# implementations, torch's own included), 1,000 steps each.
CASES: dict[str, dict[str, Any]] = {
    "sgd": {},
    "momentum": _opt("momentum", 0.01, momentum=0.9, dampening=0.1),
    "nesterov": _opt("nesterov", 0.01),
    "adam": _opt("adam", 0.01),
    "adam_amsgrad": _opt("adam", 0.005, amsgrad=True),
    "adamw": merge(_opt("adamw", 0.01), {"train": {"weight_decay": 0.05}}),
    "rmsprop": _opt("rmsprop", 0.003),
    "rmsprop_centered_momentum": _opt("rmsprop", 0.001, centered=True, momentum=0.5),
    "sgd_decay_l1_l2": {"train": {"l1": 1e-3, "l2": 1e-3, "weight_decay": 1e-2}},
    "adam_l2": merge(_opt("adam", 0.01), {"train": {"l2": 1e-3}}),
    "clip_norm": {"train": {"grad_clip": {"mode": "norm", "max": 0.3}}},
    "clip_value": merge(
        _opt("momentum", 0.01), {"train": {"grad_clip": {"mode": "value", "max": 0.05}}}
    ),
    "input_noise": {"train": {"input_noise": 0.1}},
    "dropout": _layers("tanh", dropout=0.2),
    "layernorm": _layers("tanh", norm="layer"),
    "residual": {
        "model": {
            "layers": [
                {"units": 8, "activation": "relu"},
                {"units": 8, "activation": "relu", "residual": True},
            ]
        }
    },
    "cosine_schedule_batch1": {
        "train": {"batch_size": 1, "epochs": 4, "schedule": {"name": "cosine"}}
    },
    "batch_250": {"train": {"batch_size": 250, "epochs": 1000}},
    "batch_250_adam": merge(_opt("adam", 0.002), {"train": {"batch_size": 250, "epochs": 1000}}),
    "features": {"data": {"features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin_x1", "cos_x2"]}},
    "bce_smoothing": {"train": {"label_smoothing": 0.1}},
    "mse_binary": {"train": {"loss": "mse"}},
    "ce_multiclass": {"data": {"dataset": "spiral3"}},
    "ce_smoothing": merge({"data": {"dataset": "blobs"}}, {"train": {"label_smoothing": 0.1}}),
    "mse_multiclass": merge({"data": {"dataset": "blobs"}}, {"train": {"loss": "mse"}}),
    "regression_mse": {
        "data": {"dataset": "plane"},
        "train": {"optimizer": {"name": "sgd", "lr": 0.01}},
    },
    "regression_huber": {"data": {"dataset": "sine_outliers"}, "train": {"loss": "huber"}},
    "regression_l1": {
        "data": {"dataset": "sine"},
        "train": {"loss": "l1", "optimizer": {"name": "sgd", "lr": 0.01}},
    },
}
CASES |= {f"act_{a}": _layers(a) for a in plan.ACTIVATIONS if a != "tanh"}
SAMPLE = {"sgd", "adam", "dropout", *random.Random(13).sample(sorted(CASES), 5)}


def spec_of(over: dict[str, Any]) -> Spec:
    return validate_spec(merge(BASE, over))


def steps(trainer: Trainer, limit: int = STEPS) -> list[Record]:
    out = [r for r in trainer.records() if r["kind"] == "step"]
    return out[:limit]


def assert_same_steps(eager: list[Record], fused_: list[Record], rel: float = 1e-5) -> None:
    assert len(eager) == len(fused_) == STEPS
    for a, b in zip(eager, fused_, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=rel, abs=1e-7), a["step"]
        assert b.keys() == a.keys()
        assert b["lr"] == a["lr"] and b["epoch"] == a["epoch"]
    # Measurements: same values (float32 sums in a different order: looser tolerance).
    for a, b in zip(eager[:50], fused_[:50], strict=True):
        for key in ("grad_norm", "grad_w", "grad_b", "update_ratio", "weight_norm", "penalty"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-7), key
        if "grad_norm_clipped" in a:
            assert b["grad_norm_clipped"] == pytest.approx(a["grad_norm_clipped"], rel=1e-4)


@pytest.fixture(scope="module", autouse=True)
def _kernel_built() -> None:
    module, problem = build.load()
    assert module is not None, problem  # `make install` builds it


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=() if n in SAMPLE else pytest.mark.slow) for n in CASES]
)
def test_fused_steps_equal_eager(name: str) -> None:
    spec = spec_of(CASES[name])
    reference = Trainer(spec, engine="eager")
    trainer = Trainer(spec)
    assert (trainer.engine, reference.engine) == ("fused", "eager"), trainer.engine_reason
    assert_same_steps(steps(reference), steps(trainer))
    # The kernel trained the model's own parameters (snapshots, export and weights.pt
    # read them) and left each gradient in .grad, as backward does.
    for p, q in zip(reference.model.parameters(), trainer.model.parameters(), strict=True):
        assert torch.allclose(p, q, rtol=1e-3, atol=1e-4)
        assert q.grad is not None and torch.allclose(p.grad, q.grad, rtol=1e-2, atol=1e-5)


def test_live_changes_reach_the_kernel() -> None:
    """set_hparams between steps (lr, momentum, l2, clipping) acts on the next fused step."""
    spec = spec_of(
        merge(_opt("momentum", 0.01), {"train": {"grad_clip": {"mode": "norm", "max": 1.0}}})
    )
    runs = []
    for engine in ("eager", "auto"):
        trainer = Trainer(spec, engine=engine)
        got = []
        for rec in trainer.records():
            if rec["kind"] != "step":
                continue
            got.append(rec)
            if rec["step"] == 300:
                trainer.set_hparams(lr=0.03, momentum=0.5, l2=1e-3, grad_clip=0.2)
            if len(got) == STEPS:
                break
        runs.append(got)
    assert runs[1][299]["lr"] == 0.01 and runs[1][300]["lr"] == 0.03
    assert "penalty" in runs[1][300] and "penalty" not in runs[1][299]
    assert_same_steps(*runs)


def test_start_record_names_the_path() -> None:
    start = next(iter(Trainer(spec_of({})).records()))
    assert start["engine"]["path"] == "fused" and start["engine"]["reason"]
    start = next(iter(Trainer(spec_of({}), engine="eager").records()))
    assert start["engine"] == {"path": "eager", "reason": "eager engine requested"}


UNSUPPORTED: dict[str, tuple[dict[str, Any], str]] = {
    "batch_norm": (_layers("tanh", norm="batch"), "batch norm"),
    **{
        f"optimizer_{name}": (_opt(name, 0.01), f"optimizer {name} has no fused kernel")
        for name in OPTIMIZERS
        if name not in plan.OPTIMIZERS
    },
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_fallback_says_why(name: str) -> None:
    over, reason = UNSUPPORTED[name]
    trainer = Trainer(spec_of(merge(over, {"train": {"epochs": 1}})))
    assert trainer.engine == "eager" and reason in trainer.engine_reason
    records = list(trainer.records())
    assert records[0]["engine"] == {"path": "eager", "reason": trainer.engine_reason}
    assert records[-1]["status"] == "finished"


def test_fallback_for_a_custom_model() -> None:
    spec = spec_of({})

    class Custom(Network):
        pass

    model = Custom(2, 1, spec.model)
    trainer = Trainer(spec, model=model)
    assert trainer.engine == "eager" and "custom model" in trainer.engine_reason


def test_fallback_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(plan.ENV, "eager")
    trainer = Trainer(spec_of({}))
    assert (trainer.engine, trainer.engine_reason) == ("eager", f"{plan.ENV}=eager")


def test_fallback_when_not_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """A missing build never compiles at run time: eager, and the start record says why."""
    monkeypatch.setenv("PLAYGROUND_FUSED_DIR", str(tmp_path))
    build.load.cache_clear()
    try:
        trainer = Trainer(spec_of({"train": {"epochs": 1}}))
        assert trainer.engine == "eager" and "not built" in trainer.engine_reason
        assert not any(tmp_path.iterdir())  # nothing was compiled
        assert list(trainer.records())[-1]["status"] == "finished"
    finally:
        monkeypatch.undo()
        build.load.cache_clear()
    assert fused.choose_engine(Trainer(spec_of({})), "auto")[0] == "fused"


def test_build_is_keyed_by_torch_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    key = build.key()
    assert key in str(build.library_path()) and build.library_path().exists()
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    assert build.key() != key  # another torch never loads this binary
