"""Datasets: shapes, labels and task per registry entry, seeding, noise, splits, features."""

from __future__ import annotations

import math

import pytest
import torch

from app.nn.data.points import (
    DATASETS,
    DOMAIN,
    FEATURES,
    featurize,
    generate_points,
    grid_points,
    make_data,
    split_sizes,
)

GENERATED = [key for key in DATASETS if DATASETS[key].gen is not None]
EXPECTED_TASKS = {
    "circle": "binary",
    "xor": "binary",
    "gauss": "binary",
    "spiral": "binary",
    "moons": "binary",
    "checkerboard": "binary",
    "blobs": "multiclass",
    "spiral3": "multiclass",
    "plane": "regression",
    "multigauss": "regression",
    "sine": "regression",
}


def test_the_issue_datasets_exist_with_their_tasks() -> None:
    for key, task in EXPECTED_TASKS.items():
        assert DATASETS[key].task == task
    assert DATASETS["blobs"].classes == DATASETS["spiral3"].classes == 3


@pytest.mark.parametrize("key", GENERATED)
def test_shapes_labels_and_task(key: str) -> None:
    info = DATASETS[key]
    raw, y = generate_points(key, 301, 0.0, seed=5)
    assert raw.shape == (301, 2) and y.shape == (301,)
    assert raw.dtype == y.dtype == torch.float64
    assert torch.isfinite(raw).all() and torch.isfinite(y).all()
    lo, hi = DOMAIN
    assert float(raw.min()) >= lo and float(raw.max()) <= hi  # noiseless points fit the grid
    if info.task == "regression":
        assert info.classes == 1
        # TFP's plane is not clamped: (x1 + x2) / 10 reaches ±1.2 in the ±6 square.
        bound = 1.2 if key == "plane" else 1.0
        assert float(y.std()) > 0.1 and float(y.abs().max()) <= bound + 1e-9
    else:
        labels = set(y.tolist())
        assert labels == set(map(float, range(info.classes)))
        shares = [float((y == c).double().mean()) for c in range(info.classes)]
        assert min(shares) > 0.8 / info.classes  # roughly balanced
    if info.dims == 1:
        assert float(raw[:, 1].abs().max()) == 0.0


@pytest.mark.parametrize("key", GENERATED)
def test_seeded_and_noise_matters(key: str) -> None:
    a = generate_points(key, 100, 0.3, seed=1)
    b = generate_points(key, 100, 0.3, seed=1)
    c = generate_points(key, 100, 0.3, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    quiet = generate_points(key, 100, 0.0, seed=1)
    assert not (torch.equal(a[0], quiet[0]) and torch.equal(a[1], quiet[1]))


def test_spiral_arms_without_noise_are_exact_spirals() -> None:
    raw, y = generate_points("spiral", 500, 0.0, seed=0)
    assert int((y == 1).sum()) == int((y == 0).sum()) == 250
    radius = raw.norm(dim=1)
    assert float(radius.max()) < 5.0 and float(radius.min()) == 0.0
    # Each arm's radius grows linearly along the arm: its 250 radii are 5·i/250.
    for label in (0.0, 1.0):
        r = radius[y == label].sort().values
        torch.testing.assert_close(r, torch.arange(250, dtype=torch.float64) / 250 * 5)


@pytest.mark.parametrize(("train", "val"), [(0.5, 0.0), (0.6, 0.2), (1.0, 0.0), (0.3, 0.7)])
def test_splits_partition_the_points(train: float, val: float) -> None:
    data = make_data("blobs", 97, 0.1, train, val, ["x1", "x2", "x1x2"], seed=4)
    sizes = split_sizes(97, train, val)
    assert (len(data.train), len(data.val), len(data.test)) == sizes and sum(sizes) == 97
    assert len(data.train) == max(1, round(97 * train))
    raw, y = generate_points("blobs", 97, 0.1, seed=4)
    joined = torch.cat([s.raw for s in data.splits().values()])
    torch.testing.assert_close(joined, raw.float())  # in order, disjoint, nothing lost
    torch.testing.assert_close(torch.cat([s.y for s in data.splits().values()]), y.float())
    for split in data.splits().values():
        assert split.x.dtype == split.y.dtype == torch.float32
        assert split.x.shape == (len(split), 3)


def test_every_feature_is_its_formula() -> None:
    raw = torch.tensor([[0.5, -2.0], [3.0, 1.5], [-1.2, 0.0]])
    a, b = raw[:, 0], raw[:, 1]
    formulas = {
        "x1": a,
        "x2": b,
        "x1sq": a**2,
        "x2sq": b**2,
        "x1x2": a * b,
        "sin_x1": a.sin(),
        "sin_x2": b.sin(),
        "cos_x1": a.cos(),
        "cos_x2": b.cos(),
    }
    assert set(formulas) == set(FEATURES)
    x = featurize(raw, list(formulas))
    assert x.shape == (3, len(formulas))
    for j, expected in enumerate(formulas.values()):
        torch.testing.assert_close(x[:, j], expected)


def test_custom_points_infer_the_task() -> None:
    g = torch.Generator().manual_seed(0)
    xy = (torch.rand(20, 2, generator=g) * 8 - 4).tolist()
    for labels, task, classes in [
        ([i % 2 for i in range(20)], "binary", 2),
        ([i % 4 for i in range(20)], "multiclass", 4),
        ([math.sin(i) for i in range(20)], "regression", 1),
    ]:
        points = [[*p, float(v)] for p, v in zip(xy, labels, strict=True)]
        data = make_data("custom", 20, 0.0, 0.5, 0.0, ["x1", "x2"], seed=0, points=points)
        assert (data.info.task, data.info.classes) == (task, classes)
        assert len(data.train) == 10 and len(data.test) == 10


def test_grid_covers_the_domain_row_major() -> None:
    grid = grid_points(5)
    assert grid.shape == (25, 2)
    assert grid[0].tolist() == [DOMAIN[0], DOMAIN[0]] and grid[-1].tolist() == [DOMAIN[1]] * 2
    assert grid[1, 0] > grid[0, 0] and grid[1, 1] == grid[0, 1]  # x varies fastest
