"""The recurrent trainer against oracles: ||dL/dh_t|| against torch's own module restarted
from h_t, one run against a hand-written torch.optim loop, and what its records carry."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.choices.cells import CELLS
from app.nn.data.sequences import running_targets
from app.nn.models.rnn import build_seqnet
from app.nn.spec.experiment import validate_spec
from app.nn.training.basics import derived_seeds
from app.nn.training.sequences import SeqTrainer, build_seq_data, output_width
from tests.nn.util import merge

BASE: dict[str, Any] = {
    "family": "rnn",
    "seed": 2,
    "rnn": {"dataset": "adding", "length": 12, "samples": 120, "hidden": 5},
    "train": {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 16, "epochs": 2},
}


def make(**over: Any) -> SeqTrainer:
    return SeqTrainer(validate_spec(merge(BASE, over)))


def oracle_time_grads(trainer: SeqTrainer) -> list[float]:
    """For each t, restart torch's fused module from (h_t, c_t) as a leaf over x[t+1:] and
    take the gradient of each sequence's loss with respect to that leaf."""
    net = trainer.model.eval()
    rnn = net.rnns[0]
    x, y = trainer.probe.x, trainer.probe.y
    lstm = isinstance(rnn, torch.nn.LSTM)
    grads = []
    for t in range(x.shape[1]):
        with torch.no_grad():
            _, state = rnn(x[:, : t + 1])
        h = (state[0] if lstm else state).detach().requires_grad_(True)
        if t + 1 < x.shape[1]:
            rest = (h, state[1].detach()) if lstm else h
            last = rnn(x[:, t + 1 :], rest)[0][:, -1]
        else:
            last = h[0]
        out = net.head(last)
        losses = F.mse_loss(out[:, 0], y, reduction="none")  # one loss per sequence
        (g,) = torch.autograd.grad(losses.sum(), h)
        grads.append(float(g[0].norm(dim=1).mean()))
    return grads


@pytest.mark.parametrize("cell", CELLS.keys())
def test_time_grads_equal_torchs_module_restarted_from_each_hidden_state(cell: str) -> None:
    trainer = make(rnn={"cell": cell})
    for _ in zip(range(6), trainer.records(), strict=False):  # a few steps off the init
        pass
    got = trainer.time_grads()
    want = oracle_time_grads(trainer)
    assert len(got) == 12
    assert got == pytest.approx(want, rel=1e-4, abs=1e-9)
    assert trainer.model.rnns[0].weight_hh_l0.grad is not None  # training's, untouched
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in trainer.model.parameters())


def test_a_run_equals_a_hand_written_torch_optim_loop() -> None:
    spec = validate_spec(
        merge(BASE, {"train": {"grad_clip": {"max": 0.5}, "l2": 0.001}, "rnn": {"cell": "gru"}})
    )
    trainer = SeqTrainer(spec)
    records = [r for r in trainer.records() if r["kind"] == "step"]
    data = build_seq_data(spec)
    seeds = derived_seeds(spec.seed)
    assert spec.rnn is not None
    net = build_seqnet(2, output_width(data), spec.rnn, spec.model, seeds["init"])
    weights = [p for n, p in net.named_parameters() if "weight" in n]
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    order = torch.Generator().manual_seed(seeds["order"])
    losses, grad_norms = [], []
    for _ in range(2):
        perm = torch.randperm(len(data.train), generator=order)
        for idx in perm.split(16):
            opt.zero_grad()
            loss = F.mse_loss(net(data.train.x[idx])[:, 0], data.train.y[idx])
            (loss + 0.0005 * sum((w * w).sum() for w in weights)).backward()
            grads = [p.grad for p in net.parameters() if p.grad is not None]
            grad_norms.append(
                float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
            )
            torch.nn.utils.clip_grad_norm_(list(net.parameters()), 0.5)
            opt.step()
            losses.append(float(loss.detach()))
    assert [r["loss"] for r in records] == pytest.approx(losses, rel=1e-5)
    assert [r["grad_norm"] for r in records] == pytest.approx(grad_norms, rel=1e-4)
    for mine, theirs in zip(trainer.model.parameters(), net.parameters(), strict=True):
        assert torch.allclose(mine, theirs, atol=1e-5)


def test_records_name_recurrent_layers_and_evaluations_carry_the_time_gradient() -> None:
    trainer = make(rnn={"layers": 2, "layer_norm": True}, model={"layers": [{"units": 3}]})
    records = list(trainer.records())
    start, step = records[0], records[2]
    assert start["layers"] == ["r1.in", "r1.rec", "r2.in", "r2.rec", "h1", "out"]
    assert start["units"] == [2, 5, 5, 3, 1] and start["sequence"]["gates"] == ["i", "f", "o"]
    assert len(step["grad_w"]) == 6 and len(step["update_ratio"]) == 6
    evals = [r for r in records if r["kind"] == "eval"]
    assert len(evals) == 3 and all(len(e["grad_t"]) == 12 for e in evals)
    assert len(evals[0]["layers"]["act_std"]) == 2
    assert records[-1]["kind"] == "end" and records[-1]["final"]["test_loss"] > 0


def test_snapshot_pictures_are_bytes_of_the_chosen_sequence() -> None:
    trainer = make(rnn={"length": 150, "hidden": 70, "cell": "lstm"})
    snap = trainer.snapshot()
    view = snap["sequence"]
    assert view["units"] == 64 and view["hidden_units"] == 70 and len(view["columns"]) == 100
    assert view["columns"][0] == 0 and view["columns"][-1] == 149
    assert len(base64.b64decode(view["hidden"]["q"])) == 64 * 100
    assert set(view["gates"]) == {"i", "f", "o"}
    assert len(view["prediction"]) == len(view["target"]) == len(view["grad_t"]) == 150
    assert view["target"][-1] == pytest.approx(float(trainer.view_split.y[0]), abs=1e-3)


def test_input_noise_jitters_the_sequences_and_live_hparams_still_apply() -> None:
    clean = make()
    noisy = make(train={"input_noise": 0.5})
    a = [r["loss"] for r in clean.records() if r["kind"] == "step"]
    b = [r["loss"] for r in noisy.records() if r["kind"] == "step"]
    assert a[0] != b[0] and noisy.hp["input_noise"] == 0.5  # the first batch is jittered
    assert make().set_hparams(lr=0.5) == {"lr": 0.5}


def test_view_input_chooses_the_test_sequence_the_live_views_show() -> None:
    """The live change view_input picks the sequence (clamped to the test split); the
    views' right answers are that sequence's running targets, its last one its label."""
    trainer = make(rnn={"dataset": "adding", "length": 12, "samples": 60})
    split = trainer.view_split
    assert trainer.set_hparams(view_input=7) == {"view_input": 7}
    view = trainer.snapshot()["sequence"]
    assert view["index"] == 7
    want = running_targets("adding", split.x[7:8], split.y[7:8])[0]
    assert view["target"] == pytest.approx(want.tolist(), abs=1e-3)
    assert view["target"][-1] == pytest.approx(float(split.y[7]), abs=1e-3)
    applied = trainer.set_hparams(view_input=10**6, lr=0.05)
    assert applied == {"lr": 0.05, "view_input": len(split) - 1}
    assert trainer.snapshot()["sequence"]["index"] == len(split) - 1
