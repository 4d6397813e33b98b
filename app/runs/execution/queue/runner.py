"""`backprop worker`: processes that train runs taken from the job queue.

Each process runs one Dramatiq worker thread (prefetch 1: a busy worker never hoards a
second job another one could start) with torch preloaded, niced and single-threaded, as
the local pool's workers are. A job is claimed atomically before training (a message
Dramatiq redelivers after a crash is refused), trained by the same RunLoop as the local
pool (app.runs.kinds.run.loop.run_job) over a RedisChannel, and released at the end. A heartbeat
thread keeps the worker's registry entry and its run's lease alive; if the lease was
lost meanwhile (the run failed elsewhere), the run is given up at once.

A worker that cannot reach Redis exits with code 3; one that cannot import torch or the
engine reports it to `{p}:worker-errors` (shown by /healthz) and exits with code 4.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import redis

from app.runs.execution.queue.keys import CLAIM, RELEASE, RENEW, Keys
from app.settings import Settings

if TYPE_CHECKING:  # the channel imports the engine: only after preload() (it may fail)
    from app.runs.execution.queue.channel import RedisChannel

log = logging.getLogger("app.runs.execution.queue.worker")
EXIT_NO_REDIS, EXIT_BROKEN = 3, 4
PRELOAD = ("torch._dynamo", "app.nn.training.trainer", "app.runs.execution.worker")


class QueueWorker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = Keys(settings.queue_prefix)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
        self.lease_ms = int(settings.queue_lease_seconds * 1000)
        self.client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=2, socket_timeout=10
        )
        self.lock = threading.Lock()
        self.current: tuple[str, RedisChannel] | None = None
        self.stopping = threading.Event()
        self.since = time.time()
        self.runs = 0

    # ---- the process ------------------------------------------------------------------
    def serve(self) -> int:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            print(f"error: cannot reach Redis at {self.settings.redis_url}: {exc}", file=sys.stderr)
            return EXIT_NO_REDIS
        try:
            self.preload()
        except Exception as exc:  # a broken install: say so where operators look
            self.report(f"cannot start: {type(exc).__name__}: {exc}")
            return EXIT_BROKEN
        import dramatiq

        from app.runs.execution.queue.broker import declare_actor, make_broker

        broker = make_broker(self.settings.redis_url, self.keys, client=self.client)
        declare_actor(broker, self.handle)
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
        worker.queue_prefetch = 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.announce()
        worker.start()
        beat = threading.Thread(target=self.heartbeat, name="heartbeat", daemon=True)
        beat.start()
        log.info("worker %s ready (Redis %s)", self.id, self.settings.redis_url)
        while not self.stopping.wait(1.0):
            pass
        with self.lock:
            if self.current is not None:  # end the run cleanly: final picture and status
                self.current[1].inject({"op": "stop", "reason": "the worker was shut down"})
        worker.stop(timeout=int(max(5.0, self.settings.queue_lease_seconds) * 1000))
        self.unregister()
        return 0

    def preload(self) -> None:
        if self.settings.worker_nice:
            os.nice(self.settings.worker_nice)
        import torch

        torch.set_num_threads(self.settings.torch_threads)
        # torch._dynamo: the first optimizer step imports it otherwise (+0.8 s per run).
        for module in PRELOAD:
            importlib.import_module(module)

    def report(self, error: str) -> None:
        print(f"error: worker {self.id}: {error}", file=sys.stderr)
        fields = {"worker": self.id, "host": socket.gethostname(), "pid": os.getpid()}
        fields.update(error=error, at=time.time())
        with contextlib.suppress(redis.RedisError):
            self.client.xadd(self.keys.worker_errors, {"m": json.dumps(fields)}, maxlen=100)

    # ---- registry and leases -----------------------------------------------------------
    def announce(self, run_id: str | None = None) -> None:
        value = {"host": socket.gethostname(), "pid": os.getpid(), "run": run_id}
        value.update(since=self.since, runs=self.runs)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.keys.worker(self.id), json.dumps(value), px=self.lease_ms * 2)
        pipe.sadd(self.keys.workers, self.id)
        pipe.execute()

    def unregister(self) -> None:
        try:
            self.client.delete(self.keys.worker(self.id))
            self.client.srem(self.keys.workers, self.id)
        except redis.RedisError:
            pass

    def heartbeat(self) -> None:
        warned = False
        while not self.stopping.wait(self.lease_ms / 3000):
            with self.lock:
                current = self.current
            try:
                self.announce(current[0] if current else None)
                if current is not None:
                    run_id, chan = current
                    keys = [self.keys.job(run_id), self.keys.lease(run_id)]
                    if not self.client.eval(RENEW, 2, *keys, self.id, self.lease_ms):
                        chan.give_up("the run was ended elsewhere (lease lost)")
                warned = False
            except redis.RedisError as exc:
                if not warned:
                    log.warning("heartbeat failed: %s", exc)
                warned = True

    # ---- one job ------------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> None:
        from app.runs.events.stream import make_event, status_fields
        from app.runs.execution.queue.channel import RedisChannel
        from app.runs.execution.worker import run_job
        from app.runs.kinds.base import ParentGone

        run_id = str(job["run_id"])
        keys = [self.keys.job(run_id), self.keys.lease(run_id), self.keys.pending]
        claim_args: list[str | int | float] = [self.id, self.lease_ms, time.time(), run_id]
        if self.stopping.is_set() or not self.client.eval(CLAIM, 3, *keys, *claim_args):
            log.info("not taking run %s: it was taken or ended already", run_id)
            return
        maxlen, patience = self.settings.queue_stream_len, self.settings.queue_lease_seconds * 2
        chan = RedisChannel(self.client, self.keys, run_id, maxlen, patience).start()
        with self.lock:
            self.current = (run_id, chan)
        self.runs += 1
        self.announce(run_id)
        log.info("training run %s", run_id)
        try:
            run_job(job, chan)
            if not chan.ended:  # a job kind that returned without an end: say so
                raise RuntimeError("the job ended without a final status")
        except ParentGone as exc:
            log.warning("gave up run %s: %s", run_id, exc)
        except Exception as exc:
            log.exception("run %s crashed the worker's job", run_id)
            reason = f"worker error: {type(exc).__name__}: {exc}"
            seq = max(chan.last_seq, int(job.get("seq", 1)) - 1) + 1
            summary = {"status": "failed", "reason": reason, "step": None, "epoch": None}
            fields = status_fields("failed", reason, None, summary)
            event = make_event(run_id, seq, "status", fields)
            with contextlib.suppress(ParentGone):
                chan.send({"kind": "event", "run_id": run_id, **event.meta}, event.data)
        finally:
            with self.lock:
                self.current = None
            chan.close()
            ttl = int(self.settings.queue_retention_seconds)
            try:
                self.client.eval(RELEASE, 6, *self.keys.run_keys(run_id), run_id, self.id, ttl)
                self.announce(None)
            except redis.RedisError as exc:
                log.warning("could not release run %s: %s", run_id, exc)


def _serve_one() -> None:
    from app.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sys.exit(QueueWorker(get_settings()).serve())


def serve(settings: Settings, processes: int = 1) -> int:
    """Run `processes` queue workers; more than one are children restarted if they die."""
    if processes <= 1:
        return QueueWorker(settings).serve()
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no torch state to fork
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    children: list[Any] = [None] * processes
    code = 0
    while not stopping.is_set():
        for i, child in enumerate(children):
            if child is not None and child.exitcode in (EXIT_NO_REDIS, EXIT_BROKEN):
                code = int(child.exitcode)  # restarting would fail the same way
                stopping.set()
                break
            if child is None or not child.is_alive():
                children[i] = ctx.Process(target=_serve_one, name=f"backprop-worker-{i}")
                children[i].start()
        stopping.wait(1.0)
    for child in children:
        if child is not None and child.is_alive():
            child.terminate()
    for child in children:
        if child is not None:
            child.join(30)
    return code
