"""The creation rate limit shared by every web server of a deployment (queue executor).

With several web servers behind one balancer a per-process bucket lets N servers allow
N times the limit, so with `executor = "queue"` the counters live in the queue's Redis,
kept by the `limits` library (its Lua scripts make each check one atomic round trip).
Its moving window admits `create_burst` runs in any `create_burst / rate` seconds: the
same burst and the same long-run rate as the local token bucket (app.web.hosting.ratelimit).

If Redis cannot be reached the limit lets the request through: a run cannot start
without Redis anyway, and the reason is on /healthz; refusing every visitor would be
a worse failure than not counting for a while.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

log = logging.getLogger(__name__)
WARN_EVERY = 60.0  # seconds between "Redis unreachable" warnings


class SharedWindow:
    def __init__(self, redis_url: str, prefix: str, per_minute: float, burst: int) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        burst = max(1, burst)
        window = max(1, math.ceil(burst * 60.0 / per_minute))
        self.item = RateLimitItemPerSecond(burst, window)
        # redis-py's asyncio client (the queue extra has it): no second Redis library.
        self.storage: Any = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            key_prefix=f"{prefix}:ratelimit",
            wrap_exceptions=True,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._warned = -math.inf

    async def take(self, key: str) -> float:
        """0.0 if a run may start now, else the seconds until one may."""
        from limits.errors import StorageError

        try:
            if await self.limiter.hit(self.item, "create", key):
                return 0.0
            stats = await self.limiter.get_window_stats(self.item, "create", key)
        except StorageError as exc:
            now = time.monotonic()
            if now - self._warned > WARN_EVERY:
                self._warned = now
                log.warning("rate limit not counted: Redis unreachable (%s)", exc)
            return 0.0
        return max(0.001, stats.reset_time - time.time())
