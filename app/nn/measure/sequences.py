"""What the engine measures of a recurrent net: split scores (in chunks: whole splits of
long sequences do not fit one pass), the health of each layer's hidden states, the gradient
of the loss with respect to each hidden state h_t, and the live pictures of one sequence.

Pictures travel as one byte per value (app.nn.measure.pictures' layout: value = lo + q *
(hi - lo) / 255, base64, row-major). A units x time picture has at most `MAX_UNITS` rows
and `MAX_COLUMNS` time columns (evenly spaced steps, the last one always among them).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from app.nn.choices.layers import ACTIVATIONS
from app.nn.choices.losses import LossFn, predict
from app.nn.data.sequences import SeqSplit
from app.nn.measure.activity import DEAD_EPS
from app.nn.measure.metrics import split_scores
from app.nn.measure.pictures import _quantise
from app.nn.models.rnn import SeqNet, head_over_time, unroll

Tensor = torch.Tensor
EVAL_CHUNK = 256  # sequences per evaluation pass
PROBE_SEQUENCES = 64  # sequences the ||dL/dh_t|| curve averages over
MAX_UNITS = 64
MAX_COLUMNS = 100


def _chunks(split: SeqSplit) -> list[tuple[Tensor, Tensor]]:
    return list(zip(split.x.split(EVAL_CHUNK), split.y.split(EVAL_CHUNK), strict=True))


@torch.no_grad()
def evaluate_seq(
    net: SeqNet,
    splits: dict[str, SeqSplit],
    task: str,
    loss_fn: LossFn,
    smoothing: float,
    delta: float,
) -> dict[str, Any]:
    """Scores for each non-empty split (None for empty ones) and, on the training split,
    each recurrent layer's hidden-state health (dead / saturated units, mean, std)."""
    was_training = net.training
    net.eval()
    result: dict[str, Any] = {}
    for name, split in splits.items():
        if len(split) == 0:
            result[name] = None
            continue
        outs, stats = [], []
        for xb, _ in _chunks(split):
            states = net.states(xb)
            outs.append(net.head(states[-1][:, -1]))
            if name == "train":
                stats.append(states)
        out = torch.cat(outs)
        loss = float(loss_fn(out, split.y, smoothing, delta))
        result[name] = split_scores(out, split.y, loss, task)
        if name == "train":
            result["layers"] = _health(net, [torch.cat(s) for s in zip(*stats, strict=True)])
    net.train(was_training)
    return result


def _health(net: SeqNet, states: list[Tensor]) -> dict[str, list[float]]:
    dead, sat, mean, std = [], [], [], []
    bounded = net.cell.key != "rnn_relu" and not isinstance(net.norms[0], torch.nn.LayerNorm)
    saturated = ACTIVATIONS["tanh"].saturated
    for s in states:
        flat = s.reshape(-1, s.shape[-1])
        dead.append(float((flat.abs().amax(0) <= DEAD_EPS).float().mean()))
        sat.append(float(saturated(flat).float().mean()) if bounded and saturated else 0.0)
        mean.append(float(flat.mean()))
        std.append(float(flat.std(unbiased=False)))
    return {"dead": dead, "saturated": sat, "act_mean": mean, "act_std": std}


def time_grads(
    net: SeqNet, x: Tensor, y: Tensor, loss_fn: LossFn, smoothing: float, delta: float
) -> Tensor:
    """||dl/dh_t|| for t = 1..T of the top layer, averaged over the sequences of x: l is a
    sequence's own loss, and the gradient counts every path from h_t to it (through the
    head and through h_{t+1}, ...). Eval mode; the parameters' .grad stay untouched."""
    was_training = net.training
    net.eval()
    try:
        with torch.enable_grad():
            run = unroll(net, x)
            loss = loss_fn(run.out, y, smoothing, delta)
            grads = torch.autograd.grad(loss, run.hs, allow_unused=True)
    finally:
        net.train(was_training)
    # The batch loss is a mean: each sequence's own gradient is len(x) times its share.
    rows = [g.norm(dim=1) * len(x) if g is not None else torch.zeros(len(x)) for g in grads]
    return torch.stack(rows, 1).mean(0)


def columns(steps: int) -> Tensor:
    """The time steps a picture shows: all of them, or MAX_COLUMNS evenly spaced."""
    if steps <= MAX_COLUMNS:
        return torch.arange(steps)
    return torch.linspace(0, steps - 1, MAX_COLUMNS).round().long()


def _picture(values: Tensor, lo: float, hi: float) -> dict[str, Any]:
    """(T, H) values as a units x time picture of bytes."""
    rows = values[:, :MAX_UNITS].T.contiguous()
    return {"lo": lo, "hi": hi, "q": _quantise(rows.reshape(-1), lo, hi)}


def _digits(values: Tensor, digits: int = 4) -> list[float | None]:
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in values.tolist()]


def sequence_view(
    net: SeqNet,
    split: SeqSplit,
    index: int,
    running: Tensor,
    probe: SeqSplit,
    task: str,
    loss_fn: LossFn,
    smoothing: float,
    delta: float,
) -> dict[str, Any]:
    """The live views of one sequence: hidden states and gates (units x time pictures),
    the head's answer at every step against the running target, and ||dL/dh_t||."""
    x, y = split.x[index : index + 1], split.y[index : index + 1]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        run = unroll(net, x)
        over_time = head_over_time(net, run.hs)[0]  # (T, C)
    net.train(was_training)
    steps = x.shape[1]
    cols = columns(steps)
    hs = torch.stack(run.hs, 1)[0]  # (T, H)
    if net.cell.key == "rnn_relu":
        top = max(float(hs.abs().max()) if hs.numel() else 1.0, 1e-6)
        lo, hi = -top, top
    else:
        lo, hi = -1.0, 1.0
    pred = predict(over_time, task)
    if task == "multiclass":  # the probability given to the right token
        pred = pred[:, int(y[0])]
    grad_t = time_grads(net, probe.x, probe.y, loss_fn, smoothing, delta)
    return {
        "index": index,
        "length": steps,
        "units": min(net.hidden, MAX_UNITS),
        "hidden_units": net.hidden,
        "columns": cols.tolist(),
        "hidden": _picture(hs[cols], lo, hi),
        "gates": {name: _picture(g[0][cols], 0.0, 1.0) for name, g in run.gates.items()},
        "prediction": _digits(pred),
        "target": _digits(running[0]),
        "final_target": float(y[0]),
        "grad_t": _digits(grad_t),
    }
