"""Where runs execute. The manager talks to an `Executor`; the web layer never does.

`LocalExecutor` keeps a pool of pre-started worker processes. They come from a
forkserver with torch, torch._dynamo and the engine preloaded (fork after torch ran a
threaded op hangs children; a fresh interpreter would pay ~2 s of imports per worker).
Each worker has two pipes: framed control messages in, framed events out. The events
pipe is read by the event loop without blocking (asyncio read-pipe transport); its EOF
is how a dead worker is noticed, whatever killed it. The job queue's executor
(app.runs.execution.queue) keeps the same protocol (app.runs.execution.base).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from app.runs.execution import wire
from app.runs.execution.base import ExecutorSink
from app.runs.execution.worker import worker_main
from app.settings import Settings

log = logging.getLogger(__name__)
PRELOAD = ["torch", "torch._dynamo", "app.nn.training.trainer", "app.runs.execution.worker"]


def describe_exit(code: int | None) -> str:
    if code is None:
        return "it stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit code {code}"


@dataclass(eq=False)
class _Worker:
    slot: int
    proc: BaseProcess
    ctrl: asyncio.WriteTransport | None = None
    events: asyncio.BaseTransport | None = None
    pid: int | None = None
    ready: bool = False
    dead: bool = False
    run_id: str | None = None
    greeted: bool = False  # said hello once (a worker dying at start is retried slowly)


class _EventsProtocol(asyncio.Protocol):
    def __init__(self, executor: LocalExecutor, worker: _Worker) -> None:
        self.executor, self.worker = executor, worker
        self.decoder = wire.Decoder()

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except (wire.WireError, ValueError):
            self.worker.proc.kill()  # a corrupt stream: treat like a crash
            return
        for meta, payload in frames:
            self.executor._on_frame(self.worker, meta, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.executor._on_exit(self.worker)


class LocalExecutor:
    """A pool of worker processes on this machine, one run per worker at a time."""

    def __init__(self, settings: Settings) -> None:
        self.size = settings.worker_count()
        self.nice = settings.worker_nice
        self.threads = settings.torch_threads
        self.workers: list[_Worker | None] = [None] * self.size
        self.sink: ExecutorSink | None = None
        self.closing = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ctx = multiprocessing.get_context("forkserver")
        self._backoff = [0.0] * self.size

    # ---- lifecycle ------------------------------------------------------------------
    async def start(self, sink: ExecutorSink) -> None:
        self.sink = sink
        self._ctx.set_forkserver_preload(PRELOAD)
        for slot in range(self.size):  # in the background: the server answers meanwhile
            self._spawn_later(slot, 0.0)

    def _spawn_later(self, slot: int, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._spawn(slot, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn(self, slot: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self.closing:
            return
        try:
            proc, ctrl_w, events_r = await asyncio.to_thread(self._start_process, slot)
        except Exception:  # e.g. the forkserver could not start: retry, slower each time
            log.exception("could not start worker %d", slot)
            self._backoff[slot] = min(30.0, max(0.5, self._backoff[slot] * 2))
            self._spawn_later(slot, self._backoff[slot])
            return
        worker = _Worker(slot, proc, pid=proc.pid)
        self.workers[slot] = worker
        loop = asyncio.get_running_loop()
        worker.ctrl, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, ctrl_w)
        worker.events, _ = await loop.connect_read_pipe(
            lambda: _EventsProtocol(self, worker), events_r
        )
        if self.closing:
            self._stop_worker(worker)

    def _start_process(self, slot: int) -> tuple[BaseProcess, Any, Any]:
        ctrl_r, ctrl_w = self._ctx.Pipe(duplex=False)
        events_r, events_w = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=worker_main,
            args=(ctrl_r, events_w, self.nice, self.threads, os.getpid()),
            name=f"playground-worker-{slot}",
            daemon=True,
        )
        proc.start()
        ctrl_r.close()  # the child has its own copies; ours would hide its EOF
        events_w.close()
        return proc, ctrl_w, events_r

    async def close(self) -> None:
        self.closing = True
        for task in list(self._tasks):
            task.cancel()
        workers = [w for w in self.workers if w is not None]
        for worker in workers:
            self._stop_worker(worker)
        await asyncio.to_thread(self._reap, [w.proc for w in workers])

    def _stop_worker(self, worker: _Worker) -> None:
        if worker.ctrl is not None and not worker.ctrl.is_closing():
            worker.ctrl.write(wire.encode({"op": "exit"}))
            worker.ctrl.close()

    @staticmethod
    def _reap(procs: list[BaseProcess]) -> None:
        for proc in procs:
            proc.join(2.0)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)

    # ---- messages from workers --------------------------------------------------------
    def _on_frame(self, worker: _Worker, meta: dict[str, Any], data: bytes) -> None:
        assert self.sink is not None
        kind = meta.get("kind")
        if kind == "event" and worker.run_id is not None:
            self.sink.on_event(worker.run_id, meta, data)
        elif kind == "ack" and worker.run_id is not None:
            self.sink.on_ack(worker.run_id, meta)
        elif kind == "artifact" and worker.run_id is not None:  # weights, landscapes
            self.sink.on_artifact(worker.run_id, meta, data)
        elif kind == "idle":
            worker.run_id = None
            self.sink.on_capacity()
        elif kind == "hello":
            worker.ready = worker.greeted = True
            self.sink.on_capacity()

    def _on_exit(self, worker: _Worker) -> None:
        if worker.dead:
            return
        worker.dead = True
        worker.ready = False
        if worker.ctrl is not None:
            worker.ctrl.close()
        task = asyncio.get_running_loop().create_task(self._after_exit(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_exit(self, worker: _Worker) -> None:
        await asyncio.to_thread(worker.proc.join, 2.0)
        run_id, worker.run_id = worker.run_id, None
        if self.closing:
            return
        if run_id is not None and self.sink is not None:
            why = describe_exit(worker.proc.exitcode)
            self.sink.on_lost(run_id, f"the worker process training this run died ({why})")
        # A worker that dies before saying hello (broken environment) is retried slowly.
        delay = 0.0 if worker.greeted else min(30.0, max(0.5, self._backoff[worker.slot] * 2))
        self._backoff[worker.slot] = delay
        self._spawn_later(worker.slot, delay)

    # ---- the executor protocol ----------------------------------------------------------
    def _free(self) -> list[_Worker]:
        return [w for w in self.workers if w and w.ready and not w.dead and w.run_id is None]

    def free_slots(self) -> int:
        return len(self._free())

    def submit(self, job: dict[str, Any]) -> None:
        free = self._free()
        if not free:
            raise RuntimeError("no idle worker")
        worker = free[0]
        worker.run_id = job["run_id"]
        assert worker.ctrl is not None
        worker.ctrl.write(wire.encode({**job, "op": "run"}))

    def control(self, run_id: str, message: dict[str, Any]) -> bool:
        for worker in self.workers:
            if worker and worker.run_id == run_id and not worker.dead and worker.ctrl:
                with contextlib.suppress(OSError, RuntimeError):
                    worker.ctrl.write(wire.encode({**message, "run_id": run_id}))
                    return True
        return False

    def pid_of(self, run_id: str) -> int | None:
        for worker in self.workers:
            if worker and worker.run_id == run_id:
                return worker.pid
        return None

    def info(self) -> dict[str, Any]:
        alive = [w for w in self.workers if w and w.ready and not w.dead]
        return {
            "executor": "local",
            "pool": self.size,
            "ready": len(alive),
            "busy": sum(1 for w in alive if w.run_id is not None),
            "pids": [w.pid for w in alive],
        }
