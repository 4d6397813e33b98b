"""Image datasets and augmentation: the shipped digits, the seeded shapes generator, its
shifted variant, and augmentation checked against torch's own roll / rot90."""

from __future__ import annotations

import gzip

import pytest
import torch

from app.nn.data.augment import affine, augment
from app.nn.data.images import DIGITS_FILE, digits, make_image_data
from app.nn.data.shapes import shapes


def test_the_shipped_digits_are_the_uci_set_scaled_to_unit_range() -> None:
    with gzip.open(DIGITS_FILE, "rt") as f:
        rows = [line.split(",") for line in f.read().splitlines()]
    images, labels = digits()
    assert images.shape == (1797, 1, 8, 8) and len(rows) == 1797
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    # Row 0 of the file, pixel by pixel: counts 0..16 divided by 16, label last.
    assert images[0, 0].reshape(-1).tolist() == [int(v) / 16 for v in rows[0][:64]]
    assert torch.bincount(labels.long()).tolist() == [
        sum(1 for r in rows if int(r[64]) == d) for d in range(10)
    ]


def test_digit_splits_are_a_seeded_shuffle_of_every_image_once() -> None:
    data = make_image_data("digits", 8, 10, 1797, 0.0, 0.6, 0.2, seed=3)
    again = make_image_data("digits", 8, 10, 1797, 0.0, 0.6, 0.2, seed=3)
    other = make_image_data("digits", 8, 10, 1797, 0.0, 0.6, 0.2, seed=4)
    assert [len(s) for s in data.splits().values()] == [1078, 359, 360]
    assert torch.equal(data.test.x, again.test.x) and not torch.equal(data.test.x, other.test.x)
    every = torch.cat([s.x for s in data.splits().values()]).reshape(1797, -1)
    original = digits()[0].reshape(1797, -1).float()
    assert torch.equal(every.sort(0).values, original.sort(0).values)
    assert data.info.task == "multiclass" and data.info.classes == 10


@pytest.mark.parametrize("size", [12, 16])
def test_shapes_are_seeded_balanced_and_recognisable_without_noise(size: int) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = shapes(100, size, 5, 0.0, 0, g)
    x2, _ = shapes(100, size, 5, 0.0, 0, torch.Generator().manual_seed(0))
    assert x.shape == (100, 1, size, size) and torch.equal(x, x2)
    assert torch.bincount(y.long()).tolist() == [20] * 5
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    ink = x.sum((1, 2, 3))
    assert bool((ink > 0).all())
    # A centred cross is symmetric under a transpose; every ring is too (same distance).
    rings = x[y == 2]
    assert torch.equal(rings, rings.transpose(2, 3))


def _centroid_offset(images: torch.Tensor) -> torch.Tensor:
    side = images.shape[-1]
    axis = torch.arange(side, dtype=torch.float64) - (side - 1) / 2
    w = images[:, 0].clamp_min(0).double()
    mass = w.sum((1, 2))
    cy = (w.sum(2) * axis).sum(1) / mass
    cx = (w.sum(1) * axis).sum(1) / mass
    return torch.hypot(cy, cx)


def test_the_shifted_variant_tests_on_shapes_moved_off_centre() -> None:
    data = make_image_data("shapes_shifted", 16, 4, 400, 0.0, 0.5, 0.25, seed=1)
    train, test = _centroid_offset(data.train.x), _centroid_offset(data.test.x)
    assert float(train.max()) < 1.0  # centred (triangles' centroid is a little low)
    assert float(test.mean()) > 2.0  # up to 4 px each way on 16 px


def test_integer_shifts_move_pixels_exactly_as_a_zero_filled_roll() -> None:
    x = torch.rand(6, 1, 8, 8)
    dy = torch.tensor([0.0, 1, -2, 3, 0, -1])
    dx = torch.tensor([2.0, 0, 1, -3, -1, 0])
    moved = affine(x, torch.zeros(6), dy, dx)
    for i in range(6):
        a, b = int(dy[i]), int(dx[i])
        want = torch.zeros(8, 8)
        src = x[i, 0]
        want[max(a, 0) : 8 + min(a, 0), max(b, 0) : 8 + min(b, 0)] = src[
            max(-a, 0) : 8 + min(-a, 0), max(-b, 0) : 8 + min(-b, 0)
        ]
        assert torch.allclose(moved[i, 0], want, atol=1e-5), i


def test_a_quarter_turn_is_torchs_rot90() -> None:
    x = torch.rand(2, 1, 7, 7)
    turned = affine(x, torch.full((2,), torch.pi / 2), torch.zeros(2), torch.zeros(2))
    options = [torch.rot90(x, k, (2, 3)) for k in (1, 3)]
    assert any(torch.allclose(turned, o, atol=1e-5) for o in options)


def test_augmentation_is_seeded_and_off_means_unchanged() -> None:
    x = torch.rand(4, 1, 8, 8)
    same = torch.Generator().manual_seed(0)
    assert torch.equal(augment(x, 0, 0.0, 0.0, same), x)
    a = augment(x, 2, 15.0, 0.1, torch.Generator().manual_seed(5))
    b = augment(x, 2, 15.0, 0.1, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.allclose(a, x)
