"""What a web server knows of one run it follows on the job queue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(eq=False)
class Follow:
    run_id: str
    owner: bool  # this web server created (and persists) the run
    last_seq: int
    step: int = 0
    epoch: float = 0.0
    submitted: bool = False  # its job is recorded in Redis
    ended: bool = False
    task: asyncio.Task[None] | None = None
    resync: Callable[[], Awaitable[None]] | None = None  # observers: catch up from the store
    resynced_at: float = 0.0
    ended_at: float | None = None  # when its job was first seen ended (without an end here)
