"""Tiny SVG scatter thumbnails of each dataset for the picker (cached, no JavaScript)."""

from __future__ import annotations

from functools import lru_cache

from app.nn.data.points import DATASETS, DOMAIN
from app.nn.training.previews import preview_points

CLASS_COLOURS = (
    "#f59322",
    "#0877bd",
    "#2ca02c",
    "#9467bd",
    "#d62728",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
)


def _colour(label: float, task: str) -> str:
    if task == "regression":
        t = max(-1.0, min(1.0, label))
        return CLASS_COLOURS[1] if t >= 0 else CLASS_COLOURS[0]
    return CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]


@lru_cache(maxsize=64)
def dataset_svg(dataset: str, size: int = 44) -> str:
    info = DATASETS[dataset]
    lo, hi = DOMAIN
    scale = size / (hi - lo)
    dots = []
    for x, y, label in preview_points(dataset):
        cx, cy = (x - lo) * scale, size - (y - lo) * scale
        opacity = 0.35 + 0.65 * min(1.0, abs(label)) if info.task == "regression" else 0.9
        dots.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="1.3" fill="{_colour(label, info.task)}"'
            f' fill-opacity="{opacity:.2f}"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" '
        f'height="{size}"><rect width="100%" height="100%" fill="#f7f7f7"/>{"".join(dots)}</svg>'
    )
