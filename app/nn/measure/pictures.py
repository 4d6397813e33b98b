"""Compact live pictures of a net: what a run's snapshot carries, sized for the wire.

A browser draws the decision boundary and the per-neuron thumbnails as pixels, so they
travel as pixels: one byte per grid node (uint8, base64 in the JSON). The weights (for the
network diagram's line widths and hover values) travel as little-endian float16. For the
3x16 net of the load test this is ~5 KB per snapshot instead of ~188 KB of float lists.

Layouts (all row-major, y slowest, over the data square [-6, 6]^2):
- grid: {"size", "lo", "hi", "q"}: value = lo + q * (hi - lo) / 255. Binary: P(class 1)
  with lo 0, hi 1; regression: the prediction over [lo, hi] (its finite range); multi-class:
  q = the predicted class, plus "confidence" (uint8, lo 0, hi 1).
- neurons: {"size", "units": [per hidden layer], "q"}: every hidden unit's activation over
  a size x size grid, each unit scaled by its own largest |value| to [-1, 1]
  (q = 128 + 127 * v / max|v|), units in layer order.
- weights: {"shapes": [[out, in]...], "f16"}, biases: {"sizes": [...], "f16"}.
`decode()` turns them back into the plain lists of numbers (for Python consumers).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch
from torch import Tensor

from app.nn.choices.losses import predict
from app.nn.data.points import featurize, grid_points
from app.nn.models.mlp import Network

NEURON_PICTURE_MAX_UNITS = 48  # per-neuron pictures only for small nets

# The boundary view is ~430 CSS px drawn with smoothing; 48 nodes a side look the same as
# 64 and cost 56% of the bytes. Pictures at pause/step/end use the spec's own grid size.
LIVE_GRID = 48


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def _unb64(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def _quantise(values: Tensor, lo: float, hi: float) -> str:
    mid = (lo + hi) / 2
    v = torch.nan_to_num(values.float(), nan=mid, posinf=hi, neginf=lo)
    q = ((v - lo) * (255.0 / max(hi - lo, 1e-12))).round().clamp(0, 255).to(torch.uint8)
    return _b64(q.numpy())


def _finite_range(values: Tensor) -> tuple[float, float]:
    finite = values[torch.isfinite(values)]
    if not finite.numel():
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


@torch.no_grad()
def boundary(net: Network, features: tuple[str, ...], task: str, size: int) -> dict[str, Any]:
    """The model over a size x size grid, one byte per node."""
    was_training = net.training
    net.eval()
    pred = predict(net(featurize(grid_points(size), features)), task)
    net.train(was_training)
    if task == "multiclass":
        conf, cls = pred.max(1)
        return {
            "size": size,
            "lo": 0.0,
            "hi": 255.0,
            "q": _b64(cls.clamp(0, 255).to(torch.uint8).numpy()),
            "confidence": _quantise(conf, 0.0, 1.0),
        }
    values = pred.reshape(-1)
    lo, hi = (0.0, 1.0) if task == "binary" else _finite_range(values)
    return {"size": size, "lo": round(lo, 6), "hi": round(hi, 6), "q": _quantise(values, lo, hi)}


@torch.no_grad()
def neurons(net: Network, features: tuple[str, ...], size: int) -> dict[str, Any]:
    """Each hidden unit's output over a coarse grid, scaled per unit to one byte."""
    was_training = net.training
    net.eval()
    acts, _ = net.forward_trace(featurize(grid_points(size), features))
    net.train(was_training)
    parts = []
    for a in acts:  # [size*size, units]
        a = torch.nan_to_num(a.float(), nan=0.0, posinf=0.0, neginf=0.0)
        span = a.abs().amax(0).clamp_min(1e-6)
        q = (128 + 127 * (a / span)).round().clamp(0, 255).to(torch.uint8)
        parts.append(q.T.contiguous().reshape(-1))  # unit by unit
    flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.uint8)
    return {"size": size, "units": [int(a.shape[1]) for a in acts], "q": _b64(flat.numpy())}


def neuron_size(widest: int) -> int:
    """Thumbnail resolution: the diagram draws a narrow layer's units at ~30 px (TF
    Playground's 10 x 10 pictures), a layer of more than 8 units at ~16 px or less."""
    return 10 if widest <= 8 else 8 if widest <= 12 else 6


def _f16(parts: list[Tensor]) -> str:
    return _b64(torch.cat(parts).numpy().astype("<f2")) if parts else ""


@torch.no_grad()
def weights(net: Network) -> dict[str, Any]:
    """Weights (out x in) and biases of every Linear as little-endian float16."""
    linears = list(net.linears())
    w = [lin.weight.detach().float().reshape(-1) for lin in linears]
    b = [lin.bias.detach().float().reshape(-1) for lin in linears]
    return {
        "weights": {"shapes": [list(lin.weight.shape) for lin in linears], "f16": _f16(w)},
        "biases": {"sizes": [int(lin.bias.shape[0]) for lin in linears], "f16": _f16(b)},
    }


def decode(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with its pictures and weights as plain lists (grid "values", neuron
    "values" [layer][unit][node], "weights" [layer][out][in], "biases" [layer][out])."""
    out = dict(snap)
    grid = snap.get("grid")
    if isinstance(grid, dict) and "q" in grid:
        q = _unb64(grid["q"], "u1").astype(np.float64)
        if "confidence" in grid:
            conf = _unb64(grid["confidence"], "u1") / 255.0
            out["grid"] = {
                "size": grid["size"],
                "values": q.astype(int).tolist(),
                "confidence": conf.tolist(),
            }
        else:
            values = grid["lo"] + q * (grid["hi"] - grid["lo"]) / 255.0
            out["grid"] = {"size": grid["size"], "values": values.tolist()}
    cells = snap.get("neurons")
    if isinstance(cells, dict) and "q" in cells:
        q, n, at, layers = _unb64(cells["q"], "u1"), cells["size"] ** 2, 0, []
        for units in cells["units"]:
            layer = (q[at : at + units * n].astype(np.float64) - 128) / 127
            layers.append(layer.reshape(units, n).tolist())
            at += units * n
        out["neurons"] = {"size": cells["size"], "values": layers}
    w = snap.get("weights")
    if isinstance(w, dict) and "f16" in w:
        flat, at, mats = _unb64(w["f16"], "<f2").astype(np.float64), 0, []
        for rows, cols in w["shapes"]:
            mats.append(flat[at : at + rows * cols].reshape(rows, cols).tolist())
            at += rows * cols
        out["weights"] = mats
    b = snap.get("biases")
    if isinstance(b, dict) and "f16" in b:
        flat, at, vecs = _unb64(b["f16"], "<f2").astype(np.float64), 0, []
        for n in b["sizes"]:
            vecs.append(flat[at : at + n].tolist())
            at += n
        out["biases"] = vecs
    return out


def snapshot(trainer: Any, size: int, with_neurons: bool) -> dict[str, Any]:
    """A run's picture now: boundary at `size`, weights, and neurons (small nets only)."""
    snap: dict[str, Any] = {
        "step": trainer.step,
        "epoch": trainer.epoch,
        "grid": boundary(trainer.model, trainer.data.features, trainer.task, size),
        **weights(trainer.model),
    }
    units = [layer.units for layer in trainer.spec.model.layers]
    if with_neurons and units and sum(units) <= NEURON_PICTURE_MAX_UNITS:
        snap["neurons"] = neurons(trainer.model, trainer.data.features, neuron_size(max(units)))
    return snap
