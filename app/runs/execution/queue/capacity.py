"""What the queue's workers can take right now, read from their Redis registry.

Each worker keeps `{p}:worker:{id}` alive (a JSON object with its host, pid and the run
it holds, renewed every lease/3 and rewritten at once when it takes or ends a job); a
key that expired is a dead worker, pruned from `{p}:workers` by whoever notices.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from app.runs.execution.queue.keys import Keys


@dataclass
class Capacity:
    workers: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0  # jobs submitted (by any web server) that no worker took yet
    errors: list[dict[str, Any]] = field(default_factory=list)  # workers that failed to start
    at: float = 0.0

    @property
    def busy(self) -> int:
        return sum(1 for w in self.workers if w.get("run"))

    @property
    def idle(self) -> int:
        return len(self.workers) - self.busy


async def read_capacity(client: aioredis.Redis, keys: Keys, error_window: float) -> Capacity:
    members = await client.smembers(keys.workers)
    ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
    values = await client.mget([keys.worker(i) for i in ids]) if ids else []
    workers, dead = [], []
    for worker_id, raw in zip(ids, values, strict=True):
        if raw is None:
            dead.append(worker_id)
            continue
        try:
            workers.append({"id": worker_id, **json.loads(raw)})
        except ValueError:
            dead.append(worker_id)
    if dead:
        await client.srem(keys.workers, *dead)
    pending = int(await client.scard(keys.pending))
    since = int((time.time() - error_window) * 1000)
    raw_errors: Any = await client.xrevrange(keys.worker_errors, "+", f"{since}-0", count=5)
    errors = []
    for _, fields in raw_errors:
        try:
            errors.append(json.loads(fields.get(b"m") or b"{}"))
        except ValueError:
            continue
    return Capacity(workers, pending, errors, time.monotonic())
