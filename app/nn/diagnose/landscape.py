"""Loss landscape around a model's current weights (Li et al. 2018, "Visualizing the Loss
Landscape of Neural Nets"): the training loss along one and two random directions that are
filter-normalised, i.e. each neuron's slice of a direction (a row of a Linear weight) is
rescaled to the norm of that neuron's weights, so the picture does not depend on the scale
of each layer. Biases and normalisation parameters get a zero direction. A trajectory of
weight snapshots is projected onto the same plane by least squares.

Cost is bounded: at most `max_steps`² + `max_steps` forward passes over at most
`max_samples` training points, on a copy of the model (the live model is never touched).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from app.nn.training.trainer import Trainer

Tensor = torch.Tensor
LossFn = Callable[[Tensor, Tensor], Tensor]
MAX_STEPS = 41  # grid points per axis (41² = 1,681 forward passes)
MAX_SAMPLES = 1000
MAX_TRAJECTORY = 200


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def filter_normalized_direction(model: nn.Module, generator: torch.Generator) -> list[Tensor]:
    """A Gaussian direction for each Linear weight with every row rescaled to the norm of the
    same row of the weight (a zero weight row gets a zero direction row)."""
    out = []
    for linear in linears(model):
        w = linear.weight.detach()
        d = torch.randn(w.shape, generator=generator, dtype=w.dtype)
        scale = w.norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
        out.append(d * scale)
    return out


def _axis(span: float, steps: int) -> list[float]:
    """`steps` (odd) evenly spaced values in [-span, span] whose middle one is exactly 0."""
    half = steps // 2
    return [span * (i - half) / half for i in range(steps)]


def _odd(steps: int, cap: int) -> int:
    steps = max(3, min(int(steps), cap))
    return steps if steps % 2 else steps - 1


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _weight_vector(item: Any, model: nn.Module, sizes: list[int]) -> Tensor:
    """A trajectory item as one float64 vector over the Linear weights.

    Accepted: a state_dict-like mapping of parameter names; a snapshot with "weights" (a list
    of out x in nested lists per Linear, like the engine's weight_lists); a flat vector over
    every parameter (model.parameters() order) or over the Linear weights only."""
    if isinstance(item, Mapping) and "weights" in item:
        parts = [torch.as_tensor(w, dtype=torch.float64).reshape(-1) for w in item["weights"]]
        vec = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
    elif isinstance(item, Mapping):
        names = {id(p): n for n, p in model.named_parameters()}
        keys = [names[id(lin.weight)] for lin in linears(model)]
        missing = [k for k in keys if k not in item]
        if missing:
            raise ValueError(f"trajectory snapshot lacks {', '.join(missing)}")
        vec = torch.cat([torch.as_tensor(item[k], dtype=torch.float64).reshape(-1) for k in keys])
    else:
        flat = torch.as_tensor(item, dtype=torch.float64).reshape(-1)
        if len(flat) == sum(p.numel() for p in model.parameters()):
            params = dict(
                zip(
                    (id(p) for p in model.parameters()),
                    flat.split([p.numel() for p in model.parameters()]),
                    strict=True,
                )
            )
            vec = torch.cat([params[id(lin.weight)] for lin in linears(model)])
        else:
            vec = flat
    if len(vec) != sum(sizes):
        raise ValueError(
            f"trajectory item has {len(vec)} weights; the model's Linear layers have {sum(sizes)}"
        )
    return vec


def _even_subsample(items: Sequence[Any], cap: int) -> list[Any]:
    if len(items) <= cap:
        return list(items)
    picks = sorted({round(i * (len(items) - 1) / (cap - 1)) for i in range(cap)})
    return [items[i] for i in picks]


def project_trajectory(
    model: nn.Module,
    directions: tuple[list[Tensor], list[Tensor]],
    trajectory: Sequence[Any],
    max_points: int = MAX_TRAJECTORY,
) -> dict[str, list[Any]]:
    """(alpha, beta) of each snapshot minus the current weights, by least squares onto the
    two directions, plus the share of each move that lies off the plane (0 = on it)."""
    sizes = [lin.weight.numel() for lin in linears(model)]
    centre = torch.cat([lin.weight.detach().double().reshape(-1) for lin in linears(model)])
    basis = torch.stack([torch.cat([d.double().reshape(-1) for d in ds]) for ds in directions], 1)
    points = _even_subsample(trajectory, max(2, max_points))
    alphas, betas, residual = [], [], []
    for item in points:
        delta = _weight_vector(item, model, sizes) - centre
        coef = torch.linalg.lstsq(basis, delta.unsqueeze(1)).solution[:, 0]
        off = float((delta - basis @ coef).norm())
        size = float(delta.norm())
        alphas.append(float(coef[0]))
        betas.append(float(coef[1]))
        residual.append(off / size if size > 0 else 0.0)
    return {"alphas": alphas, "betas": betas, "residual": residual}


@torch.no_grad()
def loss_landscape(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    *,
    steps: int = 21,
    steps_1d: int = 41,
    span: float = 1.0,
    seed: int = 0,
    trajectory: Sequence[Any] | None = None,
    max_steps: int = MAX_STEPS,
    max_samples: int = MAX_SAMPLES,
    max_trajectory: int = MAX_TRAJECTORY,
) -> dict[str, Any]:
    """1-D and 2-D slices of `loss_fn(model(x), y)` around the current weights (eval mode).

    steps and steps_1d are capped at max_steps (and made odd, so 0 is on the grid); x is cut
    to its first max_samples rows. surface["loss"][j][i] is the loss at (alphas[i], betas[j])."""
    if not 0 < span <= 100:
        raise ValueError(f"span must be in (0, 100], got {span}")
    probe = copy.deepcopy(model).eval()
    n = min(len(x), max_samples)
    x, y = x[:n], y[:n]
    g = torch.Generator().manual_seed(seed)
    d1 = filter_normalized_direction(probe, g)
    d2 = filter_normalized_direction(probe, g)
    weights = [lin.weight for lin in linears(probe)]
    base = [w.detach().clone() for w in weights]

    def loss_at(a: float, b: float) -> float:
        for w, w0, u, v in zip(weights, base, d1, d2, strict=True):
            w.copy_(w0 + a * u + b * v)
        return float(loss_fn(probe(x), y))

    centre = loss_at(0.0, 0.0)
    line_axis = _axis(span, _odd(steps_1d, max_steps))
    grid_axis = _axis(span, _odd(steps, max_steps))
    line = [_finite(loss_at(a, 0.0)) for a in line_axis]
    surface = [[_finite(loss_at(a, b)) for a in grid_axis] for b in grid_axis]
    for w, w0 in zip(weights, base, strict=True):
        w.copy_(w0)
    projected = (
        project_trajectory(probe, (d1, d2), trajectory, max_trajectory) if trajectory else None
    )
    return {
        "directions": "filter-normalised Gaussian (Li et al. 2018), biases and norms fixed",
        "seed": seed,
        "span": span,
        "samples": n,
        "centre_loss": _finite(centre),
        "line": {"alphas": line_axis, "loss": line},
        "surface": {"alphas": grid_axis, "betas": grid_axis, "loss": surface},
        "trajectory": projected,
    }


def landscape_for(trainer: Trainer, **options: Any) -> dict[str, Any]:
    """The landscape of a Trainer's current weights on its training split and data loss
    (the loss its evaluation reports, penalties excluded: the family's `probe_loss`, e.g.
    a transformer's loss on its answer tokens). Options as in loss_landscape."""
    train = trainer.data.train
    return loss_landscape(trainer.model, train.x, train.y, trainer.probe_loss, **options)
