"""The run manager: the runs' in-memory table, the queue, dispatch, executor events, ends.

It owns the runs' state (RunState, RunLog), the queue, the limits and the bookkeeping of
executor events; control, reads, artifacts and job kinds are components beside it, put
together by app.runs.service.front_door.RunService. Single-threaded on the event loop: the
database has its own thread (Store) and training happens in worker processes (Executor).
Runs that belong to a job (a comparison, a race) are handed to its JobRouter where their
behaviour differs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from app.nn.spec.base import error_list
from app.nn.spec.experiment import Spec, validate_spec
from app.runs.errors import Busy, Conflict, Invalid, NotFound, Unavailable
from app.runs.events.stream import TERMINAL, Event, EventBus, make_event, status_fields
from app.runs.execution.base import Executor, ExecutorSink, SharedExecutor
from app.runs.service.adoption import adopt, take_over
from app.runs.service.routing import JobRouter, NoJobs
from app.runs.service.state import (
    RunState,
    ended_summary,
    job_for,
)
from app.runs.service.viewers import ServiceStats, Viewers
from app.runs.store.runs import Store
from app.settings import Settings

log = logging.getLogger("app.runs")


class RunManager:
    def __init__(self, settings: Settings, store: Store, executor: Executor) -> None:
        self.settings = settings
        self.limits = settings.limits()
        self.store = store
        self.executor = executor
        self.bus = EventBus(settings.event_buffer, settings.history_points)
        self.runs: dict[str, RunState] = {}
        self.queue: deque[str] = deque()
        self.assigned: set[str] = set()  # runs an executor holds (training or paused)
        self.finished: deque[str] = deque()  # ended runs still in memory, oldest first
        self.deleted: dict[str, None] = {}  # recent deletions: hide them from racing reads
        self.ack_ids = itertools.count(1)
        self._checkpointer: asyncio.Task[None] | None = None
        self.closing = False
        self.viewers = Viewers(self.runs)  # sockets per run; idle runs are stopped (demo)
        self.stats = ServiceStats()  # counters for /metrics
        self.router: JobRouter = NoJobs()  # the job kinds' (app.runs.service.jobs)
        self.closers: list[Callable[[], Awaitable[None]]] = []  # before the store closes

    # ---- lifecycle --------------------------------------------------------------------
    async def start(self, sink: ExecutorSink) -> None:
        await self.store.open()
        await self.executor.start(sink)
        # Runs that other web servers or queue workers still hold are not ours to end.
        keep: set[str] = set()
        if isinstance(self.executor, SharedExecutor):
            keep = await self.executor.live_runs()
        await self.store.call(self.store.interrupt_unfinished, keep)
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoint_loop())

    async def close(self) -> None:
        self.closing = True
        if self._checkpointer is not None:
            self._checkpointer.cancel()
        for run in list(self.runs.values()):
            if run.active and not run.observed:
                when = (
                    "while this run was training" if run.status != "queued" else "before it started"
                )
                self.end(run, "interrupted", f"the server shut down {when}")
        await self.executor.close()
        for close in self.closers:
            await close()
        await self.store.close()

    # ---- creating runs ------------------------------------------------------------------
    def validate(self, data: Any) -> Spec:
        """The validated spec, or Invalid with field-level messages."""
        try:
            return validate_spec(data, self.limits)
        except ValidationError as exc:
            raise Invalid(error_list(exc)) from None
        except (RecursionError, ValueError, TypeError) as exc:
            raise Invalid([{"field": "spec", "message": f"invalid spec: {exc}"}]) from None

    async def create(self, data: Any, client: str, paused: bool = False) -> dict[str, Any]:
        spec = self.validate(data)
        steps = spec.total_steps()
        if self.closing:
            raise Unavailable("the server is shutting down")
        mine = sum(1 for r in self.runs.values() if r.active and r.client == client)
        if mine >= self.settings.max_runs_per_client:
            raise Busy(
                f"you already have {mine} runs queued or training (the limit is "
                f"{self.settings.max_runs_per_client}); stop one first"
            )
        if not (self.can_dispatch() and not self.queue) and (
            len(self.queue) >= self.settings.max_queued
        ):
            raise Busy("queue full, try again in a moment")
        run_id = uuid.uuid4().hex[:12]
        resolved = spec.model_dump(mode="json")
        run = RunState(run_id, client, resolved, time.time(), steps, self.bus.open(run_id))
        run.start_paused = paused
        run.position = len(self.queue) + 1
        self.runs[run_id] = run
        self.queue.append(run_id)
        first = make_event(run_id, 1, "status", status_fields("queued", None, run.position))
        run.log.append(first)
        self.store.submit(self.store.insert_run, run.row(), [first])
        self.stats.created += 1
        log.info("run created", extra={"run_id": run_id, "steps": steps})
        self.dispatch()
        return {"id": run_id, "status": run.status}

    # ---- dispatching --------------------------------------------------------------------
    def _max_training(self) -> int:
        # On a job queue the pool is its live workers (the local pool reports its size).
        pool = int(self.executor.info().get("pool") or 0)
        return self.settings.max_training_runs or pool or self.settings.worker_count()

    def can_dispatch(self) -> bool:
        return (
            not self.closing
            and len(self.assigned) < self._max_training()
            and self.executor.free_slots() > 0
        )

    def dispatch(self) -> None:
        moved = False
        while self.queue and self.can_dispatch():
            run = self.runs[self.queue.popleft()]
            moved = True
            self.executor.submit(self.router.complete_job(job_for(run, self.settings)))
            self.assigned.add(run.id)
            run.status = "paused" if run.start_paused else "running"
            run.position = None
        if moved:
            self._announce_positions()

    def _announce_positions(self) -> None:
        for index, run_id in enumerate(self.queue):
            run = self.runs[run_id]
            if run.position != index + 1:
                run.position = index + 1
                fields = status_fields("queued", None, run.position)
                run.log.append(make_event(run.id, run.log.last_seq + 1, "status", fields))

    # ---- executor callbacks (ExecutorSink) ----------------------------------------------
    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> None:
        if not self.router.on_event(run_id, meta, data):
            self.apply_event(run_id, meta, data)

    def apply_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> None:
        """A run's event into its log and the manager's bookkeeping (jobs call it too)."""
        run = self.runs.get(run_id)
        if run is None:
            return
        meta["received"] = time.monotonic()  # event lag = sent to a socket - received
        event = Event(int(meta["seq"]), str(meta["type"]), data, meta)
        if not run.log.append(event):
            return
        self.stats.events += 1
        if event.type == "metrics":
            step = int(meta.get("step") or 0)
            self.stats.add_steps(step - run.step)
            run.step = step
            run.epoch = float(meta.get("epoch") or 0)
        elif event.type == "start" and not run.observed:  # its owner stores an observed run
            self.store.submit(self.store.append, run.id, [event], {})
        elif event.type == "status":
            self._on_status(run, event)

    def _on_status(self, run: RunState, event: Event) -> None:
        meta = event.meta
        run.status, run.reason = meta["status"], meta.get("reason")
        updates: dict[str, Any] = {
            "status": run.status,
            "reason": run.reason,
            "last_seq": event.seq,
            "step": run.step,
        }
        if run.status in TERMINAL:
            self._finished(run, meta.get("summary"))
            return
        if run.started_at is None and run.status in ("running", "paused"):
            run.started_at = updates["started_at"] = time.time()
            log.info("run started", extra={"run_id": run.id, "status": run.status})
        if not run.observed:
            self.store.submit(self.store.append, run.id, [event], updates)

    def on_ack(self, run_id: str, meta: dict[str, Any]) -> None:
        run = self.runs.get(self.router.ack_target(run_id, meta))
        future = run.acks.pop(int(meta.get("id") or 0), None) if run else None
        if future is not None and not future.done():
            future.set_result(meta)

    def on_lost(self, run_id: str, reason: str) -> None:
        self.assigned.discard(run_id)
        run = self.runs.get(run_id)
        if run is not None and not run.terminal:
            self.end(run, "failed", reason)
        self.dispatch()

    def on_capacity(self) -> None:
        self.dispatch()

    # ---- ending -------------------------------------------------------------------------
    def end(self, run: RunState, status: str, reason: str) -> None:
        """End a run from here (not from its worker): failed, stopped in queue, shutdown."""
        fields = status_fields(status, reason, None, ended_summary(run, status, reason))
        event = make_event(run.id, run.log.last_seq + 1, "status", fields)
        self.on_event(run.id, event.meta, event.data)

    def _finished(self, run: RunState, summary: dict[str, Any] | None) -> None:
        run.summary, run.finished_at, run.position = summary, time.time(), None
        self.assigned.discard(run.id)
        self.stats.ended[run.status] += 1
        self.viewers.forget(run.id)
        extra = {"run_id": run.id, "status": run.status, "reason": run.reason, "step": run.step}
        log.info("run ended", extra=extra)
        with contextlib.suppress(ValueError):
            self.queue.remove(run.id)
        for future in run.acks.values():
            if not future.done():
                future.set_result({"ok": False, "error": f"the run has {run.status}"})
        run.acks.clear()
        if run.deleted:
            self.forget(run.id)
            self.store.submit(self.store.delete_run, run.id)
        else:
            if not run.observed:
                events = run.log.persistable()
                self.store.submit(self.store.replace_events, run.id, events, run.row())
            self.finished.append(run.id)
            while len(self.finished) > self.settings.keep_finished:
                self.forget(self.finished.popleft())
        self._announce_positions()

    def tombstone(self, run_id: str) -> None:
        self.deleted[run_id] = None
        while len(self.deleted) > 1000:
            del self.deleted[next(iter(self.deleted))]

    def forget(self, run_id: str) -> None:
        """Drop a run from memory; the store still answers for it (unless deleted)."""
        self.runs.pop(run_id, None)
        self.bus.drop(run_id)
        self.router.forget(run_id)

    async def _checkpoint_loop(self) -> None:
        """Persist the curves of training runs now and then: a crash keeps most of them."""
        while True:
            await asyncio.sleep(self.settings.checkpoint_seconds)
            for run in list(self.runs.values()):
                if run.status in ("running", "paused") and run.log.last_seq > run.checkpointed_seq:
                    self._checkpoint(run)

    def _checkpoint(self, run: RunState) -> None:
        if run.observed or self.router.checkpoint(run):
            return
        # Status and start events are already stored; add what is new since last time.
        done, run.checkpointed_seq = run.checkpointed_seq, run.log.last_seq
        new = [
            e
            for e in run.log.persistable()
            if e.seq > done and e.type not in ("status", "start", "snapshot")
        ]
        snapshot = run.log.snapshot if run.log.snapshot and run.log.snapshot.seq > done else None
        updates = {"step": run.step, "last_seq": run.log.last_seq}
        self.store.submit(self.store.checkpoint, run.id, new, snapshot, updates)

    # ---- finding and reaching runs ---------------------------------------------------------
    async def lookup(self, run_id: str) -> RunState | None:
        """The run in memory or, on a shared job queue, a live run another server started."""
        run = self.runs.get(run_id)
        return run if run is not None else await self.observe(run_id)

    async def known(self, run_id: str) -> RunState:
        """The live run, or Conflict if it exists only in the store (it has ended)."""
        run = await self.lookup(run_id)
        if run is not None and not run.deleted:
            return run
        row = await self.store.call(self.store.get_run, run_id)
        if row is None or run is not None:
            raise NotFound(f"no run {run_id!r}")
        raise Conflict(f"the run has {row['status']}")

    def send(self, run: RunState, message: dict[str, Any]) -> None:
        """A control message to the worker that holds the run (or its comparison)."""
        target, message = self.router.route(run, message)
        if not self.executor.control(target.id, message):
            raise Conflict(f"the run is {target.status} but no worker holds it")

    async def observe(self, run_id: str) -> RunState | None:
        """A live run another web server started on a shared job queue (see adoption.py)."""
        return None if self.closing else await adopt(self, run_id)

    async def take_over(self, take: list[str], gone: list[str]) -> list[str]:
        """The executor's report that a web server died (ExecutorSink.take_over)."""
        return await take_over(self, take, gone)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if not self.closing else "closing",
            "training": len(self.assigned),
            "queued": len(self.queue),
            "max_training": self._max_training(),
            **self.executor.info(),
        }
