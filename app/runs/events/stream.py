"""Run events and the in-memory event bus.

An event is one JSON object `{"run_id", "seq", "type", ...}`. It travels as finished
bytes (`Event.data`, encoded once, by whoever produced it: the manager or a worker) plus
a few parsed facts (`Event.meta`) the manager needs for bookkeeping, so the web process
never re-encodes a frame per client.

Each run has a `RunLog`: the pinned events (status changes, start), a bounded buffer of
recent events kept exactly, a shape-preserving decimated history of all metric frames,
and only the latest snapshot (a newer picture supersedes an older one). `after(n)` is
what a late or reconnecting client gets: every pinned and buffered event after seq n,
the decimated history for any range that fell out of the buffer, and the latest
snapshot. Memory per run is bounded however long it trains and however slow a client is.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.runs.events.history import History

STATUSES = (
    "queued",
    "running",
    "paused",
    "finished",
    "stopped",
    "diverged",
    "failed",
    "interrupted",
)
TERMINAL = frozenset({"finished", "stopped", "diverged", "failed", "interrupted"})
ACTIVE = frozenset({"queued", "running", "paused"})


def _finite(obj: Any) -> Any:
    """NaN/inf are not JSON: a diverged run's numbers become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def to_json(obj: Any) -> bytes:
    """Compact, strictly valid JSON (non-finite floats become null)."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False).encode()


@dataclass(slots=True)
class Event:
    seq: int
    type: str
    data: bytes  # the whole event as JSON, ready to send
    meta: dict[str, Any] = field(default_factory=dict)
    _text: str | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The JSON as text, decoded once however many sockets send it."""
        if self._text is None:
            self._text = self.data.decode()
        return self._text

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.data)
        return result


def make_event(run_id: str, seq: int, type_: str, fields: dict[str, Any]) -> Event:
    """Build an event; status events carry their facts in meta as well."""
    body = {"run_id": run_id, "seq": seq, "type": type_, **fields}
    meta: dict[str, Any] = {"seq": seq, "type": type_}
    if type_ == "status":
        meta.update(
            status=fields["status"],
            reason=fields.get("reason"),
            summary=fields.get("summary"),
            position=fields.get("position"),
        )
    return Event(seq, type_, to_json(body), meta)


def status_fields(
    status: str,
    reason: str | None = None,
    position: int | None = None,
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "position": position,
        "reason": reason,
        "summary": summary,
        "at": round(time.time(), 3),
    }


class RunLog:
    """The ordered events of one run, bounded in memory, with waiters for new ones."""

    def __init__(self, run_id: str, buffer_size: int, history_points: int) -> None:
        self.run_id = run_id
        self.pinned: list[Event] = []
        self.recent: deque[Event] = deque(maxlen=max(16, buffer_size))
        self.dropped = 0
        self.snapshot: Event | None = None
        self.history: History[Event] = History(history_points)
        self.last_seq = 0
        self.done = False
        self._wake = asyncio.Event()

    def append(self, event: Event) -> bool:
        """Add an event; False (ignored) if it is not newer than the last one."""
        if event.seq <= self.last_seq or self.done:
            return False
        self.last_seq = event.seq
        if event.type in ("status", "start"):
            self.pinned.append(event)
            if event.type == "status" and event.meta.get("status") in TERMINAL:
                self.done = True
        elif event.type == "snapshot":
            self.snapshot = event
        else:
            if len(self.recent) == self.recent.maxlen:
                self.dropped += 1
            self.recent.append(event)
            if event.type == "metrics":
                scores = {"loss": event.meta.get("loss"), "val": event.meta.get("val_loss")}
                self.history.add(event.seq, event, scores)
        self._wake.set()
        self._wake = asyncio.Event()
        return True

    def after(self, seq: int) -> list[Event]:
        """Everything a client that has seen up to `seq` still needs, in seq order."""
        if seq >= self.last_seq:
            return []
        out: dict[int, Event] = {e.seq: e for e in self.pinned if e.seq > seq}
        tail: list[Event] = []
        for event in reversed(self.recent):  # newest first: stop at the client's cursor
            if event.seq <= seq:
                break
            tail.append(event)
        if self.dropped and tail and tail[-1] is self.recent[0]:  # cursor older than the buffer
            first_kept = self.recent[0].seq if self.recent else self.last_seq + 1
            for hseq, event in self.history.points():
                if seq < hseq < first_kept:
                    out[hseq] = event
        for event in tail:
            out[event.seq] = event
        if self.snapshot is not None and self.snapshot.seq > seq:
            out[self.snapshot.seq] = self.snapshot
        return [out[k] for k in sorted(out)]

    def persistable(self) -> list[Event]:
        """What the store keeps: pinned events, decimated metrics, the final snapshot."""
        events = {e.seq: e for e in self.pinned}
        for seq, event in self.history.points():
            events[seq] = event
        for event in self.recent:  # hparams changes and other rare events
            if event.type != "metrics":
                events[event.seq] = event
        if self.snapshot is not None:
            events[self.snapshot.seq] = self.snapshot
        return [events[k] for k in sorted(events)]

    def close(self) -> None:
        """No more events (the run was dropped): wake every follower so it can finish."""
        self.done = True
        self._wake.set()

    async def wait(self, after: int, timeout: float) -> bool:
        """Until an event newer than `after` exists (True) or `timeout` passes (False)."""
        if self.last_seq > after or self.done:
            return True
        wake = self._wake
        try:
            await asyncio.wait_for(wake.wait(), timeout)
        except TimeoutError:
            return self.last_seq > after
        return True


class EventBus:
    """Run id -> RunLog, in memory (with the job queue, events also cross Redis streams)."""

    def __init__(self, buffer_size: int, history_points: int) -> None:
        self.buffer_size = buffer_size
        self.history_points = history_points
        self._logs: dict[str, RunLog] = {}

    def open(self, run_id: str) -> RunLog:
        log = self._logs.get(run_id)
        if log is None:
            log = self._logs[run_id] = RunLog(run_id, self.buffer_size, self.history_points)
        return log

    def get(self, run_id: str) -> RunLog | None:
        return self._logs.get(run_id)

    def publish(self, run_id: str, event: Event) -> bool:
        return self.open(run_id).append(event)

    def drop(self, run_id: str) -> None:
        log = self._logs.pop(run_id, None)
        if log is not None:
            log.close()
