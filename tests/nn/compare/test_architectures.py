"""Architecture comparisons (issues 17, 19): members whose models differ train through the
real comparison engine with their own family trainers; the summary reports each member's
parameter count and whether it shares member 0's initial weights; bad members are refused
naming the member field."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from app.nn.compare.plan import PlanInvalid, fragment, validate_plan
from app.nn.compare.variants import variants
from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec

# The digits at 1 epoch over a fifth of them: 12 steps per member.
DIGITS = {
    "family": "cnn",
    "seed": 3,
    "cnn": {"dataset": "digits"},
    "data": {"train_fraction": 0.2, "val_fraction": 0.1},
    "train": {"epochs": 1},
}
TOKENS = {
    "family": "transformer",
    "seed": 1,
    "transformer": {"examples": 120, "blocks": 1, "d_model": 16, "ffn": 16},
    "train": {"epochs": 2, "batch_size": 20},
}


def run(plan: Any) -> tuple[Any, list[dict[str, Any]]]:
    engine = plan.engine(trainer_for)
    return engine, list(engine.records())


def test_mlp_vs_cnn_on_the_digits_reports_each_members_parameter_count() -> None:
    plan = validate_plan({"base": DIGITS, "members": [{}, {"overrides": {"family": "mlp"}}]})
    assert plan.labels == ["CNN 2 conv", "MLP 32x32"] and plan.independent
    cnn, mlp = (s.model_dump(mode="json") for s in plan.specs)
    assert mlp["cnn"]["conv"] == [] and cnn["cnn"]["conv"] != []  # dense on the pixels
    assert fragment(cnn, mlp).keys() == {"cnn", "model"}  # same data, seed, training
    _, records = run(plan)
    rows = records[-1]["members"]
    # The oracle: the models each member's own family trainer builds from its spec.
    want = [sum(p.numel() for p in trainer_for(s).model.parameters()) for s in plan.specs]
    assert [r["params"] for r in rows] == want
    assert want[0] < want[1]  # weight sharing: the CNN is the smaller net
    # An MLP cannot start from a CNN's weights: the table and start records say so.
    assert [r["initial_weights"] for r in rows] == ["shared", "independent"]
    starts = [r for r in records if r["kind"] == "start"]
    assert [r["initial_weights"] for r in starts] == ["shared", "independent"]
    assert [r["params"] for r in starts] == want
    ends = [r for r in records if r["kind"] == "end"]
    assert [e["status"] for e in ends] == ["finished", "finished"]
    assert all(e["step"] == s.total_steps() for e, s in zip(ends, plan.specs, strict=True))
    assert "independent initial weights" in plan.mode_reason()


def test_positions_on_and_off_train_both_and_differ_only_there() -> None:
    members = [{}, {"overrides": {"transformer": {"positions": "none"}}}]
    plan = validate_plan({"base": TOKENS, "members": members})
    on, off = (s.model_dump(mode="json") for s in plan.specs)
    assert fragment(on, off) == {"transformer": {"positions": "none"}}
    assert plan.labels == ["sinusoidal positions", "no positions"]
    assert plan.specs[0].train.optimizer.name == "adamw"  # the family's default, both
    assert plan.specs[1].train.optimizer == plan.specs[0].train.optimizer
    _, records = run(plan)
    ends = {r["member"]: r for r in records if r["kind"] == "end"}
    assert [ends[i]["status"] for i in (0, 1)] == ["finished", "finished"]
    assert all(ends[i]["step"] == plan.specs[i].total_steps() for i in (0, 1))
    # Both moved off their initial loss (the two really trained).
    evals = [[r for r in records if r["kind"] == "eval" and r["member"] == i] for i in (0, 1)]
    assert all(e[-1]["train"]["loss"] < e[0]["train"]["loss"] for e in evals)


def test_learned_positions_add_parameters_and_cannot_share_initial_weights() -> None:
    members = [{}, {"overrides": {"transformer": {"positions": "learned"}}}]
    plan = validate_plan({"base": {**TOKENS, "train": {"epochs": 1}}, "members": members})
    engine = plan.engine(trainer_for)
    alone = [trainer_for(s).model for s in plan.specs]
    assert engine.params == [sum(p.numel() for p in m.parameters()) for m in alone]
    assert engine.params[1] > engine.params[0]
    assert engine.initial == ["shared", "independent"]


def test_a_same_shape_member_shares_the_initial_weights() -> None:
    """Causal vs bidirectional: the same parameters under another attention mask, drawn
    from the same seed: the engine says shared, and the weights really are equal."""
    members = [{}, {"overrides": {"transformer": {"causal": True}}}]
    plan = validate_plan({"base": TOKENS, "members": members})
    engine = plan.engine(trainer_for)
    a, b = (t.model.state_dict() for t in engine.trainers)
    assert all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()
    assert engine.initial == ["shared", "shared"]
    assert plan.labels == ["bidirectional", "causal"]
    post = [{}, {"overrides": {"transformer": {"norm": "post"}}}]  # no final LayerNorm
    post_engine = validate_plan({"base": TOKENS, "members": post}).engine(trainer_for)
    assert post_engine.initial == ["shared", "independent"]


def test_cells_get_their_names() -> None:
    base = {"family": "rnn", "rnn": {"dataset": "parity", "length": 6, "samples": 40}}
    members = [
        {},
        {"overrides": {"rnn": {"cell": "gru"}}},
        {"overrides": {"rnn": {"cell": "rnn_tanh"}}},
    ]
    plan = validate_plan({"base": base, "members": members})
    assert plan.labels == ["LSTM", "GRU", "RNN (tanh)"]
    # Training settings that differ stay in the label, before the model.
    members[1]["optimizer"] = {"lr": 0.5}
    assert validate_plan({"base": base, "members": members}).labels[1] == "sgd lr=0.5 GRU"


@pytest.mark.parametrize(
    ("base", "overrides", "field"),
    [
        ({}, {"family": "cnn"}, "members.1.family"),  # a CNN on 2-D points
        (TOKENS, {"family": "rnn"}, "members.1.family"),
        (TOKENS, {"family": "nope"}, "members.1.family"),
        (TOKENS, {"rnn": {"cell": "gru"}}, "members.1.rnn"),  # another family's part
        ({}, {"cnn": {"conv": []}}, "members.1.cnn"),
        (TOKENS, {"transformer": {"positions": "bogus"}}, "members.1.transformer.positions"),
        (DIGITS, {"family": "mlp", "cnn": {"conv": [{}]}}, "members.1.cnn.conv"),
        (DIGITS, {"family": "mlp", "cnn": 5}, "members.1.cnn"),
        (DIGITS, {"family": "mlp", "model": "wide"}, "members.1.model"),
        (DIGITS, {"family": ["mlp"]}, "members.1.family"),
        (
            DIGITS,
            {"family": "mlp", "model": {"layers": [{"units": 0}]}},
            "members.1.model.layers.0.units",
        ),
    ],
)
def test_incompatible_members_are_refused_naming_the_member_field(
    base: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(PlanInvalid) as err:
        validate_plan({"base": base, "members": [{}, {"overrides": overrides}]})
    assert [e["field"] for e in err.value.errors] == [field], err.value.errors


@pytest.mark.parametrize("family", ["mlp", "cnn", "rnn", "transformer"])
def test_every_offered_model_choice_is_a_valid_member_with_its_own_label(family: str) -> None:
    base = validate_spec({"family": family}).model_dump(mode="json")
    offered = variants(base)
    assert offered
    plan = validate_plan(
        {"base": base, "members": [{}] + [{"overrides": v.overrides} for v in offered]}
    )
    assert len(set(plan.labels)) == len(plan.labels) and all(plan.labels)
    assert all("#" not in label for label in plan.labels)
    for spec in plan.specs[1:]:  # each one really differs in its model
        assert fragment(base, spec.model_dump(mode="json"))
