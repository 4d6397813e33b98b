"""Evaluation of stacked members in one pass: the numbers `metrics.evaluate` (+ symmetry)
gives for each member alone, computed for all rows together and read back with one tolist()."""

from __future__ import annotations

from typing import Any

import torch

from app.nn.choices.layers import ACTIVATIONS
from app.nn.choices.losses import LossFn as StackedLoss
from app.nn.compare.stacked.network import StackedMLP
from app.nn.data.points import Split
from app.nn.measure.activity import DEAD_EPS

Tensor = torch.Tensor


def stacked_symmetry(w: Tensor) -> Tensor:
    """`metrics.symmetry` for each row of (K, out, in) weights -> (K,)."""
    rows = w.detach().float()
    k, n = rows.shape[0], rows.shape[1]
    if n < 2:
        return torch.ones(k)
    norms = rows.norm(dim=2, keepdim=True)
    unit = torch.where(norms > 0, rows / norms.clamp_min(1e-30), torch.zeros_like(rows))
    cos = unit @ unit.transpose(1, 2)
    both_zero = (norms <= 0) & (norms <= 0).transpose(1, 2)
    cos = torch.where(both_zero, torch.ones_like(cos), cos)
    off = cos.sum((1, 2)) - cos.diagonal(dim1=1, dim2=2).sum(1)
    return off / (n * (n - 1))


def _scores(out: Tensor, y: Tensor, task: str) -> dict[str, Tensor]:
    if task == "regression":
        sse = (out[..., 0] - y).square().sum(1)
        sst = float((y - y.mean()).square().sum())
        r2 = 1 - sse / sst if sst > 0 else torch.zeros_like(sse)
        return {"r2": r2, "rmse": (sse / len(y)).sqrt()}
    right = (out[..., 0] > 0) == (y > 0.5) if task == "binary" else out.argmax(2) == y.long()
    return {"acc": right.float().mean(1)}


def _health(net: StackedMLP, acts: list[Tensor]) -> dict[str, list[Tensor]]:
    out: dict[str, list[Tensor]] = {"dead": [], "saturated": [], "act_mean": [], "act_std": []}
    for layer, a in zip(net.spec.layers, acts, strict=True):
        k = a.shape[0]
        out["dead"].append((a.abs().amax(1) <= DEAD_EPS).float().mean(1))
        saturated = ACTIVATIONS[layer.activation].saturated
        out["saturated"].append(saturated(a).float().mean((1, 2)) if saturated else torch.zeros(k))
        out["act_mean"].append(a.mean((1, 2)))
        out["act_std"].append(a.reshape(k, -1).std(1, correction=0))
    return out


@torch.no_grad()
def stacked_evaluate(
    net: StackedMLP,
    p: Tensor,
    splits: dict[str, Split],
    task: str,
    loss: StackedLoss,
    smoothing: float,
    delta: float,
) -> list[dict[str, Any]]:
    """One dict per row, shaped like `metrics.evaluate` with layers.symmetry added."""
    p = p.detach()
    columns: list[Tensor] = []  # each (K,), read back together
    layout: list[tuple[str, str, int]] = []  # (section, key, layer index or -1)
    for name, split in splits.items():
        if len(split) == 0:
            continue
        acts, out = net.trace(p, split.x)
        if name == "train":
            health = _health(net, acts)
            weights = net.weights(p)[:-1]
            health["symmetry"] = [stacked_symmetry(w) for w in weights]
            for key, values in health.items():
                for j, v in enumerate(values):
                    columns.append(v)
                    layout.append(("layers", key, j))
        columns.append(loss(out, split.y, smoothing, delta))
        layout.append((name, "loss", -1))
        for key, v in _scores(out, split.y, task).items():
            columns.append(v)
            layout.append((name, key, -1))
    table = torch.stack(columns, 1).tolist() if columns else [[] for _ in range(p.shape[0])]
    results = []
    for row in table:
        res: dict[str, Any] = {
            "layers": {k: [] for k in ("dead", "saturated", "act_mean", "act_std", "symmetry")},
            **{name: None for name in splits},
        }
        for (section, key, _), value in zip(layout, row, strict=True):
            if section == "layers":
                res["layers"][key].append(value)
            else:
                res[section] = res[section] or {}
                res[section][key] = value
        results.append(res)
    return results
