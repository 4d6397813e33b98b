"""Who is watching which run, and service counters for /metrics.

`Viewers` counts open sockets per run and remembers when each run was last watched, so
runs nobody looks at (the tab was closed) stop holding a worker on a shared host. A read
of a run's events over HTTP counts as watching too. `ServiceStats` holds plain counters
that the web layer exports; app.runs stays free of any metrics library.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from typing import Any


class Viewers:
    """`runs` is the manager's live runs (objects with `.active`): only active runs have
    a last-seen time, so ids of ended or unknown runs never pile up here."""

    def __init__(self, runs: Mapping[str, Any]) -> None:
        self.runs = runs
        self.open: Counter[str] = Counter()  # run id -> sockets open now
        self.seen: dict[str, float] = {}  # run id -> last time someone watched (unix time)

    def _live(self, run_id: str) -> bool:
        run = self.runs.get(run_id)
        return run is not None and bool(run.active)

    def join(self, run_id: str) -> None:
        self.open[run_id] += 1
        self.touch(run_id)

    def leave(self, run_id: str) -> None:
        self.open[run_id] -= 1
        if self.open[run_id] <= 0:
            del self.open[run_id]
        self.touch(run_id)

    def touch(self, run_id: str) -> None:
        if self._live(run_id):
            self.seen[run_id] = time.time()
        else:
            self.seen.pop(run_id, None)

    def forget(self, run_id: str) -> None:
        self.seen.pop(run_id, None)

    def total(self) -> int:
        return sum(self.open.values())

    def idle(self, run_ids: Iterable[str], since: dict[str, float], seconds: float) -> list[str]:
        """Runs among `run_ids` with no socket open and nobody watching for `seconds`
        (`since` gives each run's creation time, for runs nobody ever watched)."""
        now = time.time()
        return [
            rid
            for rid in run_ids
            if not self.open.get(rid) and now - self.seen.get(rid, since[rid]) > seconds
        ]


class ServiceStats:
    """Counters since the server started, plus optimizer steps per second (10 s window)."""

    WINDOW = 10.0

    def __init__(self) -> None:
        self.created = 0
        self.ended: Counter[str] = Counter()  # terminal status -> runs
        self.events = 0  # events received from workers
        self.steps = 0  # optimizer steps reported by workers
        self._recent: deque[tuple[float, int]] = deque()  # (monotonic time, steps)

    def add_steps(self, n: int) -> None:
        if n <= 0:
            return
        self.steps += n
        now = time.monotonic()
        self._recent.append((now, n))
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._recent and now - self._recent[0][0] > self.WINDOW:
            self._recent.popleft()

    def steps_per_second(self) -> float:
        self._trim(time.monotonic())
        return sum(n for _, n in self._recent) / self.WINDOW
