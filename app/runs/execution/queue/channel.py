"""The worker side of one run on the job queue: the same `poll`/`send` channel the
worker's RunLoop uses over pipes, here over the run's two Redis streams.

Control messages are read by a background thread (a blocking XREAD), so the run loop's
frequent `poll(0)` costs a lock, not a network round trip. Events are XADDed as they are
emitted (~25 per second per run at most: the loop decimates). When Redis stays
unreachable, or the run was ended elsewhere (its lease was lost), the channel raises
`ParentGone` and the loop unwinds without emitting anything more.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Any

import redis

from app.runs.events.stream import TERMINAL
from app.runs.execution.queue.keys import Keys, entry
from app.runs.kinds.base import ParentGone

log = logging.getLogger(__name__)
READ_BLOCK_MS = 500


class RedisChannel:
    def __init__(
        self, client: redis.Redis, keys: Keys, run_id: str, maxlen: int, patience: float
    ) -> None:
        self.client, self.run_id = client, run_id
        self.ev_key, self.ctl_key = keys.events(run_id), keys.control(run_id)
        self.maxlen = maxlen
        self.patience = patience  # seconds of Redis trouble before we give the run up
        self.inbox: deque[dict[str, Any]] = deque()
        self.cond = threading.Condition()
        self.gone: str | None = None
        self.closed = False
        self.last_seq = 0  # of the events sent so far
        self.ended = False  # the run's terminal status event was sent
        self.reader = threading.Thread(target=self._read_controls, daemon=True)

    def start(self) -> RedisChannel:
        self.reader.start()
        return self

    def close(self) -> None:
        self.closed = True
        self.reader.join(READ_BLOCK_MS / 1000 * 4)

    # ---- the RunLoop's side -----------------------------------------------------------
    def poll(self, timeout: float | None) -> list[dict[str, Any]]:
        with self.cond:
            if not self.inbox and self.gone is None and timeout != 0:
                self.cond.wait(timeout)
            if self.gone is not None:
                raise ParentGone(self.gone)
            out = list(self.inbox)
            self.inbox.clear()
            return out

    def send(self, meta: dict[str, Any], data: bytes = b"") -> None:
        if self.gone is not None:
            raise ParentGone(self.gone)
        deadline = time.monotonic() + self.patience
        while True:
            try:
                self.client.xadd(self.ev_key, entry(meta, data), maxlen=self.maxlen)  # type: ignore[arg-type]
                break
            except redis.RedisError as exc:
                if time.monotonic() > deadline:
                    self.give_up(f"cannot reach Redis: {exc}")
                    raise ParentGone(self.gone) from None
                time.sleep(0.2)
        if meta.get("kind") == "event":
            self.last_seq = int(meta["seq"])
            self.ended = self.ended or meta.get("status") in TERMINAL

    # ---- the worker's side ------------------------------------------------------------
    def give_up(self, why: str) -> None:
        """The run is over for us (ended elsewhere, Redis gone): unwind the loop."""
        with self.cond:
            if self.gone is None:
                self.gone = why
            self.cond.notify_all()

    def inject(self, message: dict[str, Any]) -> None:
        """A control message from the worker itself (a stop when it shuts down)."""
        with self.cond:
            self.inbox.append({**message, "run_id": self.run_id})
            self.cond.notify_all()

    def _read_controls(self) -> None:
        last = "0-0"  # from the start: controls sent before a worker took the job count
        failing_since: float | None = None
        while not self.closed and self.gone is None:
            try:
                reply: Any = self.client.xread({self.ctl_key: last}, count=100, block=READ_BLOCK_MS)
                failing_since = None
            except redis.RedisError as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > self.patience:
                    self.give_up(f"cannot reach Redis: {exc}")
                    return
                time.sleep(0.2)
                continue
            messages = []
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    try:
                        messages.append(json.loads(fields.get(b"m") or b"{}"))
                    except ValueError:
                        log.warning("run %s: unreadable control message %r", self.run_id, fields)
            if messages:
                with self.cond:
                    self.inbox.extend(messages)
                    self.cond.notify_all()
