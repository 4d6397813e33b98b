"""12 lr-schedules: each schedule's lr curve has its shape, and decaying the lr lets the
training loss settle where a constant lr keeps it bouncing."""

import itertools
import math
from typing import Any

from app.lessons.claims import Claim, Outcome, outcome
from app.lessons.claims.runner import run_lesson
from app.nn.diagnose.diagnostics import loss_jitter

BASE = 0.1

CLAIMS = (
    Claim("constant_lr", 0, "constant: lr 0.1 at every step"),
    Claim("step_halves", 1, "step: 0.1, 0.05, 0.025, 0.0125 from epochs 0, 10, 20, 30"),
    Claim("cosine_shapes", 2, "cosine 0.1 -> 0; warm-up peaks at the end of epoch 5"),
    Claim("annealed_settle", 3, "epoch-end loss jitter, last 8 epochs: annealed < 0.2x constant"),
)


def non_increasing(xs: list[float]) -> bool:
    return all(b <= a + 1e-12 for a, b in itertools.pairwise(xs))


def measure(seed: int | None = None) -> dict[str, Any]:
    out = {}
    for label, run in run_lesson("lr-schedules", seed).items():
        # The full training loss at each of the last 8 epoch ends (batch losses would add
        # the batch-to-batch spread, which no schedule removes).
        tail = [ev["train"]["loss"] for ev in run.evals[-8:]]
        out[label] = {
            "lrs": [s["lr"] for s in run.steps],
            "per_epoch": run.trainer.steps_per_epoch,
            "tail_jitter": loss_jitter(tail),
        }
    return out


def verdict(m: dict[str, Any]) -> dict[str, Outcome]:
    const, step, cos, warm = (m[k] for k in ("constant", "step", "cosine", "warmup + cosine"))
    e = step["per_epoch"]
    marks = [step["lrs"][k * 10 * e] for k in range(4)]
    halves = all(
        math.isclose(a, b, rel_tol=1e-6)
        for a, b in zip(marks, [0.1, 0.05, 0.025, 0.0125], strict=True)
    )
    lrs, wl = cos["lrs"], warm["lrs"]
    peak = wl.index(max(wl))
    shapes = (
        math.isclose(lrs[0], BASE)
        and lrs[-1] < 1e-3 * BASE
        and math.isclose(lrs[len(lrs) // 2], BASE / 2, rel_tol=0.02)
        and non_increasing(lrs)
        and peak == 5 * e - 1
        and math.isclose(max(wl), BASE)
        and wl[0] < 0.05 * BASE
        and non_increasing(wl[peak:])
        and wl[-1] < 1e-3 * BASE
    )
    worst = max(a["tail_jitter"] for a in (step, cos, warm)) / const["tail_jitter"]
    return {
        "constant_lr": outcome(set(const["lrs"]) == {BASE}, "{}", sorted(set(const["lrs"]))),
        "step_halves": outcome(halves and non_increasing(step["lrs"]), "{}", marks),
        "cosine_shapes": outcome(shapes, "warm-up peak at step {}", peak + 1),
        "annealed_settle": outcome(worst < 0.2, "worst ratio {:.3f}", worst),
    }
