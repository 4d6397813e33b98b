"""Who may ask a run for its weights or its loss landscape, and how often.

A live run (queued, running, paused) answers these from its own worker, between training
steps: a landscape is up to 41² loss evaluations, during which the run does not train. So
when ownership is enforced (demo mode) only the run's visitor may ask a live run; anyone
may ask an ended run, whose landscape is computed by the separate landscape pool (capped
by `landscape_queue`) and whose weights are read from the store. No viewer can slow a run
it does not own. On top of that, landscapes are rate limited per address
(`landscape_per_minute`; on in demo mode) so one visitor cannot hold the landscape pool.
"""

from __future__ import annotations

import math

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from app.runs.errors import Forbidden
from app.web.common.deps import get_app_settings, get_service
from app.web.hosting.ownership import may_control
from app.web.hosting.ratelimit import TokenBucket

LIVE = ("queued", "running", "paused")
NOT_WHILE_LIVE = (
    "this run belongs to another visitor and is still training: its worker computes "
    "weights and landscapes between its steps, so only its creator may ask now; anyone "
    "may once it has ended"
)


async def live_owner_only(conn: HTTPConnection, run_id: str) -> None:
    """FastAPI dependency: 403 for another visitor's live run (owner_only); 404 unknown."""
    if not get_app_settings(conn).owner_only:
        return
    run = await get_service(conn).get(run_id)
    if run["status"] in LIVE and not await may_control(conn, run_id):
        raise Forbidden(NOT_WHILE_LIVE)


def _bucket(conn: HTTPConnection) -> TokenBucket | None:
    settings = get_app_settings(conn)
    if settings.landscape_per_minute <= 0:
        return None
    bucket: TokenBucket | None = getattr(conn.app.state, "landscape_bucket", None)
    if bucket is None:
        bucket = TokenBucket(settings.landscape_per_minute, settings.landscape_burst)
        conn.app.state.landscape_bucket = bucket
    return bucket


async def limit_landscapes(conn: HTTPConnection) -> None:
    """FastAPI dependency: 429 with Retry-After beyond `landscape_per_minute` per address."""
    bucket = _bucket(conn)
    if bucket is None:
        return
    wait = bucket.take(conn.client.host if conn.client else "unknown")
    if wait > 0:
        raise HTTPException(
            429,
            f"too many landscapes from your address; try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
