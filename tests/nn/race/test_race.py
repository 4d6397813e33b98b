"""The optimizer race: the test functions' known minima, real optimizer trajectories."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.nn.race.race import FUNCTIONS, Race, contour_grid, describe, validate_race
from app.nn.spec.base import error_list


def grad_at(key: str, point: tuple[float, float]) -> torch.Tensor:
    p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    FUNCTIONS[key](p[0], p[1]).backward()
    assert p.grad is not None
    return p.grad


@pytest.mark.parametrize("key", FUNCTIONS.keys())
def test_gradient_vanishes_at_every_known_minimum_and_saddle(key: str) -> None:
    info = FUNCTIONS[key]
    assert info.minima, key
    for point in info.minima + info.saddles:
        assert grad_at(key, point).abs().max() < 1e-6, (key, point)
    values = [float(info(*(torch.tensor(v, dtype=torch.float64) for v in m))) for m in info.minima]
    assert min(values) == pytest.approx(info.min_value, abs=1e-9)
    assert values[0] == min(values)  # the global minimum is listed first
    assert grad_at(key, info.start).abs().max() > 1e-3  # the race has somewhere to go


@pytest.mark.parametrize("key", FUNCTIONS.keys())
def test_contour_grid_covers_the_range_and_its_minimum(key: str) -> None:
    info = FUNCTIONS[key]
    grid = contour_grid(key, size=41)
    assert len(grid["z"]) == 41 and all(len(row) == 41 for row in grid["z"])
    assert grid["x"][0] == info.x_range[0] and grid["y"][-1] == pytest.approx(info.y_range[1])
    assert grid["zmin"] >= info.min_value - 1e-9
    x0, y0 = info.minima[0]
    assert info.x_range[0] <= x0 <= info.x_range[1] and info.y_range[0] <= y0 <= info.y_range[1]
    assert describe(key)["start"] == list(info.start)


def test_trajectories_start_at_the_start_point_and_follow_real_torch_optim() -> None:
    start = (0.5, -1.5)
    race = Race("himmelblau", [{"name": "sgd", "lr": 0.01}, {"name": "adam"}], start=start, steps=3)
    records = list(race.records())
    kinds = [r["kind"] for r in records]
    assert kinds == ["start", "step", "step", "step", "step", "end"]
    zero = records[1]
    assert zero["step"] == 0 and zero["x"] == [0.5, 0.5] and zero["y"] == [-1.5, -1.5]
    # Oracle: one plain SGD step by hand.
    g = grad_at("himmelblau", start)
    first = records[2]
    assert first["x"][0] == pytest.approx(start[0] - 0.01 * float(g[0]))
    assert first["y"][0] == pytest.approx(start[1] - 0.01 * float(g[1]))
    assert first["loss"][0] == pytest.approx(race.loss((first["x"][0], first["y"][0])))


def test_momentum_reaches_the_target_sooner_than_sgd_on_the_ill_conditioned_bowl() -> None:
    lr = 0.03
    race = Race("bowl", [{"name": "sgd", "lr": lr}, {"name": "momentum", "lr": lr}], steps=1000)
    records = list(race.records())
    sgd, momentum = records[-1]["racers"]
    assert sgd["steps_to_target"] is not None and momentum["steps_to_target"] is not None
    assert momentum["steps_to_target"] < sgd["steps_to_target"]
    # The step counts come from the losses in the stream, not from the summary alone.
    for i, racer in enumerate((sgd, momentum)):
        first = next(r["step"] for r in records[1:-1] if r["loss"][i] <= FUNCTIONS["bowl"].target)
        assert first == racer["steps_to_target"]
    assert math.hypot(*momentum["position"]) < 0.1


def test_a_diverging_racer_stops_flagged_while_the_others_race_on() -> None:
    racers = [{"name": "sgd", "lr": 0.5}, {"name": "adam", "lr": 0.05}]
    records = list(Race("rosenbrock", racers, steps=200).records())
    gone, alive = records[-1]["racers"]
    assert gone["diverged"] and gone["position"] is None and gone["diverged_at"] < 20
    assert not alive["diverged"] and alive["loss"] < records[1]["loss"][1]
    last = records[-2]
    assert last["step"] == 200 and last["x"][0] is None and last["x"][1] is not None
    flagged = [r for r in records if any(e["event"] == "diverged" for e in r.get("events", []))]
    assert [r["step"] for r in flagged] == [gone["diverged_at"]]


def test_race_inputs_are_validated_like_network_optimizers() -> None:
    with pytest.raises(ValueError, match="lr"):
        Race("bowl", [{"name": "adam", "lr": 100.0}])
    with pytest.raises(ValueError, match="unknown test function"):
        Race("nope", [{"name": "adam"}])
    with pytest.raises(ValueError, match="racers"):
        Race("bowl", [])
    with pytest.raises(ValueError, match="start"):
        Race("bowl", [{"name": "sgd"}], start=(math.nan, 0.0))
    race = Race("saddle", [{"name": "sgd"}], steps=50)
    gen = race.records()
    next(gen), next(gen), next(gen)
    race.stop()
    rest = list(gen)
    assert rest[-1]["kind"] == "end" and rest[-1]["status"] == "stopped" and rest[-1]["step"] < 50


def test_race_spec_errors_name_the_field() -> None:
    bad = {
        "function": "bowl",
        "racers": [{"name": "sgd"}, {"name": "adam", "lr": 50}],
        "start": [1.0, 1e9],
        "steps": 0,
    }
    with pytest.raises(ValidationError) as info:
        validate_race(bad)
    fields = {e["field"]: e["message"] for e in error_list(info.value)}
    assert "10.0" in fields["racers.1.lr"] and "finite point" in fields["start"]
    assert "steps" in fields
    good = validate_race({"function": "camel", "racers": [{"name": "nesterov"}], "steps": 5})
    records = list(Race.from_spec(good).records())
    assert records[1]["x"] == [FUNCTIONS["camel"].start[0]] and records[-1]["step"] == 5
