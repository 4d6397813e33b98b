"""The transformer trainer: its loss is cross-entropy over the answer tokens (torch's
ignore_index as the oracle), its scores recount from predictions, its records carry the
engine's fields, it learns reversal, and the live controls act."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.data.tokens import IGNORE
from app.nn.families.registry import FAMILIES, trainer_for
from app.nn.records import LIVE_STEP_FIELDS, PER_LAYER_FIELDS
from app.nn.spec.experiment import Spec, validate_spec
from app.nn.training.transformer import TransformerTrainer
from tests.nn.util import merge

SMALL: dict[str, Any] = {
    "family": "transformer",
    "seed": 0,
    "data": {"train_fraction": 0.6, "val_fraction": 0.2},
    "transformer": {"dataset": "reverse", "length": 5, "examples": 400, "d_model": 16},
    "train": {"epochs": 2},
}


def spec(**over: Any) -> Spec:
    return validate_spec(merge(SMALL, over))


@pytest.mark.parametrize("causal", [False, True])
def test_loss_is_cross_entropy_over_the_answer_tokens(causal: bool) -> None:
    t = TransformerTrainer(spec(transformer={"causal": causal}))
    x, y = t.data.train.x[:16], t.data.train.y[:16]
    logits = t.net(x)
    want = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
    torch.testing.assert_close(t.answer_loss(logits, y), want)


def test_scores_recount_from_the_predictions() -> None:
    t = TransformerTrainer(spec())
    t.run()
    split = t.data.val
    scores = t.scores(split)
    t.net.eval()
    pred = t.net(split.x).argmax(-1)
    right = [
        [p == y for p, y in zip(pr, ys, strict=True)]
        for pr, ys in zip(pred.tolist(), split.y.tolist(), strict=True)
    ]
    n = len(right)
    assert scores["seq_acc"] == pytest.approx(sum(all(r) for r in right) / n)
    assert scores["acc"] == pytest.approx(sum(map(sum, right)) / (n * 5))
    assert scores["pos_acc"] == pytest.approx([sum(r[i] for r in right) / n for i in range(5)])


def test_records_carry_the_engine_fields_per_layer() -> None:
    t = trainer_for(spec(train={"grad_clip": {"max": 1.0}, "l2": 0.001}))
    assert isinstance(t, TransformerTrainer)
    records = list(t.records())
    start = records[0]
    assert start["layers"][0] == "embed" and start["layers"][-1] == "head"
    assert len(start["layers"]) == 2 + 4 * 2  # embedding, 4 matrices per block, head
    steps = [r for r in records if r["kind"] == "step"]
    assert len(steps) == t.total_steps == 2 * 8
    for field in LIVE_STEP_FIELDS:
        assert field in steps[-1], field
    for field in PER_LAYER_FIELDS:
        assert len(steps[-1][field]) == len(start["layers"]), field
    assert steps[-1]["grad_b"][0] == 0.0 and steps[-1]["grad_b"][1] > 0  # the embedding has no bias
    end = records[-1]
    assert end["status"] == "finished" and set(end["final"]) >= {"val_seq_acc", "test_acc"}


def test_same_seed_same_numbers() -> None:
    s = spec(transformer={"dropout": 0.1})
    assert TransformerTrainer(s).run()["final"] == TransformerTrainer(s).run()["final"]


@pytest.mark.parametrize("seed", [11])
def test_it_learns_to_reverse(seed: int) -> None:
    s = spec(seed=seed, transformer={"length": 6, "examples": 1500}, train={"epochs": 12})
    final = TransformerTrainer(s).run()["final"]
    assert final["val_seq_acc"] >= 0.9, final


def test_live_controls_and_snapshot() -> None:
    t = TransformerTrainer(spec(transformer={"dataset": "text", "causal": True, "length": 8}))
    records = t.records()
    for _ in range(4):
        next(records)
    assert t.set_hparams(lr=0.01, temperature=0.5, example=2) == {
        "lr": 0.01,
        "temperature": 0.5,
        "example": 2,
    }
    next(records)
    assert [g["lr"] for g in t.optimizer.param_groups] == [0.01, 0.01]
    with pytest.raises(ValueError, match="input_noise"):
        t.set_hparams(input_noise=0.1)
    snap = FAMILIES["transformer"].live_snapshot(t, 64, True)  # type: ignore[misc]
    assert snap["example"] == 2 and snap["maps"]["shape"] == [2, 2, 8, 8]
    assert snap["samples"]["temperature"] == 0.5 and len(snap["samples"]["greedy"]) == 24
    assert len(snap["embeddings"]["xy"]) == len(t.tokens.vocab)
    assert snap["positions"]["shape"] == [8, 16]
