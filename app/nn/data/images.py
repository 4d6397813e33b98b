"""Image datasets for the convolutional family, one registry, split like the point datasets.

- digits: the UCI 8x8 handwritten digits (files/digits.csv.gz, CC BY 4.0, see
  files/DIGITS-LICENSE.md): 1,797 images, 10 classes, pixel counts 0..16 scaled to [0, 1].
- shapes: procedural shapes (app/nn/data/shapes.py) at random positions (up to a sixth of
  the side off centre) in every split.
- shapes_shifted: training and validation shapes centred, test shapes shifted by up to a
  quarter of the side: does the model recognise a shape somewhere it never saw one?

A split's `raw` and `x` are the same (N, 1, H, W) float32 tensor: images need no features.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.nn.choices.registry import Entry, Registry
from app.nn.data.points import Data, DatasetInfo, Split, split_sizes
from app.nn.data.shapes import SHAPES, shapes

Tensor = torch.Tensor
DIGITS_FILE = Path(__file__).parent / "files" / "digits.csv.gz"
SHAPE_SIZES = (12, 16)
SHIFTED_SCALE = (0.2, 0.28)  # half-size / side of the shifted variant's shapes
# A drawn input (the page's pad, the `view_pixels` live change) is in the digits' own units:
# DRAWN_SIZE x DRAWN_SIZE grey levels 0..DRAWN_LEVELS, scaled like the file's pixels.
DRAWN_SIZE = 8
DRAWN_LEVELS = 16


@dataclass(frozen=True)
class ImageDatasetInfo(Entry):
    size: int = 0  # fixed side of its images (0: the spec's `size` decides)
    classes: int = 0  # fixed number of classes (0: the spec's `classes` decides)
    samples: int = 0  # fixed number of images (0: the spec's `samples` decides)
    shifted_test: bool = False  # test images shifted, the others centred
    drawable: bool = False  # a user may draw an input for it (DRAWN_SIZE, DRAWN_LEVELS)
    attribution: str = ""


IMAGE_DATASETS: Registry[ImageDatasetInfo] = Registry(
    "image dataset",
    [
        ImageDatasetInfo(
            "digits",
            "Handwritten digits 8x8",
            "1,797 handwritten digits 0-9 (UCI optical digits).",
            size=8,
            classes=10,
            samples=1797,
            drawable=True,
            attribution="E. Alpaydin, C. Kaynak, UCI Machine Learning Repository, CC BY 4.0",
        ),
        ImageDatasetInfo(
            "shapes",
            "Shapes",
            "Bars, crosses, rings, squares and triangles at random positions and scales.",
        ),
        ImageDatasetInfo(
            "shapes_shifted",
            "Shapes, test shifted",
            "Trained on centred shapes, tested on shapes moved off centre.",
            shifted_test=True,
        ),
    ],
)


@cache
def _digits_table() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :64].astype(np.uint8), table[:, 64]


def digits() -> tuple[Tensor, Tensor]:
    """All 1,797 digits as (N, 1, 8, 8) float64 in [0, 1] and labels (N,) float64."""
    pixels, labels = _digits_table()
    images = torch.from_numpy(pixels.astype(np.float64) / DRAWN_LEVELS).reshape(-1, 1, 8, 8)
    return images, torch.from_numpy(labels).double()


def drawn_image(dataset: str, pixels: Any) -> Tensor:
    """A drawn input as the dataset's images are: (1, 1, 8, 8) float32 in [0, 1] from
    DRAWN_SIZE**2 grey levels in [0, DRAWN_LEVELS], row by row. ValueError names what is
    wrong (the run service checks the same first; a worker gets messages from elsewhere
    too, the job queue's)."""
    if not IMAGE_DATASETS[dataset].drawable:
        raise ValueError(
            f"view_pixels: only runs on the 8x8 digits take a drawn input; this run uses {dataset}"
        )
    n = DRAWN_SIZE * DRAWN_SIZE
    if not isinstance(pixels, list | tuple) or len(pixels) != n:
        got = f"{len(pixels)} values" if isinstance(pixels, list | tuple) else type(pixels).__name__
        raise ValueError(f"view_pixels: expected {n} grey levels, got {got}")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in pixels):
        raise ValueError("view_pixels: every value must be a number")
    try:
        values = torch.tensor([float(v) for v in pixels], dtype=torch.float64)
    except OverflowError:  # an integer of hundreds of digits
        values = torch.full((n,), math.inf, dtype=torch.float64)
    if (
        not bool(torch.isfinite(values).all())
        or bool((values < 0).any())
        or bool((values > DRAWN_LEVELS).any())
    ):
        raise ValueError(f"view_pixels: every value must be in [0, {DRAWN_LEVELS}]")
    return (values / DRAWN_LEVELS).float().reshape(1, 1, DRAWN_SIZE, DRAWN_SIZE)


def class_names(dataset: str, classes: int) -> list[str]:
    if dataset == "digits":
        return [str(d) for d in range(10)]
    return list(SHAPES[:classes])


def image_info(dataset: str, classes: int) -> DatasetInfo:
    """The dataset as the trainers' DatasetInfo (dims 0: no 2-D input square)."""
    entry = IMAGE_DATASETS[dataset]
    return DatasetInfo(
        entry.key, entry.label, entry.help, task="multiclass", classes=classes, dims=0
    )


def make_image_data(
    dataset: str,
    size: int,
    classes: int,
    samples: int,
    noise: float,
    train_fraction: float,
    val_fraction: float,
    seed: int,
) -> Data:
    """Generate (or load), shuffle and split an image dataset, like make_data for points."""
    entry = IMAGE_DATASETS[dataset]
    g = torch.Generator().manual_seed(seed)
    n_train, n_val, n_test = split_sizes(samples, train_fraction, val_fraction)
    if dataset == "digits":
        images, labels = digits()
        order = torch.randperm(len(images), generator=g)
        images, labels = images[order], labels[order]
    elif entry.shifted_test:
        # Smaller shapes, so that a shifted one stays inside the frame.
        near, near_y = shapes(n_train + n_val, size, classes, noise, 0, g, SHIFTED_SCALE)
        far, far_y = shapes(n_test, size, classes, noise, size // 4, g, SHIFTED_SCALE)
        order = torch.randperm(n_train + n_val, generator=g)
        images, labels = torch.cat([near[order], far]), torch.cat([near_y[order], far_y])
    else:
        images, labels = shapes(samples, size, classes, noise, size // 6, g)
        order = torch.randperm(samples, generator=g)
        images, labels = images[order], labels[order]
    bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, samples)]

    def take(lo: int, hi: int) -> Split:
        x = images[lo:hi].float().contiguous()
        return Split(x, x, labels[lo:hi].float())

    train, val, test = (take(lo, hi) for lo, hi in bounds)
    return Data(image_info(dataset, classes), (), train, val, test)
