"""Rate limit on creating runs: a token bucket per client address, in memory, or with
the queue executor a window shared by every web server in Redis (app.web.hosting.shared_limits).

A visitor id costs nothing to replace (drop the cookie), an address does, so the bucket
is keyed by the client address (behind a trusted proxy, the one it forwards:
app.web.hosting.proxies). Every endpoint that starts training (a run, a comparison, a race)
awaits `check_create_rate` or depends on `limit_creation`.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from app.web.common.deps import get_app_settings
from app.web.hosting.shared_limits import SharedWindow

MAX_CLIENTS = 10_000  # buckets kept; full (idle) buckets are dropped first


class TokenBucket:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = max(1, burst)
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 if a token was taken, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        tokens, at = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self.buckets[key] = (tokens - 1.0, now)
            self._prune(now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        if len(self.buckets) <= MAX_CLIENTS:
            return
        full = [
            k for k, (t, at) in self.buckets.items() if t + (now - at) * self.rate >= self.burst
        ]
        for key in full or list(self.buckets)[: len(self.buckets) // 2]:
            del self.buckets[key]


class LocalBucket:
    """The in-process limiter: one server, or several that need not share."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.bucket = TokenBucket(per_minute, burst)

    async def take(self, key: str) -> float:
        return self.bucket.take(key)


def _limiter(conn: HTTPConnection) -> LocalBucket | SharedWindow | None:
    settings = get_app_settings(conn)
    if settings.create_per_minute <= 0:
        return None
    limiter: LocalBucket | SharedWindow | None = getattr(conn.app.state, "create_limiter", None)
    if limiter is None:
        rate, burst = settings.create_per_minute, settings.create_burst
        if settings.executor == "queue":  # several servers: one count for all of them
            limiter = SharedWindow(settings.redis_url, settings.queue_prefix, rate, burst)
        else:
            limiter = LocalBucket(rate, burst)
        conn.app.state.create_limiter = limiter
    return limiter


async def check_create_rate(conn: HTTPConnection) -> float:
    """0.0 if this client may start a run now, else the seconds to wait."""
    limiter = _limiter(conn)
    if limiter is None:
        return 0.0
    return await limiter.take(conn.client.host if conn.client else "unknown")


def too_many_message(wait: float) -> str:
    return f"too many new runs from your address; try again in {math.ceil(wait)} s"


async def limit_creation(conn: HTTPConnection) -> None:
    """FastAPI dependency for endpoints that start training: 429 with Retry-After."""
    wait = await check_create_rate(conn)
    if wait > 0:
        raise HTTPException(
            429, too_many_message(wait), headers={"Retry-After": str(math.ceil(wait))}
        )
