"""The explorer's steps: one per click, each with its chain-rule lines in actual numbers.

Built from the engine's numbers (app/nn/explain); this module only words them. A step names
what the diagram highlights (nodes as [layer, unit], edges as [layer, unit, input]; layer 0
is the input) and carries the full-precision values the page shows rounded.
"""

from __future__ import annotations

from typing import Any

import torch

from app.nn.explain import Explained

Step = dict[str, Any]
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def n(v: float | torch.Tensor) -> str:
    """A number as the page prints it: 4 significant digits, negatives in parentheses."""
    x = float(v)
    s = f"{x:.4g}"
    return f"({s})" if x < 0 else s


def sub(i: int) -> str:
    return str(i).translate(SUB)


def unit_name(layer: int, unit: int, last: int) -> str:
    if layer == 0:
        return f"x{sub(unit + 1)}"
    return f"out{sub(unit + 1)}" if layer == last else f"h{sub(layer)}{sub(unit + 1)}"


def forward_steps(e: Explained, act: str) -> list[Step]:
    last = len(e.weights)
    inputs = [e.x, *e.now.a[:-1]]
    steps = []
    for layer in range(1, last + 1):
        w, b = e.weights[layer - 1], e.biases[layer - 1]
        z, a, prev = e.now.z[layer - 1], e.now.a[layer - 1], inputs[layer - 1]
        lines, values = [], {}
        for j in range(w.shape[0]):
            name = unit_name(layer, j, last)
            for r in range(z.shape[0]):
                terms = " + ".join(f"{n(w[j, i])} × {n(prev[r, i])}" for i in range(w.shape[1]))
                tag = f"[{r + 1}]" if z.shape[0] > 1 else ""
                lines.append(f"z({name}){tag} = {terms} + {n(b[j])} = {n(z[r, j])}")
                values[f"z.{layer}.{j}.{r}"] = float(z[r, j])
                if layer < last:
                    lines.append(f"a({name}){tag} = {act}({n(z[r, j])}) = {n(a[r, j])}")
                    values[f"a.{layer}.{j}.{r}"] = float(a[r, j])
        title = "Forward: output layer" if layer == last else f"Forward: hidden layer {layer}"
        steps.append(
            {
                "kind": "forward",
                "title": title,
                "lines": lines,
                "values": values,
                "nodes": [[layer, j] for j in range(w.shape[0])],
                "edges": [[layer, j, i] for j in range(w.shape[0]) for i in range(w.shape[1])],
            }
        )
    return steps


def loss_step(e: Explained) -> Step:
    last = len(e.weights)
    out, d_out = e.now.z[-1], e.now.d_z[-1]
    lines = [f"targets y = {', '.join(n(v) for v in e.y)}", f"L ({e.loss_name}) = {n(e.now.loss)}"]
    values = {"loss": float(e.now.loss)}
    for j in range(out.shape[1]):
        for r in range(out.shape[0]):
            tag = f"[{r + 1}]" if out.shape[0] > 1 else ""
            lines.append(f"dL/dz(out{sub(j + 1)}){tag} = {e.loss_formula} = {n(d_out[r, j])}")
            values[f"dz.{last}.{j}.{r}"] = float(d_out[r, j])
    return {
        "kind": "loss",
        "title": "The loss, and where the backward pass starts",
        "lines": lines,
        "values": values,
        "nodes": [[last, j] for j in range(out.shape[1])],
        "edges": [],
    }


def node_step(e: Explained, layer: int, j: int, act: str) -> Step:
    """dL/da, da/dz and dL/dz of one hidden unit (the output's dL/dz is the loss step's)."""
    last = len(e.weights)
    name = unit_name(layer, j, last)
    nxt_w, nxt_dz = e.weights[layer], e.now.d_z[layer]
    da, slope, dz = e.now.d_a[layer - 1], e.now.slope[layer - 1], e.now.d_z[layer - 1]
    lines: list[str] = []
    values: dict[str, float] = {}
    for r in range(da.shape[0]):
        tag = f"[{r + 1}]" if da.shape[0] > 1 else ""
        terms = " + ".join(f"{n(nxt_dz[r, k])} × {n(nxt_w[k, j])}" for k in range(nxt_w.shape[0]))
        lines.append(f"dL/da({name}){tag} = Σ dL/dz(next) × w = {terms} = {n(da[r, j])}")
        lines.append(
            f"da/dz({name}){tag} = {act}′({n(e.now.z[layer - 1][r, j])}) = {n(slope[r, j])}"
        )
        lines.append(f"dL/dz({name}){tag} = {n(da[r, j])} × {n(slope[r, j])} = {n(dz[r, j])}")
        values |= {
            f"da.{layer}.{j}.{r}": float(da[r, j]),
            f"slope.{layer}.{j}.{r}": float(slope[r, j]),
            f"dz.{layer}.{j}.{r}": float(dz[r, j]),
        }
    return {
        "kind": "node",
        "title": f"Backward: unit {name}",
        "lines": lines,
        "values": values,
        "nodes": [[layer, j]],
        "edges": [[layer + 1, k, j] for k in range(nxt_w.shape[0])],
    }


def edge_step(e: Explained, layer: int, j: int, i: int) -> Step:
    last = len(e.weights)
    prev = [e.x, *e.now.a[:-1]][layer - 1]
    dz, dw = e.now.d_z[layer - 1], e.now.d_w[layer - 1]
    terms = " + ".join(f"{n(dz[r, j])} × {n(prev[r, i])}" for r in range(dz.shape[0]))
    src, dst = unit_name(layer - 1, i, last), unit_name(layer, j, last)
    return {
        "kind": "edge",
        "title": f"Backward: weight {src} → {dst}",
        "lines": [f"dL/dW({src}→{dst}) = Σ dL/dz({dst}) × a({src}) = {terms} = {n(dw[j, i])}"],
        "values": {f"dw.{layer}.{j}.{i}": float(dw[j, i])},
        "nodes": [[layer, j], [layer - 1, i]],
        "edges": [[layer, j, i]],
    }


def bias_step(e: Explained, layer: int, j: int) -> Step:
    name = unit_name(layer, j, len(e.weights))
    dz, db = e.now.d_z[layer - 1], e.now.d_b[layer - 1]
    terms = " + ".join(n(dz[r, j]) for r in range(dz.shape[0]))
    return {
        "kind": "bias",
        "title": f"Backward: bias of {name}",
        "lines": [f"dL/db({name}) = Σ dL/dz({name}) = {terms} = {n(db[j])}"],
        "values": {f"db.{layer}.{j}": float(db[j])},
        "nodes": [[layer, j]],
        "edges": [],
    }


def update_step(e: Explained, formulas: list[str]) -> Step:
    lines = [*formulas, f"step t = {e.t}, lr = {n(e.spec.lr)}"]
    lines += [f"{k} = {n(v)}" for k, v in e.scalars.items()]
    values = {}
    names = [f"{kind}{sub(layer + 1)}" for layer in range(len(e.weights)) for kind in "Wb"]
    params = [q for pair in zip(e.weights, e.biases, strict=True) for q in pair]
    for name, p, d in zip(names, params, e.deltas, strict=True):
        flat_p, flat_d = p.reshape(-1), d.reshape(-1)
        shown = ", ".join(f"{n(a)}→{n(a + b)}" for a, b in zip(flat_p, flat_d, strict=True))
        lines.append(f"{name}: {shown}")
        for k, v in enumerate(flat_d):
            values[f"delta.{name}.{k}"] = float(v)
    return {
        "kind": "update",
        "title": f"Update ({e.spec.optimizer}): w ← w + Δw",
        "lines": lines,
        "values": values,
        "nodes": [],
        "edges": [
            [layer + 1, j, i]
            for layer, w in enumerate(e.weights)
            for j in range(w.shape[0])
            for i in range(w.shape[1])
        ],
    }


def all_steps(e: Explained, act: str, formulas: list[str]) -> list[Step]:
    """Forward layer by layer, the loss, then backward from the output: each unit's dL/dz,
    then each incoming edge's dL/dW and the unit's bias, then the update."""
    steps = forward_steps(e, act)
    steps.append(loss_step(e))
    last = len(e.weights)
    for layer in range(last, 0, -1):
        w = e.weights[layer - 1]
        for j in range(w.shape[0]):
            if layer < last:
                steps.append(node_step(e, layer, j, act))
            steps += [edge_step(e, layer, j, i) for i in range(w.shape[1])]
            steps.append(bias_step(e, layer, j))
    steps.append(update_step(e, formulas))
    return steps
