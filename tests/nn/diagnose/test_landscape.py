"""Loss landscape: the centre is the current training loss, directions are filter-normalised
per neuron, the grids have the promised shapes and bounded sizes, and trajectories project
onto the plane."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from app.nn.diagnose.landscape import (
    filter_normalized_direction,
    landscape_for,
    linears,
    loss_landscape,
    project_trajectory,
)
from app.nn.measure.metrics import weight_lists
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer

torch.set_num_threads(1)


def trained(epochs: int = 8, **train: object) -> Trainer:
    spec = validate_spec(
        {
            "data": {"samples": 300, "noise": 0.1},
            "model": {
                "layers": [
                    {"units": 6, "norm": "batch", "dropout": 0.2},
                    {"units": 5, "activation": "relu"},
                ]
            },
            "train": {"epochs": epochs, "optimizer": {"name": "adam"}, **train},
        }
    )
    trainer = Trainer(spec)
    trainer.run()
    return trainer


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    return trained()


def test_centre_is_the_current_training_loss(trainer: Trainer) -> None:
    before = copy.deepcopy(trainer.model.state_dict())
    result = landscape_for(trainer, steps=9, steps_1d=11)
    reported = trainer.evaluation()["train"]["loss"]
    assert result["centre_loss"] == pytest.approx(reported, rel=1e-6)
    assert result["surface"]["loss"][4][4] == result["centre_loss"]
    assert result["line"]["loss"][5] == result["centre_loss"]
    # The live model is untouched (weights, BatchNorm stats) and still in training mode.
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert trainer.model.training


def test_trained_weights_sit_in_a_valley(trainer: Trainer) -> None:
    result = landscape_for(trainer, steps=5, steps_1d=21, span=1.0)
    line = result["line"]["loss"]
    assert line[0] > result["centre_loss"] and line[-1] > result["centre_loss"]
    surface = result["surface"]["loss"]
    corners = [surface[0][0], surface[0][-1], surface[-1][0], surface[-1][-1]]
    assert min(corners) > result["centre_loss"]


def test_directions_are_normalised_per_neuron(trainer: Trainer) -> None:
    model = trainer.model
    g = torch.Generator().manual_seed(3)
    first = filter_normalized_direction(model, g)
    second = filter_normalized_direction(model, g)
    assert len(first) == len(linears(model)) == 3  # two hidden layers and the head
    for d, lin in zip(first, linears(model), strict=True):
        assert d.shape == lin.weight.shape
        torch.testing.assert_close(d.norm(dim=1), lin.weight.detach().norm(dim=1))
    assert not torch.allclose(first[0], second[0])  # two independent directions
    # A zero weight row (a neuron that carries nothing) gets a zero direction row.
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with torch.no_grad():
        net[0].weight[2].zero_()
    d = filter_normalized_direction(net, torch.Generator().manual_seed(0))
    assert torch.all(d[0][2] == 0) and torch.all(d[0][[0, 1, 3]].norm(dim=1) > 0)


def test_biases_and_norm_parameters_stay_fixed(trainer: Trainer) -> None:
    # Moving along the plane changes only Linear weights: with every weight zeroed, the
    # loss along the line is flat (the zero direction rows leave weights at zero).
    model = copy.deepcopy(trainer.model)
    with torch.no_grad():
        for lin in linears(model):
            lin.weight.zero_()
    train = trainer.data.train
    result = loss_landscape(
        model, train.x, train.y, lambda out, y: trainer.loss_fn(out, y, 0.0, 1.0), steps=3
    )
    values = result["line"]["loss"]
    assert max(values) - min(values) == pytest.approx(0.0, abs=1e-7)


def test_grid_shapes_and_caps(trainer: Trainer) -> None:
    result = landscape_for(trainer, steps=8, steps_1d=12, span=0.5)
    surface = result["surface"]
    assert len(surface["alphas"]) == len(surface["betas"]) == 7  # odd, so 0 is on the grid
    assert len(surface["loss"]) == 7 and all(len(row) == 7 for row in surface["loss"])
    assert surface["alphas"][0] == -0.5 and surface["alphas"][3] == 0.0
    assert surface["alphas"][-1] == 0.5
    assert len(result["line"]["alphas"]) == len(result["line"]["loss"]) == 11
    capped = landscape_for(trainer, steps=10_000, steps_1d=10_000, max_steps=15, max_samples=40)
    assert len(capped["surface"]["alphas"]) == 15 and len(capped["line"]["alphas"]) == 15
    assert capped["samples"] == 40 < len(trainer.data.train)
    with pytest.raises(ValueError, match="span"):
        landscape_for(trainer, span=0)


def test_trajectory_points_on_the_plane_project_exactly(trainer: Trainer) -> None:
    model = trainer.model
    g = torch.Generator().manual_seed(9)
    d1, d2 = filter_normalized_direction(model, g), filter_normalized_direction(model, g)
    wanted = [(0.0, 0.0), (0.3, -0.2), (-1.5, 0.7)]
    points = []
    for a, b in wanted:
        moved = copy.deepcopy(model)
        with torch.no_grad():
            for lin, u, v in zip(linears(moved), d1, d2, strict=True):
                lin.weight.add_(a * u + b * v)
        points.append(moved.state_dict())
    out = project_trajectory(model, (d1, d2), points)
    for (a, b), pa, pb, off in zip(
        wanted, out["alphas"], out["betas"], out["residual"], strict=True
    ):
        assert pa == pytest.approx(a, abs=1e-5) and pb == pytest.approx(b, abs=1e-5)
        assert off == pytest.approx(0.0, abs=1e-4)


def test_a_real_trajectory_projects_and_ends_at_the_centre() -> None:
    spec = validate_spec({"data": {"samples": 200}, "train": {"epochs": 4}})
    trainer = Trainer(spec)
    snapshots = []  # weight snapshots as the run service stores them, plus flat vectors
    for rec in trainer.records():
        if rec["kind"] == "eval":
            snapshots.append(weight_lists(trainer.model))
    flat = torch.cat([p.detach().reshape(-1) for p in trainer.model.parameters()])
    result = landscape_for(trainer, steps=5, trajectory=[*snapshots, flat], max_trajectory=4)
    path = result["trajectory"]
    assert len(path["alphas"]) == 4  # evenly subsampled, first and last kept
    assert path["alphas"][-1] == pytest.approx(0.0, abs=1e-9)
    assert path["betas"][-1] == pytest.approx(0.0, abs=1e-9)
    assert path["residual"][0] > 0.5  # random directions miss most of a real path (Li et al.)
    with pytest.raises(ValueError, match="weights"):
        landscape_for(trainer, steps=3, trajectory=[[1.0, 2.0]])
