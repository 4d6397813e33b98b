"""Toy datasets (seeded, with noise) and input-feature transforms, one registry each.

Coordinates live in the square [-6, 6]^2 (the decision-boundary grid covers it). Binary
labels are 0/1, multi-class labels 0..K-1, regression targets roughly in [-1, 1].
Several generators follow TensorFlow Playground's definitions so its links import faithfully.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

from app.nn.choices.registry import Entry, Registry

DOMAIN = (-6.0, 6.0)
Tensor = torch.Tensor
Generator = Callable[[int, float, torch.Generator], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class DatasetInfo(Entry):
    task: str = "binary"  # binary | multiclass | regression
    classes: int = 2  # output classes (1 for regression)
    dims: int = 2  # 1 for the 1-D sine: only x1 varies
    gen: Generator | None = None


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> Tensor:
    return torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo) + lo


def _circle(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    radius = 5.0
    half = n // 2
    r = torch.cat([_uniform(half, 0, radius * 0.5, g), _uniform(n - half, radius * 0.7, radius, g)])
    angle = _uniform(n, 0, 2 * math.pi, g)
    x, y = r * torch.sin(angle), r * torch.cos(angle)
    nx, ny = _uniform(n, -radius, radius, g) * noise, _uniform(n, -radius, radius, g) * noise
    label = (torch.hypot(x + nx, y + ny) < radius * 0.5).double()
    return torch.stack([x, y], 1), label


def _xor(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    padding = 0.3
    x, y = _uniform(n, -5, 5, g), _uniform(n, -5, 5, g)
    x = x + torch.where(x > 0, padding, -padding)
    y = y + torch.where(y > 0, padding, -padding)
    nx, ny = _uniform(n, -5, 5, g) * noise, _uniform(n, -5, 5, g) * noise
    label = ((x + nx) * (y + ny) >= 0).double()
    return torch.stack([x, y], 1), label


def _gauss(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    variance = 0.5 + noise * 7.0  # TFP: linear([0, .5] -> [.5, 4]), unclamped beyond 0.5
    std = math.sqrt(variance)
    half = n // 2
    centres = torch.tensor([[2.0, 2.0]] * half + [[-2.0, -2.0]] * (n - half), dtype=torch.float64)
    pts = centres + torch.randn(n, 2, generator=g, dtype=torch.float64) * std
    label = torch.cat([torch.ones(half), torch.zeros(n - half)]).double()
    return pts, label


def _spiral_arms(n: int, noise: float, g: torch.Generator, arms: int) -> tuple[Tensor, Tensor]:
    counts = [n // arms + (1 if k < n % arms else 0) for k in range(arms)]
    pts, labels = [], []
    for k, m in enumerate(counts):
        i = torch.arange(m, dtype=torch.float64)
        r = i / m * 5
        t = 1.75 * i / m * 2 * math.pi + k * 2 * math.pi / arms
        x = r * torch.sin(t) + _uniform(m, -1, 1, g) * noise
        y = r * torch.cos(t) + _uniform(m, -1, 1, g) * noise
        pts.append(torch.stack([x, y], 1))
        # Two arms: TF Playground's first arm is the positive class.
        labels.append(torch.full((m,), float(1 - k if arms == 2 else k), dtype=torch.float64))
    return torch.cat(pts), torch.cat(labels)


def _spiral(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    return _spiral_arms(n, noise, g, 2)


def _spiral3(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    return _spiral_arms(n, noise, g, 3)


def _moons(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    half = n // 2
    t1, t2 = _uniform(half, 0, math.pi, g), _uniform(n - half, 0, math.pi, g)
    upper = torch.stack([torch.cos(t1), torch.sin(t1)], 1)
    lower = torch.stack([1 - torch.cos(t2), 0.5 - torch.sin(t2)], 1)
    pts = (torch.cat([upper, lower]) - torch.tensor([0.5, 0.25], dtype=torch.float64)) * 3.5
    pts = pts + torch.randn(n, 2, generator=g, dtype=torch.float64) * noise * 2
    label = torch.cat([torch.ones(half), torch.zeros(n - half)]).double()
    return pts, label


def _checkerboard(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    x, y = _uniform(n, -5, 5, g), _uniform(n, -5, 5, g)
    nx, ny = _uniform(n, -2.5, 2.5, g) * noise, _uniform(n, -2.5, 2.5, g) * noise
    cells = torch.floor((x + nx) / 2.5) + torch.floor((y + ny) / 2.5)
    return torch.stack([x, y], 1), torch.remainder(cells, 2).double()


def _blobs(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    k = 3
    label = torch.arange(n, dtype=torch.float64) % k
    angle = label * 2 * math.pi / k + math.pi / 2
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * 3.5
    pts = centres + torch.randn(n, 2, generator=g, dtype=torch.float64) * (0.6 + noise * 2.5)
    return pts, label


def _reg_plane(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    radius = 6.0
    x, y = _uniform(n, -radius, radius, g), _uniform(n, -radius, radius, g)
    nx, ny = _uniform(n, -radius, radius, g) * noise, _uniform(n, -radius, radius, g) * noise
    # TFP: linear([-10, 10] -> [-1, 1]), not clamped: up to ±1.2 without noise.
    return torch.stack([x, y], 1), (x + nx + y + ny) / 10


_GAUSSIANS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _reg_gauss(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    radius = 6.0
    x, y = _uniform(n, -radius, radius, g), _uniform(n, -radius, radius, g)
    nx, ny = _uniform(n, -radius, radius, g) * noise, _uniform(n, -radius, radius, g) * noise
    label = torch.zeros(n, dtype=torch.float64)
    for cx, cy, sign in _GAUSSIANS:
        dist = torch.hypot(x + nx - cx, y + ny - cy)
        value = sign * (1 - dist / 2).clamp(0, 1)
        label = torch.where(value.abs() > label.abs(), value, label)
    return torch.stack([x, y], 1), label


def _sine(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    x = _uniform(n, -6, 6, g)
    y = torch.sin(x) + torch.randn(n, generator=g, dtype=torch.float64) * noise * 0.5
    return torch.stack([x, torch.zeros(n, dtype=torch.float64)], 1), y


def _sine_outliers(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """sin(x1) with a share `noise` of the points lifted by 3 to 5 (one-sided outliers)."""
    x = _uniform(n, -6, 6, g)
    lift = _uniform(n, 3, 5, g) * (torch.rand(n, generator=g, dtype=torch.float64) < noise)
    return torch.stack([x, torch.zeros(n, dtype=torch.float64)], 1), torch.sin(x) + lift


DATASETS: Registry[DatasetInfo] = Registry(
    "dataset",
    [
        DatasetInfo("circle", "Circle", "A disc inside a ring.", gen=_circle),
        DatasetInfo("xor", "XOR", "Quadrants: the label is the sign of x1·x2.", gen=_xor),
        DatasetInfo("gauss", "Two Gaussians", "Two blobs; noise widens them.", gen=_gauss),
        DatasetInfo("spiral", "Spiral", "Two interleaved spiral arms.", gen=_spiral),
        DatasetInfo("moons", "Moons", "Two interleaving half circles.", gen=_moons),
        DatasetInfo("checkerboard", "Checkerboard", "A 4x4 board of cells.", gen=_checkerboard),
        DatasetInfo(
            "blobs",
            "Three blobs",
            "Three Gaussian classes.",
            task="multiclass",
            classes=3,
            gen=_blobs,
        ),
        DatasetInfo(
            "spiral3",
            "Three-arm spiral",
            "Three spiral arms, three classes.",
            task="multiclass",
            classes=3,
            gen=_spiral3,
        ),
        DatasetInfo(
            "plane",
            "Regression plane",
            "Target rises along x1 + x2.",
            task="regression",
            classes=1,
            gen=_reg_plane,
        ),
        DatasetInfo(
            "multigauss",
            "Regression multi-Gaussian",
            "Six bumps of either sign.",
            task="regression",
            classes=1,
            gen=_reg_gauss,
        ),
        DatasetInfo(
            "custom",
            "Custom points",
            "Your own points (CSV upload or drawn): 0/1 labels make a binary task, "
            "integers 0..K-1 (K <= 8) classes, anything else regression.",
            gen=None,  # the points come with the spec (data.points)
        ),
        DatasetInfo(
            "sine",
            "1-D sine",
            "y = sin(x1) on [-6, 6]; x2 is always 0.",
            task="regression",
            classes=1,
            dims=1,
            gen=_sine,
        ),
        DatasetInfo(
            "sine_outliers",
            "1-D sine with outliers",
            "y = sin(x1); a share (the noise) of points is lifted by 3 to 5.",
            task="regression",
            classes=1,
            dims=1,
            gen=_sine_outliers,
        ),
    ],
)


@dataclass(frozen=True)
class FeatureInfo(Entry):
    fn: Callable[[Tensor, Tensor], Tensor] | None = None


FEATURES: Registry[FeatureInfo] = Registry(
    "feature",
    [
        FeatureInfo("x1", "x₁", fn=lambda a, b: a),
        FeatureInfo("x2", "x₂", fn=lambda a, b: b),
        FeatureInfo("x1sq", "x₁²", fn=lambda a, b: a * a),
        FeatureInfo("x2sq", "x₂²", fn=lambda a, b: b * b),
        FeatureInfo("x1x2", "x₁·x₂", fn=lambda a, b: a * b),
        FeatureInfo("sin_x1", "sin x₁", fn=lambda a, b: torch.sin(a)),
        FeatureInfo("sin_x2", "sin x₂", fn=lambda a, b: torch.sin(b)),
        FeatureInfo("cos_x1", "cos x₁", fn=lambda a, b: torch.cos(a)),
        FeatureInfo("cos_x2", "cos x₂", fn=lambda a, b: torch.cos(b)),
    ],
)


def featurize(raw: Tensor, features: list[str] | tuple[str, ...]) -> Tensor:
    """Map raw (N, 2) coordinates to the (N, F) network input."""
    a, b = raw[:, 0], raw[:, 1]
    return torch.stack([FEATURES[f].fn(a, b) for f in features], 1)  # type: ignore[misc]


@dataclass(frozen=True)
class Split:
    raw: Tensor  # (N, 2) float32 coordinates, for plotting and input noise
    x: Tensor  # (N, F) float32 features
    y: Tensor  # (N,) float32 targets (class index for multiclass, as float)

    def __len__(self) -> int:
        return int(self.raw.shape[0])


@dataclass(frozen=True)
class Data:
    info: DatasetInfo
    features: tuple[str, ...]
    train: Split
    val: Split
    test: Split

    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "val": self.val, "test": self.test}


def split_sizes(samples: int, train_fraction: float, val_fraction: float) -> tuple[int, int, int]:
    n_train = max(1, round(samples * train_fraction))
    n_val = min(samples - n_train, round(samples * val_fraction))
    return n_train, n_val, samples - n_train - n_val


CUSTOM = "custom"
MAX_CUSTOM_CLASSES = 8


def infer_task(labels: Sequence[float]) -> tuple[str, int]:
    """(task, classes) of custom points: labels within {0, 1} -> binary; whole numbers
    0..K-1 with 3 <= K <= 8 -> multiclass (K = largest label + 1); anything else regression."""
    values = set(labels)
    if values <= {0.0, 1.0}:
        return "binary", 2
    if all(math.isfinite(v) and v == int(v) and 0 <= v < MAX_CUSTOM_CLASSES for v in values):
        return "multiclass", int(max(values)) + 1
    return "regression", 1


def generate_points(dataset: str, samples: int, noise: float, seed: int) -> tuple[Tensor, Tensor]:
    """The raw points and labels, shuffled, float64 (before the split)."""
    info = DATASETS[dataset]
    g = torch.Generator().manual_seed(seed)
    if info.gen is None:
        raise ValueError(f"the {dataset!r} dataset has no generator: its points come with the spec")
    raw, y = info.gen(samples, noise, g)
    order = torch.randperm(samples, generator=g)
    return raw[order], y[order]


def make_data(
    dataset: str,
    samples: int,
    noise: float,
    train_fraction: float,
    val_fraction: float,
    features: list[str] | tuple[str, ...],
    seed: int,
    points: list[list[float]] | None = None,
) -> Data:
    """Generate, shuffle and split a dataset; `points` ([x1, x2, label] rows) replaces it."""
    info = DATASETS[dataset]
    if points is not None:
        table = torch.tensor(points, dtype=torch.float64)
        task, classes = infer_task(table[:, 2].tolist())
        info = replace(info, task=task, classes=classes)  # the labels decide the head and loss
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(table), generator=g)
        raw, y = table[order, :2], table[order, 2]
        samples = len(table)
    else:
        raw, y = generate_points(dataset, samples, noise, seed)
    n_train, n_val, _ = split_sizes(samples, train_fraction, val_fraction)
    bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, samples)]

    def take(lo: int, hi: int) -> Split:
        r = raw[lo:hi].float()
        return Split(r, featurize(r, features), y[lo:hi].float())

    train, val, test = (take(lo, hi) for lo, hi in bounds)
    return Data(info, tuple(features), train, val, test)


def grid_points(size: int) -> Tensor:
    """A size x size grid over DOMAIN, row-major with y varying slowest, as (size^2, 2)."""
    axis = torch.linspace(DOMAIN[0], DOMAIN[1], size)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
