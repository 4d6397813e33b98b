"""QueueExecutor: the Executor protocol over a Dramatiq job queue and Redis Streams.

`submit` records the job in Redis and enqueues it (Dramatiq hands it to one `backprop
worker`); the run's events come back on its own stream, read by one task per run and
handed to the sink like the local pool's pipe frames. Controls go out on the run's
control stream through one writer task, in order. A monitor task renews this web
server's presence, reads the workers' capacity and checks the jobs it owns: a claimed
job whose worker lease expired, or one no worker took in time, fails with a terminal
event written to the run's stream, so every server following the run sees the same end.

Several web servers may share the queue: a run belongs to (is stored by) the one that
created it, others `observe` it (app.runs.service.adoption) and take it over if its server dies.
Replies to requests (`id` in a control) are tagged with this server's id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import redis
import redis.asyncio as aioredis

from app.runs.events.stream import TERMINAL
from app.runs.execution.base import ExecutorSink
from app.runs.execution.queue import broker as queue_broker
from app.runs.execution.queue import records
from app.runs.execution.queue.capacity import Capacity, read_capacity
from app.runs.execution.queue.follow import Follow
from app.runs.execution.queue.keys import END_IF, RELEASE, Keys, parse_entry
from app.settings import Settings

log = logging.getLogger(__name__)
ERROR_WINDOW = 3600.0  # worker start failures /healthz still reports (seconds)
DAY_MS = 86_400_000


class QueueExecutor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = Keys(settings.queue_prefix)
        self.instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.lease = settings.queue_lease_seconds
        self.tick = max(0.1, min(0.5, self.lease / 5))
        self.redis: aioredis.Redis | None = None
        self.broker: Any = None
        self.sink: ExecutorSink | None = None
        self.follows: dict[str, Follow] = {}
        self.capacity = Capacity()
        self.taken = 0  # jobs submitted since the capacity was read
        self.freed = 0  # our runs that ended since then (their workers are freeing up)
        self.up = False
        self.error: str | None = "not connected yet"
        self.down_since: float | None = None
        self.controls: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closing = False

    # ---- lifecycle ------------------------------------------------------------------
    async def start(self, sink: ExecutorSink) -> None:
        self.sink = sink
        url = self.settings.redis_url
        self.redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        self.broker = queue_broker.make_broker(url, self.keys, client=client)
        self.controls = asyncio.Queue()
        self.down_since = time.monotonic()
        await self._refresh()  # a first look; an unreachable Redis is reported, not raised
        self._spawn(self._monitor())
        self._spawn(self._write_controls())

    async def close(self) -> None:
        self.closing = True
        owned = [f for f in self.follows.values() if f.owner and not f.ended]
        if self.redis is not None and self.up:
            with contextlib.suppress(redis.RedisError, OSError):
                for f in owned:  # the manager marked them interrupted: free their workers
                    await self._end_job(f.run_id, "any")
                    await self._release(f.run_id)
                await self.redis.delete(self.keys.instance(self.instance))
                await self.redis.srem(self.keys.instances, self.instance)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()
        if self.broker is not None:
            await asyncio.to_thread(self.broker.close)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # ---- the executor protocol ----------------------------------------------------------
    def free_slots(self) -> int:
        if not self.up:
            return 0
        return max(0, self.capacity.idle - self.capacity.pending - self.taken + self.freed)

    def submit(self, job: dict[str, Any]) -> None:
        follow = self._follow(job["run_id"], owner=True, last_seq=int(job["seq"]) - 1)
        self.taken += 1
        self._spawn(self._submit(follow, job))

    def control(self, run_id: str, message: dict[str, Any]) -> bool:
        follow = self.follows.get(run_id)
        if follow is None or follow.ended or self.closing or self.controls is None:
            return False
        msg = {**message, "run_id": run_id}
        if msg.get("id") is not None:  # a request: its reply must come back to us
            msg["id"] = f"{self.instance}:{msg['id']}"
        self.controls.put_nowait((run_id, msg))
        return True

    def info(self) -> dict[str, Any]:
        cap = self.capacity
        return {
            "executor": "queue",
            "redis": "ok" if self.up else f"unreachable: {self.error}",
            "instance": self.instance,
            "pool": len(cap.workers),
            "ready": len(cap.workers),
            "busy": cap.busy,
            "pending": cap.pending,
            "pids": [w.get("pid") for w in cap.workers],
            "workers": cap.workers,
            "worker_errors": cap.errors,
        }

    # ---- shared with other web servers (app.runs.service.adoption.SharedExecutor) ----------------
    def observe(self, run_id: str, last_seq: int, resync: Callable[[], Awaitable[None]]) -> bool:
        """Stream a run another web server owns into the sink (events after last_seq)."""
        if self.closing:
            return False
        if run_id not in self.follows:
            self._follow(run_id, owner=False, last_seq=last_seq).resync = resync
        return True

    async def live_runs(self) -> set[str]:
        """Runs other web servers or workers still hold (not to be marked interrupted)."""
        if self.redis is None or not self.up:
            return set()
        try:
            return await records.live_runs(self.redis, self.keys, self.instance)
        except (redis.RedisError, ValueError) as exc:
            log.warning("could not read the queue's live runs: %s", exc)
            return set()

    # ---- submitting and following -------------------------------------------------------
    def _follow(self, run_id: str, owner: bool, last_seq: int) -> Follow:
        follow = Follow(run_id, owner, last_seq)
        self.follows[run_id] = follow
        follow.task = self._spawn(self._read(follow))
        return follow

    async def _submit(self, follow: Follow, job: dict[str, Any]) -> None:
        assert self.redis is not None
        run_id = follow.run_id
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(
                self.keys.job(run_id),
                mapping={
                    "state": "submitted",
                    "owner": self.instance,
                    "seq": job["seq"],
                    "submitted_at": time.time(),
                },
            )
            pipe.sadd(self.keys.runs, run_id)
            pipe.sadd(self.keys.pending, run_id)
            await pipe.execute()
            await self._announce()  # now, not at the next tick: we might die before it
            await asyncio.to_thread(queue_broker.enqueue, self.broker, job)
            follow.submitted = True
        except (redis.RedisError, OSError) as exc:
            self._drop(follow)
            with contextlib.suppress(redis.RedisError, OSError):
                await self._release(run_id)
            self._sink().on_lost(run_id, f"could not queue the run: Redis unreachable ({exc})")

    async def _read(self, follow: Follow) -> None:
        assert self.redis is not None
        key, last = self.keys.events(follow.run_id), "0-0"
        while not follow.ended and not self.closing:
            try:
                reply: Any = await self.redis.xread({key: last}, count=256, block=1000)
            except (redis.RedisError, OSError):
                await asyncio.sleep(self.tick)  # the monitor reports the outage
                continue
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    self._deliver(follow, fields)
                    if follow.ended:
                        return

    def _deliver(self, follow: Follow, fields: dict[Any, Any]) -> None:
        sink = self._sink()
        meta, data, _ = parse_entry(fields)
        kind, run_id = meta.get("kind"), follow.run_id
        if kind == "event":
            seq = int(meta.get("seq") or 0)
            if seq <= follow.last_seq:
                return
            follow.last_seq = seq
            if meta.get("type") == "metrics":
                follow.step = int(meta.get("step") or 0)
                follow.epoch = float(meta.get("epoch") or 0.0)
            terminal = meta.get("type") == "status" and meta.get("status") in TERMINAL
            follow.ended = follow.ended or terminal
            sink.on_event(run_id, meta, data)
            if terminal:
                self._drop(follow)
                if follow.owner:
                    self.freed += 1
                    self._spawn(self._release_quietly(run_id))
                    sink.on_capacity()
        elif kind in ("ack", "artifact"):
            request = meta.get("id")
            if request is not None:
                instance, _, number = str(request).rpartition(":")
                if instance != self.instance or not number.isdigit():
                    return  # another web server asked
                meta = {**meta, "id": int(number)}
            elif not follow.owner:
                return  # unasked artifacts (final weights) are stored by the owner
            if kind == "ack":
                sink.on_ack(run_id, meta)
            else:
                on_artifact = getattr(sink, "on_artifact", None)
                if on_artifact is not None:
                    on_artifact(run_id, meta, data)

    def _drop(self, follow: Follow) -> None:
        follow.ended = True
        if self.follows.get(follow.run_id) is follow:
            del self.follows[follow.run_id]
        if follow.task is not None and follow.task is not asyncio.current_task():
            follow.task.cancel()

    async def _write_controls(self) -> None:
        assert self.redis is not None and self.controls is not None
        while True:
            run_id, msg = await self.controls.get()
            for attempt in range(10):
                try:
                    fields = {"m": json.dumps(msg, separators=(",", ":"))}
                    await self.redis.xadd(self.keys.control(run_id), fields, maxlen=1000)  # type: ignore[arg-type]
                    break
                except (redis.RedisError, OSError) as exc:
                    if attempt == 9:
                        log.warning("control %s for run %s lost: %s", msg.get("op"), run_id, exc)
                    await asyncio.sleep(0.2)

    # ---- the monitor ----------------------------------------------------------------
    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self._refresh()
            except Exception:  # a bug must not stop the leases being watched
                log.exception("job queue monitor")

    async def _refresh(self) -> None:
        assert self.redis is not None
        try:
            await self._announce()
            capacity = await read_capacity(self.redis, self.keys, ERROR_WINDOW)
            await self._check_jobs()
            take, gone = await records.claim_orphans(self.redis, self.keys, self.instance)
            if take or gone:
                self._spawn(self._take_over(take, gone))
        except (redis.RedisError, OSError) as exc:
            self._down(exc)
            return
        self.capacity, self.taken, self.freed = capacity, 0, 0
        if not self.up:
            url, count = self.settings.redis_url, len(capacity.workers)
            log.info("job queue reachable at %s (%d workers)", url, count)
        self.up, self.error, self.down_since = True, None, None
        if self.free_slots() > 0 and self.sink is not None:
            self.sink.on_capacity()

    async def _announce(self) -> None:
        """This web server is alive, with these runs (for whoever takes over if it dies)."""
        assert self.redis is not None
        owned = records.owned_active(getattr(self.sink, "runs", None))
        presence = json.dumps({"runs": owned, "pid": os.getpid()})
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.keys.instance(self.instance), presence, px=int(self.lease * 3000))
        pipe.set(self.keys.instance_runs(self.instance), presence, px=DAY_MS)
        pipe.sadd(self.keys.instances, self.instance)
        await pipe.execute()

    def _down(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.up or self.down_since is None:
            log.warning("job queue unreachable at %s: %s", self.settings.redis_url, exc)
            self.down_since = now
        self.up, self.error, self.capacity = False, str(exc) or type(exc).__name__, Capacity()
        if now - self.down_since < self.lease * 3:
            return
        for follow in [f for f in self.follows.values() if f.owner]:
            self._drop(follow)  # its worker cannot report either: give the run up
            reason = f"lost contact with the job queue for {now - self.down_since:.0f} s ({exc})"
            self._sink().on_lost(follow.run_id, reason)

    async def _take_over(self, take: list[str], gone: list[str]) -> None:
        """A web server died: its runs still on the queue become ours (we store them from
        now on), the others are marked interrupted (the sink's take_over)."""
        log.warning("a web server went away: taking over %s, interrupting %s", take, gone)
        for run_id in await self._sink().take_over(take, gone):
            follow = self.follows.get(run_id)
            if follow is not None:
                follow.owner = follow.submitted = True

    async def _check_jobs(self) -> None:
        assert self.redis is not None
        now, start_timeout = time.time(), self.settings.queue_start_timeout
        for follow in list(self.follows.values()):
            if follow.ended or (follow.owner and not follow.submitted):
                continue
            state, submitted_at = await self.redis.hmget(
                self.keys.job(follow.run_id), ["state", "submitted_at"]
            )
            if not follow.owner:
                if state is None and follow.resync is not None and now - follow.resynced_at > 1:
                    follow.resynced_at = now  # not on the queue (yet, or any more): the store
                    await follow.resync()
                continue
            waited = now - float(submitted_at or now)
            if state is None:
                await self._fail(follow, "the job queue lost this run (Redis was restarted)")
            elif state == b"claimed" and not await self.redis.exists(
                self.keys.lease(follow.run_id)
            ):
                if await self._end_job(follow.run_id, "lost"):
                    why = f"no heartbeat for {self.lease:g} s"
                    await self._fail(follow, f"the worker training this run stopped ({why})")
            elif state == b"ended":  # its terminal event should be on its way
                follow.ended_at = follow.ended_at or now
                if now - follow.ended_at > self.lease:
                    await self._fail(follow, "the worker gave this run up without a final status")
            elif (
                state == b"submitted"
                and waited > start_timeout
                and await self._end_job(follow.run_id, "unclaimed")
            ):
                wait = f"{start_timeout:g} s"
                await self._fail(follow, f"no worker took this run within {wait} (see /healthz)")

    async def _end_job(self, run_id: str, mode: str) -> bool:
        assert self.redis is not None
        keys = [self.keys.job(run_id), self.keys.lease(run_id), self.keys.pending]
        return bool(await self.redis.eval(END_IF, 3, *keys, mode, self.instance, run_id))

    async def _fail(self, follow: Follow, reason: str) -> None:
        """End a run here: its terminal event goes to the stream, for every follower."""
        assert self.redis is not None
        progress = {"step": follow.step, "epoch": follow.epoch}
        maxlen = self.settings.queue_stream_len
        await records.write_failure(
            self.redis, self.keys, follow.run_id, follow.last_seq, progress, reason, maxlen
        )
        log.warning("run %s failed: %s", follow.run_id, reason)

    async def _release(self, run_id: str) -> None:
        assert self.redis is not None
        ttl = int(self.settings.queue_retention_seconds)
        await self.redis.eval(RELEASE, 6, *self.keys.run_keys(run_id), run_id, self.instance, ttl)

    async def _release_quietly(self, run_id: str) -> None:
        with contextlib.suppress(redis.RedisError, OSError):
            await self._release(run_id)

    def _sink(self) -> ExecutorSink:
        assert self.sink is not None
        return self.sink
