"""Reads and writes of the queue's shared records that the web tier needs (async)."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from app.runs.events.stream import make_event, status_fields
from app.runs.execution.queue.keys import Keys, entry, parse_entry


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def owned_active(runs: dict[str, Any] | None) -> list[str]:
    """The manager's active runs that this server owns (not the ones it observes)."""
    return [
        run_id
        for run_id, run in (runs or {}).items()
        if getattr(run, "active", False) and not getattr(run, "observed", False)
    ]


async def live_runs(client: aioredis.Redis, keys: Keys, me: str) -> set[str]:
    """Runs that other live web servers hold (queued ones too) or whose worker lease is
    alive: a web server starting up must not mark them interrupted."""
    live: set[str] = set()
    for raw in await client.smembers(keys.instances):
        name = text(raw)
        value = await client.get(keys.instance(name))
        if value is not None and name != me:
            live.update(json.loads(value).get("runs", []))
    for raw in await client.smembers(keys.runs):
        run_id = text(raw)
        if await client.exists(keys.lease(run_id)):
            live.add(run_id)
    return live


async def stream_last_seq(client: aioredis.Redis, keys: Keys, run_id: str) -> int:
    entries: Any = await client.xrevrange(keys.events(run_id), count=50)
    for _, fields in entries or []:
        meta, _, _ = parse_entry(fields or {})
        if meta.get("kind") == "event":
            return int(meta.get("seq") or 0)
    return 0


async def write_failure(
    client: aioredis.Redis,
    keys: Keys,
    run_id: str,
    after: int,
    progress: dict[str, Any],
    reason: str,
    maxlen: int,
) -> None:
    """Append a run's terminal `failed` event (numbered after anything in its stream)."""
    seq = max(after, await stream_last_seq(client, keys, run_id)) + 1
    summary = {"status": "failed", "reason": reason, **progress}
    summary.update(best_epoch=None, final=None, seconds=None)
    event = make_event(run_id, seq, "status", status_fields("failed", reason, None, summary))
    meta = {"kind": "event", "run_id": run_id, **event.meta}
    await client.xadd(keys.events(run_id), entry(meta, event.data), maxlen=maxlen)  # type: ignore[arg-type]


async def claim_orphans(client: aioredis.Redis, keys: Keys, me: str) -> tuple[list[str], list[str]]:
    """Runs of web servers that died: (still on the queue: now ours, not on it any more).
    Removing the dead server from the set decides which survivor takes its runs."""
    take: list[str] = []
    gone: list[str] = []
    for raw in await client.smembers(keys.instances):
        name = text(raw)
        if name == me or await client.exists(keys.instance(name)):
            continue
        if not await client.srem(keys.instances, name):
            continue  # another server was faster
        listed = await client.get(keys.instance_runs(name))
        await client.delete(keys.instance_runs(name))
        for run_id in json.loads(listed or "{}").get("runs", []):
            state = await client.hget(keys.job(run_id), "state")
            if state in (b"submitted", b"claimed"):
                await client.hset(keys.job(run_id), "owner", me)
                take.append(run_id)
            else:
                gone.append(run_id)
    return take, gone
