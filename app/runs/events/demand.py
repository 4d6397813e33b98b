"""Snapshots at the rate viewers consume them (latest wins), never faster than the eye.

A snapshot (decision boundary, weights, neuron pictures) costs a worker ~1 ms and every
viewer a few KB, so the worker takes one only when somebody will draw it:

- web side (`Demand`): when a viewer's socket has finished sending a run's newest
  snapshot, it is ready for the next one; the first such viewer sends the worker one
  `{"op": "want", "neurons": bool}` per snapshot (later ones find it already asked for).
  A slow viewer never asks: it gets whatever picture is newest when it is ready, so it
  slows neither training nor the other viewers. `neurons` is true while some viewer
  shows the per-neuron pictures (its page sends `{"action": "view", "neurons": true}`).
- worker side (`Pacer`): a wanted snapshot is taken as soon as `1 / rate` has passed
  since the last one, where the want says the rate (never above the worker's `max_rate`);
  with nobody asking, one every `1 / idle_rate` s keeps the picture that late joiners and
  the store get fresh.
- the rate: a picture every displayed frame (`max_rate`) while few runs are watched; with
  many watched runs sharing the machine, `busy_rate`, so training keeps its pace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class Pacer:
    """Worker side: when the next snapshot is due, and whether it carries neurons."""

    def __init__(self, max_rate: float, idle_rate: float) -> None:
        self.fastest = 1.0 / max(max_rate, 0.01)
        self.min_interval = self.fastest
        self.idle_interval = 1.0 / max(idle_rate, 0.01)
        self.last_at = -math.inf
        self.wanted = True  # the first picture is always wanted
        self.neurons = False
        self.taken = 0

    def want(self, neurons: Any = False, rate: Any = None) -> None:
        self.wanted = True
        self.neurons = bool(neurons)
        if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
            self.min_interval = max(self.fastest, 1.0 / rate)

    def due(self, now: float) -> bool:
        since = now - self.last_at
        return since >= self.idle_interval or (self.wanted and since >= self.min_interval)

    def taken_at(self, now: float) -> None:
        self.last_at = now
        self.wanted = False
        self.taken += 1


class Demand:
    """Web side: one `want` per snapshot, sent by the first viewer ready for the next."""

    def __init__(
        self,
        send: Callable[[str, dict[str, Any]], bool],
        watched: Callable[[], int] = lambda: 0,
        rate: float | None = None,
        busy_rate: float | None = None,
        busy_runs: int = 2,
    ) -> None:
        self.send = send  # executor.control(run_id, message) -> delivered?
        self.watched = watched  # how many runs of this server have a viewer now
        self.rate, self.busy_rate, self.busy_runs = rate, busy_rate, busy_runs
        self.asked: dict[str, int] = {}  # run id -> the snapshot seq a want answered
        self.neuron_views: dict[str, int] = {}  # run id -> viewers showing neurons

    def consumed(self, run_id: str, seq: int, newest: int) -> bool:
        """A viewer sent snapshot `seq`; `newest` = the run's newest snapshot seq."""
        if seq < newest or self.asked.get(run_id, -1) >= seq:
            return False  # not the newest (a newer one is on its way) or already asked
        self.asked[run_id] = seq
        message: dict[str, Any] = {"op": "want", "neurons": self.neuron_views.get(run_id, 0) > 0}
        rate = self.busy_rate if self.watched() > self.busy_runs else self.rate
        if rate:
            message["rate"] = rate
        return self.send(run_id, message)

    def view(self, run_id: str, neurons: bool, before: bool) -> None:
        """A viewer starts or stops showing the neuron pictures."""
        if neurons == before:
            return
        count = self.neuron_views.get(run_id, 0) + (1 if neurons else -1)
        if count > 0:
            self.neuron_views[run_id] = count
        else:
            self.neuron_views.pop(run_id, None)
        if neurons:  # show them at once, not after the next picture
            self.send(run_id, {"op": "want", "neurons": True})

    def forget(self, run_id: str) -> None:
        self.asked.pop(run_id, None)
        self.neuron_views.pop(run_id, None)
