"""Rate limit on creating runs: a token bucket per client address, in memory.

A visitor id costs nothing to replace (drop the cookie), an address does, so the bucket
is keyed by the peer address (uvicorn resolves X-Forwarded-For for trusted proxies).
Every endpoint that starts training (a run, a comparison, a race) calls
`check_create_rate` or depends on `limit_creation`.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from app.web.common.deps import get_app_settings

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


def _bucket(conn: HTTPConnection) -> TokenBucket | None:
    settings = get_app_settings(conn)
    if settings.create_per_minute <= 0:
        return None
    bucket: TokenBucket | None = getattr(conn.app.state, "create_bucket", None)
    if bucket is None:
        bucket = TokenBucket(settings.create_per_minute, settings.create_burst)
        conn.app.state.create_bucket = bucket
    return bucket


def check_create_rate(conn: HTTPConnection) -> float:
    """0.0 if this client may start a run now, else the seconds to wait."""
    bucket = _bucket(conn)
    if bucket is None:
        return 0.0
    return bucket.take(conn.client.host if conn.client else "unknown")


def too_many_message(wait: float) -> str:
    return f"too many new runs from your address; try again in {math.ceil(wait)} s"


async def limit_creation(conn: HTTPConnection) -> None:
    """FastAPI dependency for endpoints that start training: 429 with Retry-After."""
    wait = check_create_rate(conn)
    if wait > 0:
        raise HTTPException(
            429, too_many_message(wait), headers={"Retry-After": str(math.ceil(wait))}
        )
