"""What the engine measures: split losses and scores, per-layer activation health, the
decision-boundary grid and per-neuron pictures. Evaluation runs in eval mode without grad."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from app.nn.choices.losses import LossFn, correct, predict
from app.nn.data.points import Split, featurize, grid_points
from app.nn.measure.activity import dead_fraction, saturated_fraction
from app.nn.models.mlp import Network

Tensor = torch.Tensor


def tensor_norms(tensors: list[Tensor]) -> list[float]:
    """L2 norms of many tensors in one fused call (per-op overhead dominates tiny nets)."""
    if not tensors:
        return []
    return torch.stack(torch._foreach_norm(tensors)).tolist()


class StepMeter:
    """Per-optimizer-step measurements in a handful of torch calls.

    Call `before_step` after backward and before clipping / decay / the optimizer step,
    then `after_step`; both under torch.no_grad(). The update norm is the real change
    of the weights across everything in between (decay, clipping, the optimizer's rule),
    not lr·grad. Per-op overhead dominates tiny nets, hence foreach ops, reused buffers
    and one tolist() for every scalar."""

    def __init__(
        self, weights: Sequence[Tensor], biases: Sequence[Tensor], extras: Sequence[Tensor]
    ) -> None:
        self.weights = list(weights)
        self.params = [*weights, *biases, *extras]  # grad norms: weights, biases, then extras
        self._before = [torch.empty_like(w, requires_grad=False) for w in weights]
        self._pending: list[Tensor] = []

    def before_step(self, loss: Tensor) -> None:
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        self._pending = [loss, *torch._foreach_norm(grads)]
        torch._foreach_copy_(self._before, self.weights)

    def after_step(self) -> tuple[float, dict[str, Any]]:
        """(batch loss, {grad_norm, grad_w, grad_b, update_ratio, weight_norm})."""
        torch._foreach_sub_(self._before, self.weights)  # minus the change: same norm
        norms = torch._foreach_norm(self._before + self.weights)
        flat: list[float] = torch.stack([*self._pending, *norms]).tolist()
        nl, npar = len(self.weights), len(self.params)
        upd, wn = flat[1 + npar : 1 + npar + nl], flat[1 + npar + nl :]
        return flat[0], {
            "grad_norm": math.sqrt(sum(g * g for g in flat[1 : 1 + npar])),
            "grad_w": flat[1 : 1 + nl],
            "grad_b": flat[1 + nl : 1 + 2 * nl],
            "update_ratio": [u / w if w > 0 else 0.0 for u, w in zip(upd, wn, strict=True)],
            "weight_norm": wn,
        }


def split_scores(out: Tensor, y: Tensor, loss: float, task: str) -> dict[str, float]:
    """Loss plus accuracy (classification) or R² and RMSE (regression)."""
    if task == "regression":
        pred = out[:, 0]
        sse = float(((pred - y) ** 2).sum())
        sst = float(((y - y.mean()) ** 2).sum())
        return {
            "loss": loss,
            "r2": 1 - sse / sst if sst > 0 else 0.0,
            "rmse": math.sqrt(sse / len(y)),
        }
    return {"loss": loss, "acc": float(correct(out, y, task).float().mean())}


def final_scores(ev: dict[str, Any], task: str) -> dict[str, float | None]:
    """The flat "final" summary of an evaluation: <split>_loss plus <split>_acc, or
    <split>_r2 and <split>_rmse for regression; None for an empty split."""
    keys = ("r2", "rmse") if task == "regression" else ("acc",)
    final: dict[str, float | None] = {}
    for split in ("train", "val", "test"):
        scores = ev[split]
        final[f"{split}_loss"] = scores["loss"] if scores else None
        for key in keys:
            final[f"{split}_{key}"] = scores[key] if scores else None
    return final


def layer_health(net: Network, acts: list[Tensor]) -> dict[str, list[float]]:
    """Dead-unit and saturation fractions, activation mean and std, per hidden layer."""
    dead, sat, mean, std = [], [], [], []
    for layer, a in zip(net.layer_specs, acts, strict=True):
        dead.append(dead_fraction(a))
        sat.append(saturated_fraction(a, layer.activation))
        mean.append(float(a.mean()))
        std.append(float(a.std(unbiased=False)))
    return {"dead": dead, "saturated": sat, "act_mean": mean, "act_std": std}


@torch.no_grad()
def evaluate(
    net: Network,
    splits: dict[str, Split],
    task: str,
    loss_fn: LossFn,
    smoothing: float,
    delta: float,
) -> dict[str, Any]:
    """Scores for each non-empty split (None for empty ones) and train-set layer health."""
    was_training = net.training
    net.eval()
    result: dict[str, Any] = {}
    for name, split in splits.items():
        if len(split) == 0:
            result[name] = None
            continue
        if name == "train":
            acts, out = net.forward_trace(split.x)
            result["layers"] = layer_health(net, acts)
        else:
            out = net(split.x)
        loss = float(loss_fn(out, split.y, smoothing, delta))
        result[name] = split_scores(out, split.y, loss, task)
    net.train(was_training)
    return result


def _rounded(t: Tensor, digits: int = 4) -> list[float]:
    scale = 10**digits
    return (torch.round(t.float() * scale) / scale).reshape(-1).tolist()


@torch.no_grad()
def grid_picture(net: Network, features: tuple[str, ...], task: str, size: int) -> dict[str, Any]:
    """The model over a size x size grid of the data square (row-major, y slowest).

    Binary: P(class 1); multi-class: the predicted class and its probability;
    regression: the predicted value."""
    was_training = net.training
    net.eval()
    pred = predict(net(featurize(grid_points(size), features)), task)
    net.train(was_training)
    if task == "multiclass":
        conf, cls = pred.max(1)
        return {"size": size, "values": cls.tolist(), "confidence": _rounded(conf, 3)}
    return {"size": size, "values": _rounded(pred)}


@torch.no_grad()
def neuron_pictures(net: Network, features: tuple[str, ...], size: int) -> list[list[list[float]]]:
    """Each hidden unit's activation over a coarse grid: [layer][unit] -> size*size values."""
    was_training = net.training
    net.eval()
    acts, _ = net.forward_trace(featurize(grid_points(size), features))
    net.train(was_training)
    return [[_rounded(a[:, j], 3) for j in range(a.shape[1])] for a in acts]


def weight_lists(net: Network) -> dict[str, list[Any]]:
    """Weights (out x in) and biases of every Linear, for the network diagram."""
    return {
        "weights": [[_rounded(row) for row in lin.weight.detach()] for lin in net.linears()],
        "biases": [_rounded(lin.bias.detach()) for lin in net.linears()],
    }


def symmetry(weight: Tensor) -> float:
    """Mean pairwise cosine similarity of a layer's incoming weight vectors (rows).

    1.0 when every unit is identical (zero or constant init); ~0 for a random init.
    Zero rows count as identical to each other."""
    rows = weight.detach().float().flatten(1)  # a conv's filters as rows too
    n = rows.shape[0]
    if n < 2:
        return 1.0
    norms = rows.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, rows / norms.clamp_min(1e-30), torch.zeros_like(rows))
    cos = unit @ unit.T
    both_zero = (norms <= 0) & (norms.T <= 0)
    cos = torch.where(both_zero, torch.ones_like(cos), cos)
    off = cos.sum() - cos.diagonal().sum()
    return float(off / (n * (n - 1)))
