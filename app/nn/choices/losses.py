"""Loss functions by task, one registry. The output head is 1 logit (binary), K logits
(multi-class) or 1 value (regression); each loss maps that head and the targets to a scalar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from app.nn.choices.registry import Entry, Registry

Tensor = torch.Tensor
LossFn = Callable[[Tensor, Tensor, float, float], Tensor]  # (out, y, smoothing, delta)


def _bce(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    target = y * (1 - smoothing) + 0.5 * smoothing if smoothing else y
    return F.binary_cross_entropy_with_logits(out[:, 0], target)


def _ce(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    return F.cross_entropy(out, y.long(), label_smoothing=smoothing)


def _probs_and_target(out: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Predictions and targets on the same scale: probabilities for classification."""
    if out.shape[1] == 1:
        return out[:, 0], y
    return torch.softmax(out, 1), F.one_hot(y.long(), out.shape[1]).to(out.dtype)


def _mse(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    return F.mse_loss(out[:, 0], y)


def _mse_on_probs(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    if out.shape[1] == 1:
        return F.mse_loss(torch.sigmoid(out[:, 0]), y)
    pred, target = _probs_and_target(out, y)
    return F.mse_loss(pred, target)


def _huber(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    return F.huber_loss(out[:, 0], y, delta=delta)


def _l1(out: Tensor, y: Tensor, smoothing: float, delta: float) -> Tensor:
    return F.l1_loss(out[:, 0], y)


# ---- per-member forms for stacked comparisons -----------------------------------------------
# Each maps (out (K, B, C), y (B,), smoothing, delta) -> (K,) losses: the function above with
# the mean taken per member (vmap over those functions costs ~4x one step). A loss without
# one still works in comparisons: its members train one by one (app.nn.compare.lockstep).


def _stacked_bce(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    target = y * (1 - s) + 0.5 * s if s else y
    return F.binary_cross_entropy_with_logits(
        out[..., 0], target.expand(out.shape[0], -1), reduction="none"
    ).mean(1)


def _stacked_ce(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    k, b, c = out.shape
    flat = F.cross_entropy(
        out.reshape(k * b, c), y.long().repeat(k), label_smoothing=s, reduction="none"
    )
    return flat.view(k, b).mean(1)


def _stacked_mse(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    return (out[..., 0] - y).square().mean(1)


def _stacked_mse_on_probs(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    if out.shape[2] == 1:
        return (torch.sigmoid(out[..., 0]) - y).square().mean(1)
    target = F.one_hot(y.long(), out.shape[2]).to(out.dtype)
    return (torch.softmax(out, 2) - target).square().mean((1, 2))


def _stacked_huber(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    target = y.expand(out.shape[0], -1)
    return F.huber_loss(out[..., 0], target, reduction="none", delta=d).mean(1)


def _stacked_l1(out: Tensor, y: Tensor, s: float, d: float) -> Tensor:
    return (out[..., 0] - y).abs().mean(1)


@dataclass(frozen=True)
class LossInfo(Entry):
    tasks: tuple[str, ...] = ()
    regression: LossFn | None = None  # the function on a regression head
    classification: LossFn | None = None  # the function on a classification head
    stacked_regression: LossFn | None = None  # the same per member, (K, B, C) -> (K,)
    stacked_classification: LossFn | None = None


LOSSES: Registry[LossInfo] = Registry(
    "loss",
    [
        LossInfo(
            "auto",
            "Auto",
            "BCE for binary, cross-entropy for multi-class, MSE for regression.",
            tasks=("binary", "multiclass", "regression"),
        ),
        LossInfo(
            "bce",
            "Binary cross-entropy",
            "On one logit (sigmoid inside the loss).",
            tasks=("binary",),
            classification=_bce,
            stacked_classification=_stacked_bce,
        ),
        LossInfo(
            "ce",
            "Softmax cross-entropy",
            "On K logits; label smoothing optional.",
            tasks=("multiclass",),
            classification=_ce,
            stacked_classification=_stacked_ce,
        ),
        LossInfo(
            "mse",
            "Mean squared error",
            "On the output (regression) or on the predicted probabilities (classification).",
            tasks=("binary", "multiclass", "regression"),
            regression=_mse,
            classification=_mse_on_probs,
            stacked_regression=_stacked_mse,
            stacked_classification=_stacked_mse_on_probs,
        ),
        LossInfo(
            "huber",
            "Huber",
            "Quadratic near 0, linear beyond delta: robust to outliers.",
            tasks=("regression",),
            regression=_huber,
            stacked_regression=_stacked_huber,
        ),
        LossInfo(
            "l1",
            "Mean absolute error",
            "L1 loss: the median fit.",
            tasks=("regression",),
            regression=_l1,
            stacked_regression=_stacked_l1,
        ),
    ],
)

AUTO_LOSS = {"binary": "bce", "multiclass": "ce", "regression": "mse"}


def resolve_loss(name: str, task: str) -> str:
    return AUTO_LOSS[task] if name == "auto" else name


def loss_function(name: str, task: str) -> LossFn:
    info = LOSSES[resolve_loss(name, task)]
    fn = info.regression if task == "regression" else info.classification
    assert fn is not None, f"loss {name} does not apply to {task}"
    return fn


def stacked_loss_function(name: str, task: str) -> LossFn | None:
    """The per-member form of `loss_function(name, task)`, None when the entry has none."""
    info = LOSSES[resolve_loss(name, task)]
    return info.stacked_regression if task == "regression" else info.stacked_classification


def predict(out: Tensor, task: str) -> Tensor:
    """What the model predicts: P(class 1), class probabilities, or the regression value."""
    if task == "binary":
        return torch.sigmoid(out[:, 0])
    if task == "multiclass":
        return torch.softmax(out, 1)
    return out[:, 0]


def correct(out: Tensor, y: Tensor, task: str) -> Tensor:
    """Boolean per-sample correctness for classification."""
    if task == "binary":
        return (out[:, 0] > 0) == (y > 0.5)
    return out.argmax(1) == y.long()
