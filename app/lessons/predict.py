"""Predict, then run: each lesson may ask one question with 2-4 answers before its run, and
the run settles it. The question and answers are lesson data (content/*.json, `predict`);
how a run settles it is code, here: one settler per lesson, reading only what every run
reports when it ends (its status, steps, epochs and final scores: the summary of
GET /api/runs/{id}), keyed by member label ("" for a single-experiment lesson).

A settler returns the index of the answer the run supports and a sentence with the
measured numbers that decided it. Nothing is decided in advance: the same question can be
settled differently by a run that behaves differently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

Summary = Mapping[str, Any]
Settler = Callable[[Mapping[str, Summary]], tuple[int, str]]
LOG2 = math.log(2)


def final(s: Summary, key: str) -> float:
    """A final score, NaN when the run never reported it (e.g. it diverged)."""
    value = (s.get("final") or {}).get(key)
    return float(value) if isinstance(value, int | float) else math.nan


def pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.0f} %"


def _nonlinearity(s: Mapping[str, Summary]) -> tuple[int, str]:
    acc = final(s["linear"], "test_acc")
    return (0 if acc > 0.8 else 1), f"the linear net's test accuracy is {pct(acc)}"


def _zero_init(s: Mapping[str, Summary]) -> tuple[int, str]:
    z, x = final(s["zeros"], "test_acc"), final(s["xavier"], "test_acc")
    return (
        1 if z < x - 0.15 else 0
    ), f"test accuracy {pct(z)} with zero init, {pct(x)} with Xavier"


def _vanishing(s: Mapping[str, Summary]) -> tuple[int, str]:
    sig, relu = final(s["sigmoid"], "train_loss"), final(s["relu"], "train_loss")
    answer = 0 if sig < relu else 1
    return (
        answer,
        f"final training loss {sig:.3f} (sigmoid) vs {relu:.3f} (ReLU); log 2 = {LOG2:.3f}",
    )


def _exploding(s: Mapping[str, Summary]) -> tuple[int, str]:
    plain = s["no clipping"]
    if plain.get("status") == "diverged":
        return 1, f"stopped as diverged at step {plain.get('step')}"
    return 0, f"it finished with training loss {final(plain, 'train_loss'):.3g}"


def _learning_rate(s: Mapping[str, Summary]) -> tuple[int, str]:
    labels = ["lr 1e-5", "lr 0.03", "lr 10"]
    r2 = [final(s[k], "test_r2") for k in labels]
    best = max(range(3), key=lambda i: -math.inf if math.isnan(r2[i]) else r2[i])
    shown = ", ".join(
        f"{k}: {'diverged' if s[k].get('status') == 'diverged' else f'{v:.2f}'}"
        for k, v in zip(labels, r2, strict=True)
    )
    return best, f"test R² {shown}"


def _early_stopping(s: Mapping[str, Summary]) -> tuple[int, str]:
    run = s[""]
    epoch, best = run.get("epoch") or 0, run.get("best_epoch")
    return (1 if epoch < 200 else 0), f"it stopped at epoch {epoch} of 200 (best epoch {best})"


def _batchnorm(s: Mapping[str, Summary]) -> tuple[int, str]:
    plain, bn = s["plain"], s["BatchNorm"]
    p_acc, b_acc = final(plain, "test_acc"), final(bn, "test_acc")
    plain_ok = plain.get("status") != "diverged" and p_acc >= b_acc - 0.05
    what = "diverged" if plain.get("status") == "diverged" else f"test accuracy {pct(p_acc)}"
    return (0 if plain_ok else 1), f"plain net: {what}; BatchNorm: test accuracy {pct(b_acc)}"


def _residual(s: Mapping[str, Summary]) -> tuple[int, str]:
    p, r = final(s["plain"], "train_loss"), final(s["residual"], "train_loss")
    return (1 if p > r + 0.2 else 0), f"final training loss {p:.3f} (plain) vs {r:.3f} (residual)"


def _overfitting(s: Mapping[str, Summary]) -> tuple[int, str]:
    gaps = {k: final(v, "val_loss") - final(v, "train_loss") for k, v in s.items()}
    order = ["none", "L2 0.02", "dropout 0.5"]
    widest = max(range(3), key=lambda i: gaps[order[i]])
    return widest, "validation minus training loss: " + ", ".join(
        f"{k} {gaps[k]:.2f}" for k in order
    )


def _backprop(s: Mapping[str, Summary]) -> tuple[int, str]:
    acc = final(s[""], "test_acc")
    return (0 if acc >= 0.9 else 1), f"test accuracy {pct(acc)} after {s[''].get('epoch')} epochs"


SETTLERS: dict[str, Settler] = {
    "nonlinearity": _nonlinearity,
    "zero-init": _zero_init,
    "backprop": _backprop,
    "vanishing-gradients": _vanishing,
    "exploding-gradients": _exploding,
    "learning-rate": _learning_rate,
    "overfitting": _overfitting,
    "early-stopping": _early_stopping,
    "batchnorm": _batchnorm,
    "residual": _residual,
}


def settle(slug: str, summaries: Mapping[str, Summary]) -> dict[str, Any]:
    answer, measured = SETTLERS[slug](summaries)
    return {"answer": answer, "measured": measured}
