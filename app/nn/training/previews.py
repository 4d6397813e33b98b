"""Plain-list samples of each dataset for the picker thumbnails (no tensors leave the engine)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.nn.data.points import DATASETS, generate_points
from app.nn.spec.experiment import Spec
from app.nn.training.trainer import build_data


@lru_cache(maxsize=64)
def preview_points(
    dataset: str, n: int = 160, noise: float = 0.0
) -> list[tuple[float, float, float]]:
    """(x1, x2, label) rows; for 1-D data x2 is the target so the curve shows."""
    raw, y = generate_points(dataset, n, noise, seed=7)
    rows = [
        (float(a), float(b), float(t)) for (a, b), t in zip(raw.tolist(), y.tolist(), strict=True)
    ]
    if DATASETS[dataset].dims == 1:
        rows = [(a, t * 4, t) for a, _, t in rows]
    return rows


def split_points(spec: Spec) -> dict[str, Any]:
    """The experiment's data as plain lists per split, for drawing before training starts."""
    data = build_data(spec)
    return {
        "task": data.info.task,
        "classes": data.info.classes,
        "dims": data.info.dims,
        "points": {k: {"x": s.raw.tolist(), "y": s.y.tolist()} for k, s in data.splits().items()},
    }
