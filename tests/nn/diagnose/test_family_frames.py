"""The diagnostics panel for the recurrent and transformer families, against oracles: gradient
norms from torch autograd on the families' own forward passes (torch's fused recurrent
modules, the transformer called as in training), gates from the hand-stepped top layer,
attention entropies recounted in numpy; a broken net is flagged and a healthy one not."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.lessons.registry import LESSONS, member_specs
from app.nn.data.tokens import IGNORE
from app.nn.diagnose.diagnostics import SATURATED_FLAG, diagnostics_frame
from app.nn.diagnose.panel import panel_frame
from app.nn.families.registry import trainer_for
from app.nn.measure import attention as views
from app.nn.models.rnn import unroll
from app.nn.spec.experiment import validate_spec
from app.nn.training.sequences import SeqTrainer
from app.nn.training.transformer import TransformerTrainer
from tests.nn.util import merge

RNN: dict[str, Any] = {
    "family": "rnn",
    "seed": 3,
    "rnn": {"dataset": "copy", "length": 8, "samples": 120, "hidden": 6, "layers": 2},
    "model": {"layers": [{"units": 5, "activation": "tanh"}]},
    "train": {"batch_size": 16, "epochs": 2},
}
TRANSFORMER: dict[str, Any] = {
    "family": "transformer",
    "seed": 1,
    "data": {"train_fraction": 0.6, "val_fraction": 0.2},
    "transformer": {"dataset": "reverse", "length": 5, "examples": 300, "d_model": 16},
    "train": {"epochs": 1},
}


def started(spec: dict[str, Any], steps: int = 2) -> Any:
    trainer = trainer_for(validate_spec(spec))
    records = trainer.records()
    for _ in range(2 + steps):  # start, the initial evaluation, then optimizer steps
        next(records)
    return trainer


def penalty(trainer: Any, l2: float) -> torch.Tensor:
    return 0.5 * l2 * sum((w * w).sum() for w in trainer.weights)


# ---- the recurrent family --------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn_tanh", "gru", "lstm"])
def test_rnn_rows_are_its_weight_layers_with_autograd_gradient_norms(cell: str) -> None:
    l2 = 0.01
    trainer = started(merge(RNN, {"rnn": {"cell": cell}, "train": {"l2": l2}}))
    net = trainer.model
    x, y = trainer.data.train.x[:40], trainer.data.train.y[:40]
    frame = diagnostics_frame(trainer, batch=(x, y))
    assert [r["name"] for r in frame["layers"]] == ["r1.in", "r1.rec", "r2.in", "r2.rec", "h1"]
    assert frame["output"]["name"] == "out"
    # Oracle: torch's fused modules in eval mode, cross-entropy + the L2 penalty, autograd.
    net.eval()
    loss = F.cross_entropy(net(x), y.long()) + penalty(trainer, l2)
    rnns = net.rnns
    tensors = [
        rnns[0].weight_ih_l0,
        rnns[0].weight_hh_l0,
        rnns[1].weight_ih_l0,
        rnns[1].weight_hh_l0,
        net.head.blocks[0].linear.weight,
        net.head.head.weight,
    ]
    want = [float(g.norm()) for g in torch.autograd.grad(loss, tensors)]
    net.train()
    got = [r["grad_norm"] for r in frame["layers"]] + [frame["output"]["grad_norm"]]
    assert got == pytest.approx(want, rel=1e-5)
    with torch.no_grad():
        data_loss = float(F.cross_entropy(net.eval()(x), y.long()))
    net.train()
    assert frame["loss"] == pytest.approx(data_loss, 1e-6)
    # The head's hidden layer carries its activations; recurrent weights have rows of their own.
    assert frame["layers"][-1]["activation"] is not None and frame["layers"][0]["dead"] is None
    sites = [a["name"] for a in frame["activations"]]
    chunks = {"rnn_tanh": [], "gru": ["r", "z", "n"], "lstm": ["i", "f", "g", "o"]}[cell]
    assert sites == [f"r{i}{s}" for i in (1, 2) for s in ["", *(f".{c}" for c in chunks)]]
    assert frame["layers"][0]["sign_agreement"] is None  # no per-point Linear inputs here


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_rnn_gate_saturation_is_counted_from_the_hand_stepped_gates(cell: str) -> None:
    # A large init pushes gates to their flat ends; the oracle steps the top layer by hand.
    spec = merge(RNN, {"rnn": {"cell": cell, "layers": 1}, "model": {"init": "normal"}})
    trainer = started(merge(spec, {"model": {"init_scale": 3.0}}), steps=0)
    x, y = trainer.data.train.x[:30], trainer.data.train.y[:30]
    frame = diagnostics_frame(trainer, batch=(x, y))
    trainer.model.eval()
    with torch.no_grad():
        gates = unroll(trainer.model, x).gates
    rows = {a["name"]: a for a in frame["activations"]}
    for name, g in gates.items():
        ends = ((g < 0.03) | (g > 0.97)).double().mean()
        assert rows[f"r1.{name}"]["saturated"] == pytest.approx(float(ends), abs=1e-6)
        assert rows[f"r1.{name}"]["units"] == 6
        assert rows[f"r1.{name}"]["activation"]["mean"] == pytest.approx(float(g.mean()), 1e-5)
    assert max(r["saturated"] for r in rows.values()) > 0.2  # a case worth checking


@pytest.mark.parametrize("cell", ["rnn_tanh", "gru", "lstm"])
def test_a_huge_rnn_init_is_flagged_and_a_healthy_one_is_not(cell: str) -> None:
    part = {"cell": cell, "dataset": "parity", "length": 20, "samples": 200}
    base = {"family": "rnn", "seed": 2, "rnn": part}  # the default width and head
    healthy = panel_frame(started(base, steps=0))
    assert healthy["flags"] == {
        "vanishing": [],
        "exploding": [],
        "dead": [],
        "saturated": [],
        "messages": [],
    }
    broken = panel_frame(started(merge(base, {"model": {"init": "normal", "init_scale": 3.0}}), 0))
    flags = broken["flags"]
    saturated = {a["name"]: a["saturated"] for a in broken["layers"] + broken["activations"]}
    assert flags["saturated"] and all(saturated[n] >= SATURATED_FLAG for n in flags["saturated"])
    if cell != "lstm":  # its cell state's additive path keeps the gradient in range
        # At init the few unsaturated steps multiply huge weights (exploding); once a step
        # saturates every unit, nothing flows back (vanishing): either way, flagged.
        assert set(flags["vanishing"] + flags["exploding"]) == {"r1.in", "r1.rec"}
    assert any("saturated" in m for m in flags["messages"])


def test_rnn_frames_leave_the_run_unchanged() -> None:
    """Probing in eval mode between steps leaves the dropout masks (global RNG) alone."""
    spec = validate_spec(merge(RNN, {"rnn": {"dropout": 0.3}, "train": {"epochs": 1}}))
    plain = [r["loss"] for r in SeqTrainer(spec).records() if r["kind"] == "step"]
    probed_trainer = SeqTrainer(spec)
    probed = []
    for rec in probed_trainer.records():
        if rec["kind"] == "step":
            probed.append(rec["loss"])
            panel_frame(probed_trainer)
    assert probed == plain and len(plain) > 3


# ---- the transformer -------------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True])
def test_transformer_rows_gradients_and_attention_entropy(causal: bool) -> None:
    trainer = started(merge(TRANSFORMER, {"transformer": {"causal": causal}}))
    assert isinstance(trainer, TransformerTrainer)
    net = trainer.net
    x, y = trainer.data.train.x[:24], trainer.data.train.y[:24]
    frame = diagnostics_frame(trainer, batch=(x, y))
    blocks = [f"b{i}.{w}" for i in (1, 2) for w in ("qkv", "out", "ffn1", "ffn2")]
    assert [r["name"] for r in frame["layers"]] == ["embed", *blocks]
    assert frame["output"]["name"] == "head"
    # Oracle: cross-entropy over the answer tokens (torch's ignore_index), autograd.
    net.eval()
    logits = net(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
    want = [float(g.norm()) for g in torch.autograd.grad(loss, trainer.weights)]
    got = [r["grad_norm"] for r in frame["layers"]] + [frame["output"]["grad_norm"]]
    assert got == pytest.approx(want, rel=1e-5)
    # The FFN rows carry the activations after ffn1 (GELU: nothing dead, nothing saturated).
    hidden: list[torch.Tensor] = []
    handle = net.blocks[0].ffn1.register_forward_hook(lambda m, i, o: hidden.append(o))
    with torch.no_grad():
        net(x)
    handle.remove()
    net.train()
    ffn1 = frame["layers"][3]
    assert ffn1["units"] == net.cfg.ffn and ffn1["saturated"] == 0.0
    gelu = F.gelu(hidden[0]).double().numpy()
    assert ffn1["activation"]["mean"] == pytest.approx(gelu.mean(), rel=1e-5)
    # Attention entropy per head, recounted in numpy from the maps of an eval-mode pass.
    maps = views.attention_maps(net, x)[0].double().numpy()  # (blocks, B, heads, T, T)
    t = x.shape[1]
    keys = np.arange(1, t + 1) if causal else np.full(t, t)
    uniform = float(np.log(keys).mean())
    ent = -(maps * np.log(np.where(maps > 0, maps, 1.0))).sum(-1).mean((1, 3))  # (blocks, heads)
    rows = frame["attention"]
    assert [r["name"] for r in rows] == ["b1.h1", "b1.h2", "b2.h1", "b2.h2"]
    assert [r["entropy"] for r in rows] == pytest.approx(ent.reshape(-1).tolist(), rel=1e-6)
    assert all(r["max_entropy"] == pytest.approx(uniform) for r in rows)
    assert [r["peak"] for r in rows] == pytest.approx(maps.max(-1).mean((1, 3)).reshape(-1))


def test_transformer_healthy_unflagged_and_unscaled_attention_collapses() -> None:
    healthy = panel_frame(started(TRANSFORMER, steps=0))
    assert healthy["flags"]["messages"] == [] and healthy["logits"] is None
    json.dumps(healthy, allow_nan=False)
    # Without 1/sqrt(d_k) and with large embeddings, softmax saturates onto one key per query.
    wide = {"transformer": {"d_model": 64, "heads": 1}}
    scaled = started(merge(TRANSFORMER, wide), steps=0)
    unscaled = started(merge(TRANSFORMER, merge(wide, {"transformer": {"scaled": False}})), 0)
    for trainer in (scaled, unscaled):
        with torch.no_grad():
            trainer.net.embed.weight.mul_(4.0)
    spread = [
        [r["spread"] for r in diagnostics_frame(t, max_points=64)["attention"]]
        for t in (scaled, unscaled)
    ]
    assert max(spread[1]) < min(spread[0])


def test_family_panel_frames_are_complete_strict_json() -> None:
    for spec in (RNN, TRANSFORMER):
        trainer = started(spec)
        frame = panel_frame(trainer)
        assert "error" not in frame, frame.get("error")
        json.dumps(frame, allow_nan=False)
        assert frame["logits"] is None and frame["step"] == trainer.step
        assert len(frame["layers"]) == len(trainer.weights) - 1
        chance = next(trainer_for(validate_spec(spec)).records())["chance_loss"]
        assert math.isclose(frame["loss_at_init"]["expected"], chance, rel_tol=1e-3)
    assert isinstance(started(RNN), SeqTrainer)


def test_the_panel_flags_lesson_36s_post_ln_stall_and_not_its_pre_ln_twin() -> None:
    """Lesson 36 (4 blocks, Adam at lr 0.03): after 20 steps the post-LN model's first block
    gets a gradient below 1% of the head's (measured ~2e-5 of it) and its last blocks attend
    uniformly; the pre-LN model, identical but for the norms, is not flagged."""
    members = dict(member_specs(LESSONS["pre-post-ln"]))
    frames = {}
    for label, spec in members.items():
        trainer = trainer_for(spec)
        steps = (r for r in trainer.records() if r["kind"] == "step")
        for _ in range(20):
            next(steps)
        frames[label] = panel_frame(trainer)
    post, pre = frames["post-LN"], frames["pre-LN"]
    assert {"b1.qkv", "b1.out"} <= set(post["flags"]["vanishing"])
    assert pre["flags"]["vanishing"] == pre["flags"]["exploding"] == []
    last = [h["spread"] for h in post["attention"] if h["block"] == 4]
    assert min(last) > 0.95  # uniform attention: the model predicts the average token
