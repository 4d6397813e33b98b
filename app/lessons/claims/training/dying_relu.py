"""7 dying-relu: a bold learning rate kills ReLU units (zero output and zero gradient on every
training point); most stay dead, a few are revived by changes below them. Leaky ReLU units
never die: even fully negative ones keep a gradient."""

from typing import Any

import torch

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import lesson_specs
from app.nn.diagnose.probe import probe
from app.nn.training.trainer import Trainer

CLAIMS = (
    Claim("relu_units_die", 0, "relu: >= 25 % of units dead at the end (vs at init + 10 %)"),
    Claim("dead_have_no_gradient", 0, "relu: units dead at the end get exactly zero gradient"),
    Claim("most_stay_dead", 1, "relu: >= 60 % of units that ever died are dead at the end"),
    Claim("some_revive", 2, "relu: at least one dead unit comes back", 0.75),
    Claim("leaky_no_dead", 3, "leaky: no dead units at any epoch end"),
    Claim("leaky_negative_keep_gradient", 4, "leaky: units below zero everywhere get a gradient"),
)


def dead_masks(
    trainer: Trainer,
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """Per hidden layer: units outputting exactly 0 on every training point (dead), units
    below zero on every point (a leaky unit's version of it), and whether each unit's incoming
    weights receive any gradient."""
    p = probe(trainer, max_points=len(trainer.data.train))
    dead, below, with_grad = [], [], []
    for a, g in zip(p.acts, p.weight_grads, strict=False):  # hidden layers, not the head
        dead.append((a == 0).all(0))
        below.append(a.amax(0) <= 0)
        with_grad.append(g.abs().amax(1) > 0)
    return dead, below, with_grad


def run_tracked(trainer: Trainer) -> list[list[torch.Tensor]]:
    """Train, recording every unit's dead mask at each evaluation (epoch ends)."""
    history = [dead_masks(trainer)[0]]
    for rec in trainer.records():
        if rec["kind"] == "eval":
            history.append(dead_masks(trainer)[0])
    return history


def measure(seed: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, spec in lesson_specs("dying-relu", seed).items():
        trainer = Trainer(spec)
        history = run_tracked(trainer)
        init, end = torch.cat(history[0]), torch.cat(history[-1])
        ever = torch.stack([torch.cat(h) for h in history]).any(0)
        _, below, grads = dead_masks(trainer)
        below_grad = [int((g & b).sum()) for b, g in zip(below, grads, strict=True)]
        out[label] = {
            "dead_init": float(init.float().mean()),
            "dead_end": float(end.float().mean()),
            "dead_any_eval": max(float(torch.cat(h).float().mean()) for h in history),
            "ever": int(ever.sum()),
            "revived": int((ever & ~end).sum()),
            "negative_units": int(torch.cat(below).sum()),
            "negative_with_grad": sum(below_grad),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    relu, leaky = m["relu"], m["leaky relu"]
    kept = 1 - relu["revived"] / relu["ever"] if relu["ever"] else 0.0
    return {
        "relu_units_die": outcome(
            relu["dead_end"] >= 0.25 and relu["dead_end"] >= relu["dead_init"] + 0.1,
            "{:.0%} dead (init {:.0%})",
            relu["dead_end"],
            relu["dead_init"],
        ),
        "dead_have_no_gradient": outcome(
            relu["negative_units"] > 0 and relu["negative_with_grad"] == 0,
            "{} dead, {} with a gradient",
            relu["negative_units"],
            relu["negative_with_grad"],
        ),
        "most_stay_dead": outcome(kept >= 0.6, "{:.0%} of {} stay dead", kept, relu["ever"]),
        "some_revive": outcome(relu["revived"] > 0, "{} revived", relu["revived"]),
        "leaky_no_dead": outcome(leaky["dead_any_eval"] == 0.0, "{:.0%}", leaky["dead_any_eval"]),
        "leaky_negative_keep_gradient": outcome(
            leaky["negative_with_grad"] == leaky["negative_units"],
            "{} of {}",
            leaky["negative_with_grad"],
            leaky["negative_units"],
        ),
    }
