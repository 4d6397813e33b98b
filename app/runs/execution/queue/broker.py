"""The Dramatiq side of the queue: one Redis broker, one actor ("train_run") on one queue.

Dramatiq carries a job to exactly one worker process (acknowledged when the job
returns; a dead worker's unacknowledged messages go back to the queue, which our claim
script then refuses: a run is never trained twice). Its middleware for time limits and
retries is left out on purpose: a run enforces its own time limits between steps (and
may be paused for minutes), and a failed run is reported, not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from app.runs.execution.queue.keys import Keys

QUEUE = "runs"
ACTOR = "train_run"


def make_broker(
    url: str, keys: Keys, client: redis.Redis | None = None, heartbeat_ms: int = 3_600_000
) -> RedisBroker:
    # Dramatiq requeues the messages of a worker silent for heartbeat_ms, and a worker
    # busy with a run (prefetch 1) sends nothing: an hour outlasts any run (its limits are
    # minutes). Dead workers are our leases' business; a late redelivery is refused.
    client = client or redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    broker = RedisBroker(
        client=client, namespace=keys.dramatiq, middleware=[], heartbeat_timeout=heartbeat_ms
    )
    broker.declare_queue(QUEUE)
    return broker


def enqueue(broker: RedisBroker, job: dict[str, Any]) -> None:
    """Send a job without importing the worker's code (the web tier has no actor)."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=QUEUE, actor_name=ACTOR, args=(job,), kwargs={}, options={}
    )
    broker.enqueue(message)


def declare_actor(broker: RedisBroker, fn: Callable[[dict[str, Any]], None]) -> Any:
    return dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=QUEUE)(fn)
