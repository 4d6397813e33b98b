"""A run's metric history as one flat table (CSV): a row per metrics frame.

Frames carry the latest step record (loss, lr, gradient norms per layer...) and, when an
evaluation happened since the previous frame, its scores per split; columns for per-layer
lists are named after the layers (grad_w_h1, ..., grad_w_out). Empty cell = not measured.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from app.nn.records import OPTIONAL_STEP_FIELDS, PER_LAYER_FIELDS

STEP_COLUMNS = ("step", "epoch", "steps", "loss_mean", "loss", "lr", "grad_norm")
OPTIONAL_COLUMNS = OPTIONAL_STEP_FIELDS
PER_LAYER = PER_LAYER_FIELDS
SPLITS = ("train", "val", "test")


def _score_keys(task: str | None, frames: list[dict[str, Any]]) -> list[str]:
    if task == "regression":
        return ["loss", "r2", "rmse"]
    if task is not None:
        return ["loss", "acc"]
    seen: dict[str, None] = {}
    for frame in frames:
        for split in SPLITS:
            for key in (frame.get("eval") or {}).get(split) or {}:
                seen[key] = None
    return list(seen) or ["loss"]


def layer_names(history: dict[str, Any]) -> list[str]:
    """The start event's layer names (h1, ..., out), as many as the frames' lists."""
    frames: list[dict[str, Any]] = history["metrics"]
    width = max((len(f.get(key) or []) for f in frames for key in PER_LAYER), default=0)
    names = list(history.get("layers") or [])[:width]
    return names + [f"layer{i + 1}" for i in range(len(names), width)]


def columns(history: dict[str, Any]) -> list[str]:
    frames: list[dict[str, Any]] = history["metrics"]
    names = list(STEP_COLUMNS)
    names += [c for c in OPTIONAL_COLUMNS if any(c in f for f in frames)]
    layers = layer_names(history)
    for key in PER_LAYER:
        if any(key in f for f in frames):
            names += [f"{key}_{name}" for name in layers]
    if any("eval" in f for f in frames):
        scores = _score_keys(history.get("task"), frames)
        names += [f"{split}_{key}" for split in SPLITS for key in scores]
    return names


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan"
    return value


def row(frame: dict[str, Any], names: list[str], layers: list[str]) -> list[Any]:
    flat: dict[str, Any] = {k: frame.get(k) for k in (*STEP_COLUMNS, *OPTIONAL_COLUMNS)}
    for key in PER_LAYER:
        for name, value in zip(layers, frame.get(key) or [], strict=False):
            flat[f"{key}_{name}"] = value
    ev = frame.get("eval") or {}
    for split in SPLITS:
        for key, value in (ev.get(split) or {}).items():
            flat[f"{split}_{key}"] = value
    return [_cell(flat.get(name)) for name in names]


def to_csv(history: dict[str, Any]) -> str:
    names, layers = columns(history), layer_names(history)
    frames: list[dict[str, Any]] = history["metrics"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for frame in frames:
        writer.writerow(row(frame, names, layers))
    return out.getvalue()
