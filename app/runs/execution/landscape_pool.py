"""Loss landscapes of ended runs, from their stored weights, in a small process pool.

A live run's landscape is computed by its own worker (a control message); an ended run has
no worker, so its spec, weights and trajectory go to a pool process that rebuilds the
trainer (same seed: same data), loads the weights and computes. Never on the event loop:
at the largest caps it is ~1,700 forward passes. Processes come from the forkserver the
executor already uses (torch preloaded) and start on first use.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from app.nn.families.registry import trainer_for
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.runs.errors import Unavailable
from app.runs.execution.parent_death import die_with
from app.runs.kinds.run.artifacts import landscape, load
from app.settings import Settings


def _init(nice: int, threads: int, server_pid: int) -> None:
    die_with(server_pid)  # even after kill -9 of the server (parent_death.py)
    if nice:
        os.nice(nice)
    import torch

    torch.set_num_threads(threads)


def compute(
    spec: dict[str, Any],
    limits: dict[str, Any],
    weights: bytes,
    trajectory: bytes | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """In a pool process: rebuild the run's model from its spec, load its weights, compute."""
    trainer = trainer_for(validate_spec(spec, Limits(**limits)))  # the run's own family
    trainer.model.load_state_dict(load(weights))
    steps: list[int] = []
    rows = None
    if trajectory is not None:
        saved = load(trajectory)
        steps, rows = list(saved["steps"]), saved["weights"]
    result = landscape(trainer, steps, rows, options)
    result.pop("step", None)  # the trainer's own counter is 0 here; the caller knows the step
    return result


class LandscapePool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=max(1, self.settings.landscape_workers),
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init,
                initargs=(self.settings.worker_nice, self.settings.torch_threads, os.getpid()),
            )
        return self._pool

    async def run(
        self,
        spec: dict[str, Any],
        weights: bytes,
        trajectory: bytes | None,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        limits = self.settings.limits().as_dict()
        try:
            future = loop.run_in_executor(
                self._executor(), compute, spec, limits, weights, trajectory, options
            )
            return await asyncio.wait_for(future, self.settings.landscape_timeout)
        except TimeoutError:
            raise Unavailable("the landscape took too long; try fewer grid steps") from None
        except BrokenProcessPool:
            self._pool = None  # a crashed process: start afresh next time
            raise Unavailable("the landscape process died; try again") from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
