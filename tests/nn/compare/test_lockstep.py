"""Comparisons: shared initial weights and data order, and every member equal to the same
spec trained alone by the ordinary Trainer (the oracle), in batched and sequential modes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.nn.compare.lockstep import Comparison
from app.nn.compare.spec import ComparisonSpec, validate_comparison
from app.nn.records import Record
from app.nn.spec.base import Limits, error_list
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import Trainer

RTOL = 1e-4
BASE: dict[str, Any] = {
    "seed": 7,
    "data": {"dataset": "spiral", "samples": 200, "noise": 0.1, "val_fraction": 0.2},
    "model": {"layers": [{"units": 8, "activation": "tanh"}, {"units": 6, "activation": "relu"}]},
    "train": {"batch_size": 10, "epochs": 25},  # 100 train points: 250 steps
}


def comparison(members: list[dict[str, Any]], **base_over: Any) -> ComparisonSpec:
    base = copy.deepcopy(BASE)
    for key, value in base_over.items():
        base[key] = {**base.get(key, {}), **value}
    return validate_comparison({"base": base, "members": members})


def member_records(records: list[Record], member: int) -> list[Record]:
    return [r for r in records if r.get("member") == member]


def series(records: list[Record], kind: str, key: str) -> torch.Tensor:
    values = []
    for r in records:
        if r["kind"] != kind:
            continue
        v: Any = r
        for part in key.split("."):
            v = v[part]
        values.append(v)
    return torch.tensor(values, dtype=torch.float64)


def assert_same_run(mine: list[Record], alone: list[Record]) -> None:
    """Same step and eval trajectory, same ending, within float tolerance."""
    for kind, key in [
        ("step", "loss"),
        ("step", "lr"),
        ("step", "grad_w"),
        ("step", "grad_b"),
        ("step", "grad_norm"),
        ("step", "update_ratio"),
        ("step", "weight_norm"),
        ("eval", "train.loss"),
        ("eval", "layers.act_std"),
    ]:
        a, b = series(mine, kind, key), series(alone, kind, key)
        assert a.shape == b.shape, (kind, key)
        torch.testing.assert_close(a, b, rtol=RTOL, atol=1e-6, msg=f"{kind}.{key}")
    for key in ("penalty", "grad_norm_clipped"):  # only in some members' step records
        a = [r[key] for r in mine if r["kind"] == "step" and key in r]
        b = [r[key] for r in alone if r["kind"] == "step" and key in r]
        assert a == pytest.approx(b, rel=RTOL, abs=1e-6), key
    end_a, end_b = mine[-1], alone[-1]
    assert end_a["kind"] == end_b["kind"] == "end"
    for key in ("status", "step", "epoch", "best_epoch"):
        assert end_a[key] == end_b[key], key
    for key, value in end_b["final"].items():
        assert end_a["final"][key] == pytest.approx(value, rel=RTOL, abs=1e-6), key


def check_members(spec: ComparisonSpec, mode: str = "auto") -> tuple[Comparison, list[Record]]:
    comp = Comparison(spec, mode=mode)
    records = list(comp.records())
    for i, member_spec in enumerate(spec.member_specs()):
        alone = list(Trainer(member_spec).records())
        assert_same_run(member_records(records, i), alone)
    return comp, records


def test_members_start_from_bit_identical_weights_equal_to_a_lone_run() -> None:
    spec = comparison([{"optimizer": {"name": n}} for n in ("sgd", "adam", "rmsprop")])
    comp = Comparison(spec)
    alone = Trainer(spec.member_spec(1)).model.state_dict()
    for i in range(3):
        state = comp.network(i).state_dict()
        assert all(torch.equal(state[k], alone[k]) for k in alone)


def test_optimizers_and_regularisers_equal_their_standalone_runs() -> None:
    members = [
        {"optimizer": {"name": "sgd", "lr": 0.1}, "grad_clip": {"mode": "norm", "max": 0.5}},
        {"optimizer": {"name": "momentum", "lr": 0.03, "dampening": 0.2}, "l2": 0.01},
        {"optimizer": {"name": "nesterov", "lr": 0.03}, "schedule": {"name": "cosine"}},
        {"optimizer": {"name": "rmsprop", "lr": 0.005, "centered": True, "momentum": 0.5}},
        {"optimizer": {"name": "adam", "lr": 0.01, "amsgrad": True}, "l1": 0.001},
        {"optimizer": {"name": "adamw", "lr": 0.01}, "weight_decay": 0.1},
        {
            "optimizer": {"name": "adam", "lr": 0.02, "beta1": 0.8},
            "schedule": {"name": "warmup_cosine", "warmup_epochs": 3},
            "grad_clip": {"mode": "value", "max": 0.05},
        },
        {"optimizer": {"name": "sgd", "lr": 0.05}, "weight_decay": 0.01},
    ]
    comp, _ = check_members(comparison(members))
    assert comp.mode == "batched" and len(comp.groups) == 1


def test_more_optimizers_batch_sizes_and_schedules_equal_standalone() -> None:
    members = [
        {"optimizer": {"name": "adagrad", "lr": 0.05, "lr_decay": 0.01}},
        {
            "optimizer": {"name": "nadam", "lr": 0.01},
            "schedule": {"name": "step", "step_epochs": 5},
        },
        {"optimizer": {"name": "radam", "lr": 0.01}},
        {"optimizer": {"name": "adamax", "lr": 0.02}, "batch_size": 25},
        {"optimizer": {"name": "rmsprop", "lr": 0.01}, "batch_size": 25},
        {"optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"name": "reduce_on_plateau"}},
    ]
    comp, _ = check_members(comparison(members))
    assert comp.mode == "batched" and len(comp.groups) == 2  # batch sizes 10 and 25


def test_dropout_residual_input_noise_and_other_tasks_equal_standalone() -> None:
    layers = [
        {"units": 2, "activation": "tanh", "residual": True, "dropout": 0.2},
        {"units": 8, "activation": "elu", "dropout": 0.3},
    ]
    members = [{"optimizer": {"name": "adam", "lr": 0.01}}, {"optimizer": {"name": "momentum"}}]
    check_members(
        comparison(members, model={"layers": layers}, train={"input_noise": 0.3, "epochs": 10})
    )
    multi = {"dataset": "spiral3", "samples": 150}
    check_members(comparison(members, data=multi, train={"label_smoothing": 0.1, "epochs": 5}))
    reg = {"dataset": "plane", "samples": 150}
    check_members(comparison(members, data=reg, train={"loss": "huber", "epochs": 5}))


def test_unsupported_models_fall_back_to_sequential_with_same_guarantees() -> None:
    layers = [{"units": 8, "norm": "layer"}, {"units": 6, "dropout": 0.3}]
    members = [{"optimizer": {"name": "adam"}}, {"optimizer": {"name": "sgd", "lr": 0.1}}]
    spec = comparison(members, model={"layers": layers}, train={"epochs": 6})
    comp, records = check_members(spec)
    assert comp.mode == "sequential" and "layer norm" in comp.mode_reason
    starts = [r for r in records if r["kind"] == "start"]
    assert [r["member"] for r in starts] == [0, 1] and all(
        r["mode"] == "sequential" for r in starts
    )
    ada = comparison([{"optimizer": {"name": "adafactor"}}, {}], train={"epochs": 2})
    assert Comparison(ada).mode == "sequential"
    with pytest.raises(ValueError, match="Adafactor"):
        Comparison(ada, mode="batched")


def test_early_stopping_and_divergence_end_members_independently() -> None:
    members = [
        {"optimizer": {"name": "adam", "lr": 0.05}},
        {"optimizer": {"name": "sgd", "lr": 10.0}},  # overshoots
        {"optimizer": {"name": "sgd", "lr": 0.003}},
    ]
    spec = comparison(
        members,
        data={"dataset": "moons", "noise": 0.5, "samples": 100},
        model={"layers": [{"units": 32, "activation": "relu"}] * 2},
        train={"early_stopping": {"patience": 3}, "epochs": 40},
    )
    _, records = check_members(spec)
    ends = {r["member"]: r for r in records if r["kind"] == "end"}
    assert ends[0]["reason"].startswith("early stopping") and ends[0]["step"] < ends[2]["step"]
    assert ends[1]["status"] == "diverged" and ends[2]["status"] == "finished"
    table = {row["member"]: row for row in records[-1]["members"]}
    assert records[-1]["kind"] == "summary"
    assert table[1]["diverged"] and table[1]["diverged_at"] == ends[1]["step"]
    assert not table[0]["diverged"] and table[0]["diverged_at"] is None
    assert not table[1]["leader"]


def test_start_records_match_the_trainer_and_points_are_sent_once() -> None:
    spec = comparison([{}, {"optimizer": {"lr": 0.1}}])
    starts = [r for r in Comparison(spec).records() if r["kind"] == "start"]
    alone = next(Trainer(spec.member_spec(0)).records())
    own = ("member", "label", "mode", "engine", "initial_weights")
    assert {k: v for k, v in starts[0].items() if k not in own} == {
        k: v for k, v in alone.items() if k != "engine"
    }
    # Batched members run the stacked step; a sequential member says which path it runs.
    assert starts[0]["engine"]["path"] == "stacked" and starts[0]["mode"] == "batched"
    assert {r["initial_weights"] for r in starts} == {"shared"}
    seq = [r for r in Comparison(spec, mode="sequential").records() if r["kind"] == "start"]
    assert seq[0]["engine"] == alone["engine"] and alone["engine"]["path"] == "fused"
    assert "points" not in starts[1] and starts[1]["total_steps"] == alone["total_steps"]
    assert [s["label"] for s in starts] == ["sgd lr=0.03", "sgd lr=0.1"]


def test_stop_one_member_then_all_and_snapshot_any_time() -> None:
    spec = comparison([{"optimizer": {"name": n}} for n in ("sgd", "adam", "momentum")])
    comp = Comparison(spec)
    gen = comp.records()
    seen = [next(gen) for _ in range(60)]  # pause: simply stop pulling records
    snap = comp.snapshot(1, grid_size=12)
    net = comp.network(1)
    assert snap["member"] == 1 and len(snap["grid"]["values"]) == 144
    assert snap["weights"][0][0][0] == pytest.approx(
        float(net.linears()[0].weight.detach()[0, 0]), abs=1e-4
    )
    comp.stop(1)
    rest = list(gen)
    ends = {r["member"]: r for r in seen + rest if r["kind"] == "end"}
    assert ends[1]["status"] == "stopped" and ends[0]["status"] == "finished"
    assert ends[1]["step"] < ends[0]["step"] == spec.member_spec(0).total_steps()
    comp2 = Comparison(spec)
    gen2 = comp2.records()
    for _ in range(30):
        next(gen2)
    comp2.stop()
    assert {r["status"] for r in gen2 if r["kind"] == "end"} == {"stopped"}


def test_summary_target_and_best_val_come_from_the_records() -> None:
    members = [{"optimizer": {"name": "adam", "lr": 0.03}}, {"optimizer": {"name": "sgd"}}]
    spec = comparison(members, data={"dataset": "gauss"}, train={"epochs": 10})
    records = list(Comparison(spec).records())
    table = records[-1]["members"]
    for row in table:
        evals = [r for r in member_records(records, row["member"]) if r["kind"] == "eval"]
        target = 0.1 * evals[0]["train"]["loss"]
        reached = [r["step"] for r in evals if r["train"]["loss"] <= target]
        assert row["target_loss"] == pytest.approx(target)
        assert row["steps_to_target"] == (reached[0] if reached else None)
        assert row["best_val_loss"] == min(r["val"]["loss"] for r in evals)
    assert table[0]["steps_to_target"] is not None  # adam fits gauss blobs quickly
    assert sum(row["leader"] for row in table) == 1


def test_live_hparams_change_one_member_only() -> None:
    spec = comparison([{}, {}], train={"epochs": 2})
    comp = Comparison(spec)
    gen = comp.records()
    for rec in gen:
        if rec["kind"] == "step" and rec["step"] == 5:
            break
    comp.set_hparams(1, lr=0.5)
    later = [r for r in gen if r["kind"] == "step" and r["step"] > 5]  # step 5 was computed
    assert {r["lr"] for r in later if r["member"] == 1} == {0.5}
    assert {r["lr"] for r in later if r["member"] == 0} == {0.03}


def test_comparison_spec_errors_name_the_member_field() -> None:
    def errors(data: dict[str, Any], limits: Limits | None = None) -> dict[str, str]:
        with pytest.raises(ValidationError) as info:
            validate_comparison(data, limits)
        return {e["field"]: e["message"] for e in error_list(info.value)}

    bad_lr = [{}, {}, {"optimizer": {"name": "adam", "lr": 100}}]
    assert "10.0" in errors({"members": bad_lr})["members.2.optimizer.lr"]
    assert "2 to 8" in errors({"members": [{}]})["members"]
    assert (
        "beta1"
        in errors({"members": [{}, {"optimizer": {"name": "adam", "b": 1}}]})[
            "members.1.optimizer.b"
        ]
    )
    assert "1, 5000" in errors({"members": [{}, {"batch_size": 0}]})["members.1.batch_size"]
    limits = Limits(max_steps=1000)
    tiny_batches = {"base": {"train": {"epochs": 10}}, "members": [{}, {"batch_size": 1}]}
    assert "limit is 1000" in errors(tiny_batches, limits)["members.1.epochs"]


def test_member_optimizer_without_name_inherits_the_base_optimizer() -> None:
    spec = validate_comparison(
        {
            "base": {"train": {"optimizer": {"name": "adam", "lr": 0.02, "beta1": 0.8}}},
            "members": [{}, {"optimizer": {"lr": 0.1}}, {"optimizer": {"name": "sgd"}}],
        }
    )
    opts = [s.train.optimizer for s in spec.member_specs()]
    assert [(o.name, o.lr) for o in opts] == [("adam", 0.02), ("adam", 0.1), ("sgd", 0.03)]
    assert opts[1].params()["beta1"] == 0.8
    assert spec.labels() == ["adam lr=0.02", "adam lr=0.1", "sgd lr=0.03"]
    assert isinstance(spec.member_spec(0), Spec)
    assert validate_comparison(spec.model_dump(mode="json")) == spec  # JSON round-trip


def test_cli_compare_prints_one_json_summary_and_names_bad_flags() -> None:
    runner = CliRunner()
    args = ["compare", "--optimizers", "sgd,adam", "--lr", "0.05", "--epochs", "3", "--json"]
    result = runner.invoke(cli, [*args, "--samples", "100", "--layers", "4"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "batched" and [m["label"] for m in out["members"]] == [
        "sgd lr=0.05",
        "adam lr=0.05",
    ]
    assert all(m["status"] == "finished" and m["step"] == 15 for m in out["members"])
    wild = ["compare", "--optimizers", "sgd", "--lr", "0.01,10", "--dataset", "plane", "--json"]
    out = runner.invoke(cli, [*wild, "--epochs", "2"]).stdout

    def strict(token: str) -> None:
        raise AssertionError(f"not strict JSON: {token}")

    rows = json.loads(out, parse_constant=strict)["members"]
    assert rows[1]["diverged"] and rows[1]["diverged_at"] < 10 and not rows[0]["diverged"]
    bad = runner.invoke(cli, ["compare", "--optimizers", "adam,sgd", "--lr", "0.1,0.2,0.3"])
    assert bad.exit_code == 2 and "--lr" in bad.output
    bad = runner.invoke(cli, ["compare", "--optimizers", "adam", "--lr", "100"])
    assert bad.exit_code == 2 and "members.0.optimizer.lr" in bad.output


def test_limits_given_at_validation_hold_for_member_specs() -> None:
    wide = {"base": {"model": {"layers": [{"units": 200}]}}, "members": [{}, {"batch_size": 3}]}
    spec = validate_comparison(wide, Limits(max_units=256))
    assert [s.model.layers[0].units for s in spec.member_specs()] == [200, 200]
    with pytest.raises(ValidationError):
        validate_comparison(wide)  # the default limit is 128 units


def test_a_stopped_member_ends_like_a_stopped_lone_run() -> None:
    spec = comparison(
        [{"optimizer": {"name": "adam"}}, {"optimizer": {"name": "momentum"}}],
        train={"early_stopping": {"patience": 50}},  # a best-so-far exists, never restored
    )
    comp = Comparison(spec)
    gen = comp.records()
    for rec in gen:
        if rec["kind"] == "step" and rec["member"] == 1 and rec["step"] == 37:
            break
    comp.stop(1)
    mine = next(r for r in gen if r.get("member") == 1 and r["kind"] == "end")
    lone = Trainer(spec.member_spec(1))
    records = lone.records()
    for rec in records:
        if rec["kind"] == "step" and rec["step"] == 37:
            break
    lone.stop()
    alone = next(r for r in records if r["kind"] == "end")
    assert mine["status"] == alone["status"] == "stopped" and mine["step"] == alone["step"] == 37
    assert mine["final"] == pytest.approx(alone["final"], rel=RTOL)
