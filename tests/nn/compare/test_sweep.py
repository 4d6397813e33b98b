"""Sequence-length sweeps (app.nn.compare.sweep): which members form a series, the presets
under the server's limits, the fail rule against chance, and what a comparison over several
T says of its data and labels."""

from __future__ import annotations

import math

import pytest

from app.nn.choices.cells import CELLS
from app.nn.compare.plan import validate_plan
from app.nn.compare.sweep import (
    PRESETS,
    SWEEP_LENGTHS,
    cell_members,
    describe,
    outcome,
    sweep_members,
)
from app.nn.compare.variants import data_paths
from app.nn.data.sequences import SEQ_TASKS
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec

BASE = {"family": "rnn", "seed": 2, "rnn": {"dataset": "adding", "samples": 100, "hidden": 4}}


def plan_of(members: list[dict], base: dict | None = None, limits: Limits | None = None):
    return validate_plan({"base": base or BASE, "members": members}, limits)


def sweep_of(plan) -> dict | None:
    specs = [s.model_dump(mode="json") for s in plan.specs]
    return describe(plan.spec.base.model_dump(mode="json"), specs, plan.labels)


def test_the_sweep_preset_is_a_plain_and_a_gated_cell_at_each_length() -> None:
    resolved = validate_spec(BASE).model_dump(mode="json")  # an LSTM base
    members = sweep_members(resolved, 200)
    got = [(m["overrides"]["rnn"]["cell"], m["overrides"]["rnn"]["length"]) for m in members]
    assert got == [(c, t) for c in ("rnn_tanh", "lstm") for t in SWEEP_LENGTHS]
    plan = plan_of(members)
    assert [s.part.length for s in plan.specs] == [t for _ in range(2) for t in SWEEP_LENGTHS]
    assert plan.labels == [f"{CELLS[c].label} T={t}" for c, t in got]
    # A GRU base sweeps RNN vs GRU; a ReLU RNN base sweeps itself vs LSTM.
    for own, pair in (("gru", ("rnn_tanh", "gru")), ("rnn_relu", ("rnn_relu", "lstm"))):
        base = validate_spec({**BASE, "rnn": {**BASE["rnn"], "cell": own}}).model_dump(mode="json")
        cells = [m["overrides"]["rnn"]["cell"] for m in sweep_members(base, 200)]
        assert cells == [pair[0]] * 4 + [pair[1]] * 4


def test_the_sweep_keeps_to_the_servers_max_length() -> None:
    limits = Limits(max_seq_len=60)
    resolved = validate_spec(BASE, limits).model_dump(mode="json")
    members = PRESETS["length-sweep"][1](resolved, limits.max_seq_len)
    lengths = sorted({m["overrides"]["rnn"]["length"] for m in members})
    assert lengths == [t for t in SWEEP_LENGTHS if t <= 60]
    plan_of(members, limits=limits)  # every member validates under those limits


def test_the_cells_preset_compares_the_three_cells_on_the_bases_task() -> None:
    plan = plan_of(cell_members(validate_spec(BASE).model_dump(mode="json")))
    assert [s.part.cell for s in plan.specs] == ["rnn_tanh", "gru", "lstm"]
    assert {s.part.length for s in plan.specs} == {20} and sweep_of(plan) is None
    assert {s.train.optimizer.name for s in plan.specs} == {"adam"}


def test_members_equal_but_for_t_are_one_series_in_order_of_t() -> None:
    members = [
        {"overrides": {"rnn": {"cell": "lstm", "length": 30}}},
        {"overrides": {"rnn": {"cell": "rnn_tanh", "length": 10}}},
        {"overrides": {"rnn": {"cell": "lstm", "length": 10}}},
        {"overrides": {"rnn": {"cell": "rnn_tanh", "length": 30}}},
        {"overrides": {"rnn": {"cell": "lstm", "length": 10}}, "optimizer": {"name": "adam"}},
    ]
    sweep = sweep_of(plan_of(members))
    assert sweep is not None
    assert sweep["lengths"] == [10, 30] and sweep["metric"] == "mse"
    assert sweep["chance"] == SEQ_TASKS["adding"].chance
    assert [s["members"] for s in sweep["series"]] == [
        [[2, 10], [0, 30]],
        [[1, 10], [3, 30]],
        [[4, 10]],  # another optimizer: its own series
    ]
    # Named by the members' labels without T (the optimizers differ, so they say which).
    labels = [s["label"] for s in sweep["series"]]
    assert labels == ["sgd lr=0.03 LSTM", "sgd lr=0.03 RNN (tanh)", "adam lr=0.01 LSTM"]


def test_no_sweep_without_two_lengths() -> None:
    assert sweep_of(plan_of([{"overrides": {"rnn": {"cell": "gru"}}}, {}])) is None
    assert sweep_of(plan_of([{}, {}], base={})) is None  # an MLP comparison


@pytest.mark.parametrize("task", ["adding", "parity"])
def test_outcome_marks_scores_closer_to_chance_than_to_perfect(task: str) -> None:
    base = {**BASE, "rnn": {**BASE["rnn"], "dataset": task}}
    lengths = [10, 25, 50]
    members = [{"overrides": {"rnn": {"length": t}}} for t in lengths]
    sweep = sweep_of(plan_of(members, base))
    assert sweep is not None
    chance = SEQ_TASKS[task].chance
    regression = SEQ_TASKS[task].task == "regression"
    # Scores a quarter, a half-plus-a-bit, and all the way from perfect towards chance.
    towards = [0.25, 0.55, 1.0]
    rows = []
    for i, f in enumerate(towards):
        if regression:
            rows.append({"member": i, "test_rmse": math.sqrt(f * chance)})
        else:
            rows.append({"member": i, "test_acc": 1 - f * (1 - chance)})
    (series,) = outcome(sweep, rows)
    assert [p["fails"] for p in series["points"]] == [f > 0.5 for f in towards]
    assert series["fails_at"] == 25
    scores = [p["score"] for p in series["points"]]
    want = [f * chance if regression else 1 - f * (1 - chance) for f in towards]
    assert scores == pytest.approx(want)
    # Before any evaluation: no scores, nothing fails yet; a diverged (NaN) member fails.
    (empty,) = outcome(sweep, [])
    assert empty["fails_at"] is None and all(p["score"] is None for p in empty["points"])
    key = "test_rmse" if regression else "test_acc"
    (nan,) = outcome(sweep, [{"member": 0, key: float("nan")}])
    assert nan["fails_at"] == 10


def test_a_comparison_over_lengths_says_its_members_have_their_own_data() -> None:
    plan = plan_of([{"overrides": {"rnn": {"length": 10}}}, {"overrides": {"rnn": {"length": 40}}}])
    reason = plan.mode_reason()
    assert "own data (another rnn.length)" in reason and "same seed, data" not in reason
    assert "initial weights" not in reason  # one model at two lengths: the same weights
    assert plan.labels == ["T=10", "T=40"]
    same = plan_of([{"overrides": {"rnn": {"cell": "gru"}}}, {}])
    assert "same seed, data and batch order" in same.mode_reason()
    dumps = [s.model_dump(mode="json") for s in plan.specs]
    assert data_paths(dumps) == ["rnn.length"]
    noisy = validate_plan({"base": {}, "members": [{}, {"overrides": {"data": {"noise": 0.3}}}]})
    assert "own data (another data.noise)" in noisy.mode_reason()
