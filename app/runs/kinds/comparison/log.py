"""The event log of a comparison: a RunLog whose events are tagged with a member index.

What differs from one run's log: a member's end ("end" events) is pinned like status and
start events (a late client must learn that member 3 diverged), the latest picture is kept
per member (not one for the whole comparison) and so is the latest summary table. Metrics of
all members share the bounded buffer and the decimated history, sized K times a run's.
"""

from __future__ import annotations

import asyncio

from app.runs.events.stream import TERMINAL, Event, RunLog

PINNED = ("status", "start", "end")


class ComparisonLog(RunLog):
    def __init__(self, run_id: str, buffer_size: int, history_points: int) -> None:
        super().__init__(run_id, buffer_size, history_points)
        self.snapshots: dict[int, Event] = {}  # member -> latest picture
        self.summary: Event | None = None  # the latest live table

    def append(self, event: Event) -> bool:
        if event.seq <= self.last_seq or self.done:
            return False
        if event.type == "snapshot":
            self.last_seq = event.seq
            self.snapshots[int(event.meta.get("member") or 0)] = event
        elif event.type == "summary":
            self.last_seq = event.seq
            self.summary = event
        elif event.type in PINNED:
            self.last_seq = event.seq
            self.pinned.append(event)
            if event.type == "status" and event.meta.get("status") in TERMINAL:
                self.done = True
        else:
            return super().append(event)  # metrics, hparams: buffer + history; wakes waiters
        self._wake.set()
        self._wake = asyncio.Event()
        return True

    def _latest(self) -> list[Event]:
        extra = list(self.snapshots.values())
        if self.summary is not None:
            extra.append(self.summary)
        return extra

    def after(self, seq: int) -> list[Event]:
        if seq >= self.last_seq:
            return []
        saved = self.snapshot
        self.snapshot = None  # the base class's single picture: ours are per member
        try:
            events = {e.seq: e for e in super().after(seq)}
        finally:
            self.snapshot = saved
        for event in self._latest():
            if event.seq > seq:
                events[event.seq] = event
        return [events[k] for k in sorted(events)]

    def persistable(self) -> list[Event]:
        events = {e.seq: e for e in super().persistable()}
        for event in self._latest():
            events[event.seq] = event
        return [events[k] for k in sorted(events)]
