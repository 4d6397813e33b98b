"""The fused fast path: whole training steps of small dense nets in one C++ call.

`choose_engine(trainer, engine)` picks the path ("fused" or "eager") and says why;
`steps.FusedSteps` runs the steps; `build` compiles the kernel (at install time) and
loads it (at run time, never compiling then)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.nn.fused.steps import FusedSteps
    from app.nn.training.trainer import Trainer


def choose_engine(trainer: Trainer, engine: str) -> tuple[str, str]:
    """("fused" | "eager", why) for this trainer; engine is "auto" or "eager"."""
    from app.nn.fused.plan import choose

    return choose(trainer, engine)


def fused_steps(trainer: Trainer) -> FusedSteps:
    from app.nn.fused.build import load
    from app.nn.fused.steps import FusedSteps

    module, problem = load()
    assert module is not None, problem
    return FusedSteps(trainer, module)
