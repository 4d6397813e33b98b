"""37 grokking: on a + b mod 31 a transformer memorises its training pairs first; with
weight decay its validation accuracy jumps long after, without it stays where memorising
alone puts it (the pairs whose mirror b + a was trained on: without positions the model
cannot tell a + b from b + a)."""

from __future__ import annotations

import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import Run, run_lesson
from app.nn.training.transformer import TransformerTrainer

FIT, GROKKED = 0.99, 0.9  # training "fitted", validation "generalised"

CLAIMS = (
    Claim("memorised_first", 0, "decay: val acc <= mirrored share + 0.1 when train acc >= 0.99"),
    Claim("jumps_late", 1, "decay: val acc >= 0.9, at >= 2x the epoch train acc hit 0.99"),
    Claim("stays_at_mirror", 2, "no decay: max val acc <= mirrored share + 0.05"),
    Claim("fits_anyway", 2, "no decay: train acc reaches 0.99"),
    Claim("loss_turns", 3, "val loss: decay peaks > chance, ends < 0.25x chance; none > 2x"),
    Claim("stays_general", 4, "decay: final val acc >= 0.85, never back below 0.5 after 0.9"),
)


def mirrored_share(trainer: TransformerTrainer) -> float:
    """The share of validation pairs (a, b) whose mirror (b, a) is a training pair: what a
    model that cannot see order gets right by memorising alone."""
    train = {(int(a), int(b)) for a, b in trainer.data.train.x[:, [0, 2]].tolist()}
    val = trainer.data.val.x[:, [0, 2]].tolist()
    return sum((b, a) in train for a, b in val) / len(val)


def first_epoch(run: Run, split: str, level: float) -> int | None:
    return next((ev["epoch"] for ev in run.evals if ev[split]["acc"] >= level), None)


def dips_after(run: Run, fit: float, low: float) -> int:
    """Evaluations whose validation accuracy fell back below `low` after it first reached
    `fit` (Adam can kick a solved network out of its minimum for a while)."""
    accs = [ev["val"]["acc"] for ev in run.evals]
    first = next((i for i, a in enumerate(accs) if a >= fit), len(accs))
    return sum(a < low for a in accs[first:])


def weight_norm(step: dict[str, Any]) -> float:
    return math.sqrt(sum(w * w for w in step["weight_norm"]))


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("grokking", seed).items():
        assert isinstance(run.trainer, TransformerTrainer)
        fit = first_epoch(run, "train", FIT)
        val_at_fit = next((ev["val"]["acc"] for ev in run.evals if ev["epoch"] == fit), None)
        out[label] = {
            "mirror": mirrored_share(run.trainer),
            "fit": fit,
            "val_at_fit": val_at_fit,
            "grok": first_epoch(run, "val", GROKKED),
            "val_max": max(ev["val"]["acc"] for ev in run.evals),
            "val_end": run.last_eval()["val"]["acc"],
            "train_end": run.last_eval()["train"]["acc"],
            "norm_start": weight_norm(run.steps[0]),
            "norm_end": weight_norm(run.steps[-1]),
            "chance": math.log(run.trainer.net.cfg.vocab),
            "val_loss_max": max(ev["val"]["loss"] for ev in run.evals),
            "val_loss_end": run.last_eval()["val"]["loss"],
            "dips": dips_after(run, fit=GROKKED, low=0.5),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    none, decay = m["no weight decay"], m["weight decay 1.0"]
    fit, grok, at_fit = decay["fit"], decay["grok"], decay["val_at_fit"]
    return {
        "memorised_first": outcome(
            at_fit is not None and at_fit <= decay["mirror"] + 0.1,
            "val {} at epoch {} (mirrored {:.2f})",
            "-" if at_fit is None else f"{at_fit:.2f}",
            fit,
            decay["mirror"],
        ),
        "jumps_late": outcome(
            fit is not None and grok is not None and grok >= 2 * fit,
            "fit at epoch {}, val >= 0.9 at epoch {}",
            fit,
            grok,
        ),
        "stays_at_mirror": outcome(
            none["val_max"] <= none["mirror"] + 0.05,
            "max {:.3f} (mirrored {:.3f})",
            none["val_max"],
            none["mirror"],
        ),
        "fits_anyway": outcome(none["fit"] is not None, "at epoch {}", none["fit"]),
        "loss_turns": outcome(
            decay["val_loss_max"] > decay["chance"]
            and decay["val_loss_end"] < 0.25 * decay["chance"]
            and none["val_loss_end"] > 2 * none["chance"],
            "decay peak {:.2f} end {:.2f}, none end {:.2f} (chance {:.2f})",
            decay["val_loss_max"],
            decay["val_loss_end"],
            none["val_loss_end"],
            decay["chance"],
        ),
        "stays_general": outcome(
            decay["val_end"] >= 0.85 and decay["dips"] == 0,
            "final {:.2f}, {} dips",
            decay["val_end"],
            decay["dips"],
        ),
    }
