"""Comparison requests with overrides, their compact URL form, and the independent engine."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from app.lessons.registry import LESSONS, member_specs
from app.nn.compare.plan import PlanInvalid, deep_merge, fragment, split_member, validate_plan
from app.nn.compare.url import from_items, to_url_query
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer

TINY = {"data": {"samples": 60, "val_fraction": 0.2}, "train": {"epochs": 4, "batch_size": 10}}


def test_errors_name_the_member_field() -> None:
    with pytest.raises(PlanInvalid) as err:
        validate_plan({"base": TINY, "members": [{}, {}, {"optimizer": {"lr": 100}}]})
    assert err.value.errors[0]["field"] == "members.2.optimizer.lr"
    assert "out of range" in err.value.errors[0]["message"]
    bad_layer = {"overrides": {"model": {"layers": [{"activation": "nope"}, {}]}}}
    with pytest.raises(PlanInvalid) as err:
        validate_plan({"base": TINY, "members": [{}, bad_layer]})
    assert err.value.errors[0]["field"] == "members.1.model.layers.0.activation"
    with pytest.raises(PlanInvalid) as err:  # the optimizer belongs on the member itself
        validate_plan({"base": TINY, "members": [{}, {"overrides": {"train": {"optimizer": {}}}}]})
    assert err.value.errors[0]["field"] == "members.1.overrides.train.optimizer"
    with pytest.raises(PlanInvalid) as err:
        validate_plan({"base": TINY, "members": [{}]})
    assert "2 to 8 members" in err.value.errors[0]["message"]


def test_fragment_is_the_inverse_of_deep_merge() -> None:
    base = validate_spec(TINY).model_dump(mode="json")
    other = validate_spec(
        {**TINY, "model": {"layers": [{"units": 4, "activation": "relu"}, {"units": 2}]}}
    ).model_dump(mode="json")
    patch = fragment(base, other)
    assert patch == {"model": {"layers": [{"activation": "relu"}, {}]}}
    assert deep_merge(base, patch) == other


@pytest.mark.parametrize(
    "slug", [slug for slug, lesson in LESSONS.items() if lesson.comparison is not None]
)
def test_every_comparison_lesson_becomes_a_plan_with_the_same_member_specs(slug: str) -> None:
    lesson = LESSONS[slug]
    base = lesson.to_spec().model_dump(mode="json")
    members = member_specs(lesson)
    data = {
        "base": base,
        "members": [split_member(base, s.model_dump(mode="json"), label) for label, s in members],
    }
    plan = validate_plan(data)
    assert [s.model_dump() for s in plan.specs] == [s.model_dump() for _, s in members]
    assert plan.labels == [label for label, _ in members]
    assert validate_plan(plan.to_json()).to_json() == plan.to_json()  # what a worker re-reads
    # Only what a Comparison cannot vary makes the members independent (and batched
    # members are dense nets: another family's members always train one by one).
    varies_model = plan.specs[0].family != "mlp" or any(
        s.model_dump(exclude={"train"}) != members[0][1].model_dump(exclude={"train"})
        or s.train.loss != members[0][1].train.loss
        for _, s in members
    )
    assert plan.independent == varies_model
    # ... and the compact URL form of the plan opens the same experiments.
    labels = [m.label or "" for m in plan.spec.members]
    query = to_url_query(plan.spec.base, list(zip(labels, plan.specs, strict=True)))
    parsed = from_items(parse_qsl(query))
    reopened = [validate_spec(spec).model_dump() for _, spec in parsed["members"]]
    assert reopened == [s.model_dump() for s in plan.specs]
    assert [label for label, _ in parsed["members"]] == labels


def test_url_labels_survive_separator_characters() -> None:
    base = validate_spec(TINY)
    odd = "a!b~c%d =e&f"
    query = to_url_query(base, [(odd, base), ("", base)], 0.25)
    parsed = from_items(parse_qsl(query))
    assert [label for label, _ in parsed["members"]] == [odd, ""]
    assert parsed["target_loss"] == 0.25
    with pytest.raises(ValueError, match="member 1"):
        from_items([("m", "o~sgd!broken")])


def test_an_independent_member_trains_exactly_as_the_same_spec_alone() -> None:
    # Members differ in the activation: no shared stack, one Trainer each, interleaved.
    relu = {"overrides": {"model": {"layers": [{"activation": "relu"}, {"activation": "relu"}]}}}
    plan = validate_plan(
        {"base": TINY, "members": [{"optimizer": {"name": "adam", "lr": 0.05}}, relu]}
    )
    assert plan.independent and "activation" in plan.mode_reason()
    engine = plan.engine()
    losses: dict[int, list[float]] = {0: [], 1: []}
    last = None
    for rec in engine.records():
        if rec["kind"] == "step":
            losses[rec["member"]].append(rec["loss"])
        last = rec
    assert last is not None and last["kind"] == "summary" and len(last["members"]) == 2
    for member in (0, 1):
        alone = [r["loss"] for r in Trainer(plan.specs[member]).records() if r["kind"] == "step"]
        assert losses[member] == pytest.approx(alone, rel=1e-6, abs=1e-9)
    assert losses[0] != losses[1]
