"""Warm a worker before its first run, so that Play shows the first picture at once.

The forkserver preloads torch and the engine's modules, but a fresh process still pays,
at its first run, for what happens once per process: loading the fused kernel, torch's
first calls of each op (allocator, dispatch tables), the first optimizer step (which
imports torch._dynamo pieces lazily) and the first diagnostics probe. Measured: the first
Trainer of a fresh process took seconds on a busy machine, later ones milliseconds. One
tiny run here (a few steps, a picture and a probe) moves that cost to the worker's start,
which happens in the background while the server already answers.
"""

from __future__ import annotations

from app.nn.diagnose.panel import panel_frame
from app.nn.measure import pictures
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer


def warm_up() -> None:
    try:
        spec = validate_spec({"data": {"samples": 40}, "train": {"epochs": 2}}, Limits())
        trainer = Trainer(spec)
        for _, _record in zip(range(12), trainer.records(), strict=False):
            pass
        pictures.snapshot(trainer, 8, True)
        panel_frame(trainer)
    except Exception:  # warming is an optimisation: a real run reports its own errors
        return
