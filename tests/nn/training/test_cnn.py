"""The convolutional trainer: its steps equal a hand-written torch.optim loop, its per-layer
gradient norms and penalty cover the convs, augmentation draws from its own stream, and
the live pictures (saliency, confusion, feature maps) match independent computations."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.data.augment import augment
from app.nn.diagnose.panel import panel_frame
from app.nn.families.registry import trainer_for
from app.nn.measure.images import decode_picture
from app.nn.models.cnn import build_cnn
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.cnn import AUGMENT_SEED, CnnTrainer, image_data
from app.nn.training.trainer import derived_seeds
from tests.nn.util import merge

SMALL: dict[str, Any] = {
    "family": "cnn",
    "seed": 7,
    "cnn": {
        "dataset": "shapes",
        "size": 12,
        "classes": 3,
        "samples": 120,
        "conv": [{"channels": 4, "pool": "max"}, {"channels": 6, "kernel": 2, "padding": 0}],
    },
    "model": {"layers": [{"units": 5, "activation": "tanh"}]},
    "train": {"batch_size": 16, "epochs": 2},
    "data": {"train_fraction": 0.6, "val_fraction": 0.2},
}


def small(**over: Any) -> Spec:
    return validate_spec(merge(SMALL, over))


def steps(trainer: CnnTrainer, n: int) -> list[dict[str, Any]]:
    out = []
    for rec in trainer.records():
        if rec["kind"] == "step":
            out.append(rec)
            if len(out) == n:
                break
    return out


@pytest.mark.parametrize(
    ("opt", "torch_opt"),
    [
        ({"name": "momentum", "lr": 0.05, "momentum": 0.9}, "sgd"),
        ({"name": "adam", "lr": 0.01}, "adam"),
    ],
)
def test_steps_equal_a_hand_written_torch_loop(opt: dict[str, Any], torch_opt: str) -> None:
    spec = small(train={"optimizer": opt, "l2": 0.01})
    trainer = trainer_for(spec)
    assert isinstance(trainer, CnnTrainer) and trainer.engine == "eager"
    assert spec.cnn is not None
    seeds = derived_seeds(spec.seed)
    model = build_cnn(spec.cnn, 3, spec.model, seeds["init"])
    data = image_data(spec)
    params = list(model.parameters())
    ref = (
        torch.optim.SGD(params, lr=0.05, momentum=0.9)
        if torch_opt == "sgd"
        else torch.optim.Adam(params, lr=0.01)
    )
    order = torch.Generator().manual_seed(seeds["order"])
    perm = torch.randperm(len(data.train), generator=order)
    losses = []
    for i in range(4):
        idx = perm[i * 16 : (i + 1) * 16]
        out = model(data.train.x[idx])
        loss = F.cross_entropy(out, data.train.y[idx].long())
        weights = [
            m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)
        ]
        pen = 0.5 * 0.01 * sum((w * w).sum() for w in weights)
        ref.zero_grad()
        (loss + pen).backward()
        if i == 0:
            first_grads = [float(w.grad.norm()) for w in weights]  # type: ignore[union-attr]
        ref.step()
        losses.append(loss.item())
    recs = steps(trainer, 4)
    assert [r["loss"] for r in recs] == pytest.approx(losses, rel=1e-5, abs=1e-6)
    assert recs[0]["grad_w"] == pytest.approx(first_grads, rel=1e-4)
    assert len(recs[0]["grad_w"]) == 4  # conv1, conv2, h1, out
    for mine, theirs in zip(trainer.model.parameters(), model.parameters(), strict=True):
        assert torch.allclose(mine, theirs, atol=1e-5)


def test_augmentation_draws_its_own_stream_and_changes_nothing_else() -> None:
    plain = trainer_for(small())
    spec = small(cnn={"augment": {"shift": 1, "rotate": 10.0, "noise": 0.05}})
    aug = trainer_for(spec)
    assert isinstance(aug, CnnTrainer)
    for a, b in zip(plain.model.parameters(), aug.model.parameters(), strict=True):
        assert torch.equal(a, b)  # same init
    xb = aug.data.train.x[:8]
    want = augment(xb, 1, 10.0, 0.05, torch.Generator().manual_seed(spec.seed + AUGMENT_SEED))
    assert torch.equal(aug.batch_inputs(xb, xb), want)
    assert torch.equal(plain.batch_inputs(xb, xb), xb)  # off: the images as they are


def test_same_seed_same_run_and_every_trainer_feature_runs() -> None:
    spec = small(
        train={
            "early_stopping": {"patience": 1},
            "grad_clip": {"max": 0.5},
            "schedule": {"name": "cosine"},
            "weight_decay": 0.01,
            "epochs": 3,
        },
        cnn={"conv": [{"channels": 4, "batchnorm": True, "dropout": 0.2}]},
    )
    first = trainer_for(spec).run()
    second = trainer_for(spec).run()
    assert first["final"] == second["final"] and first["status"] == "finished"


def test_the_live_pictures_match_independent_computations() -> None:
    trainer = trainer_for(small(train={"epochs": 1}))
    assert isinstance(trainer, CnnTrainer)
    trainer.run()
    assert trainer.set_hparams(view_input=10**6) == {"view_input": len(trainer.data.test) - 1}
    trainer.set_hparams(view_input=3)
    snap = trainer.snapshot()
    model, test = trainer.model, trainer.data.test
    model.eval()
    x = test.x[3:4].clone().requires_grad_(True)
    logits = model(x)[0]
    (grad,) = torch.autograd.grad(logits.max(), x)
    sal = decode_picture({**snap["saliency"], "lo": 0.0})
    assert torch.allclose(sal, grad[0, 0].abs().double(), atol=float(grad.abs().max()) / 250)
    assert snap["probs"] == pytest.approx(torch.softmax(logits, 0).tolist(), abs=1e-4)
    pred = model(test.x).argmax(1)
    counts = [[0] * 3 for _ in range(3)]
    for t, p in zip(test.y.long().tolist(), pred.tolist(), strict=True):
        counts[t][p] += 1
    assert snap["confusion"] == counts
    assert (
        snap["wrong"] == [[i, int(pred[i])] for i in range(len(pred)) if pred[i] != test.y[i]][:24]
    )
    maps = decode_picture(snap["maps"][0])
    want = model.feature_maps(test.x[3:4])[0][0][0].double()
    assert torch.allclose(maps, want, atol=float(want.max() - want.min()) / 250 + 1e-6)
    filters = decode_picture(snap["filters"][1])
    w = model.convs()[1].weight.double()
    assert filters.shape == w.shape and torch.allclose(filters, w, atol=float(w.abs().max()) / 120)


def test_the_diagnostics_panel_reads_a_cnn() -> None:
    trainer = trainer_for(small(train={"epochs": 1}))
    trainer.run()
    frame = panel_frame(trainer)  # type: ignore[arg-type]
    assert "error" not in frame, frame.get("error")
    assert [layer["name"] for layer in frame["layers"]] == ["conv1", "conv2", "h1"]
    assert [layer["units"] for layer in frame["layers"]] == [4, 6, 5]
    assert frame["logits"] is None  # no 2-D input square to draw logits over


def test_the_test_pass_is_reused_while_training_and_fresh_at_a_pause() -> None:
    from app.nn.measure import images

    trainer = trainer_for(small())
    records = trainer.records()
    while next(records)["kind"] != "step":
        pass
    first = images.snapshot(trainer, 0)  # live: the run loop asks for size 0
    assert first["test_step"] == trainer.step == 1
    next(records)
    assert trainer.step == 2
    assert images.snapshot(trainer, 0)["test_step"] == 1  # within TEST_PASS_SECONDS: reused
    full = images.snapshot(trainer, 64)  # a pause, a step or the end: fresh
    pred = trainer.model.eval()(trainer.data.test.x).argmax(1)
    assert full["test_step"] == 2
    assert full["test_acc"] == round(float((pred == trainer.data.test.y.long()).float().mean()), 4)


def test_a_drawn_input_replaces_the_test_image_in_every_view() -> None:
    spec = validate_spec(
        {"family": "cnn", "seed": 2, "cnn": {"dataset": "digits", "conv": [{"channels": 3}]}}
    )
    trainer = CnnTrainer(spec)
    steps(trainer, 3)
    lr = trainer.hp["lr"]
    with pytest.raises(ValueError, match="view_pixels: every value must be in"):
        trainer.set_hparams(lr=0.5, view_pixels=[float("nan")] * 64)
    assert trainer.hp["lr"] == lr and trainer.drawn is None  # a refusal changes nothing
    pixels = [float((i * 7) % 17) for i in range(64)]
    assert trainer.set_hparams(view_pixels=pixels) == {"view_pixels": pixels}
    snap = trainer.snapshot()
    model = trainer.model
    model.eval()
    x = (torch.tensor(pixels) / 16).reshape(1, 1, 8, 8).requires_grad_(True)
    logits = model(x)[0]
    (grad,) = torch.autograd.grad(logits.max(), x)
    assert snap["input"]["drawn"] and snap["input"]["label"] is None
    assert snap["probs"] == pytest.approx(torch.softmax(logits, 0).tolist(), abs=1e-4)
    sal = decode_picture({**snap["saliency"], "lo": 0.0})
    assert torch.allclose(sal, grad[0, 0].abs().double(), atol=float(grad.abs().max()) / 250)
    want = model.feature_maps(x)[0][0][0].double()
    maps = decode_picture(snap["maps"][0])
    assert torch.allclose(maps, want, atol=float(want.max() - want.min()) / 250 + 1e-6)
    trainer.set_hparams(view_input=2)  # a test image again
    assert trainer.snapshot()["input"]["index"] == 2 and trainer.drawn is None
