"""The worker process: serves jobs one at a time and streams their events back.

Started from a forkserver that has torch, torch._dynamo and the engine preloaded, so a
worker is ready in milliseconds. It runs niced and with one torch thread (measured: this
keeps the API's p99 low and a second thread never helped).
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

from app.runs.execution.parent_death import die_with
from app.runs.execution.pipes import Channel
from app.runs.execution.warm import warm_up
from app.runs.kinds.base import JobChannel, ParentGone
from app.runs.kinds.table import loop_for


def run_job(job: dict[str, Any], chan: JobChannel) -> None:
    """Run one job on a channel (`poll(timeout)`/`send(meta, data)`): pipes here, Redis
    streams on the job queue (app.runs.execution.queue). A new job kind dispatches here, so every
    executor runs it."""
    loop_for(job, chan).run()


def worker_main(ctrl: Any, out: Any, nice: int, threads: int, server_pid: int = 0) -> None:
    """Process entry point: serve jobs until told to exit or the parent goes away."""
    if server_pid:
        die_with(server_pid)  # even mid-step after kill -9 (parent_death.py)
    if nice:
        os.nice(nice)
    import torch

    torch.set_num_threads(threads)
    warm_up()  # the first run pays no first-time costs: Play shows its picture at once
    chan = Channel(ctrl.fileno(), out.fileno())
    try:
        chan.send({"kind": "hello", "pid": os.getpid()})
        while True:
            messages = deque(chan.poll(None))
            while messages:
                msg = messages.popleft()
                if msg.get("op") == "exit":
                    return
                if msg.get("op") == "run":
                    chan.inbox.extend(messages)  # controls sent right after the job
                    messages.clear()
                    run_job(msg, chan)
                    chan.send({"kind": "idle", "run_id": msg["run_id"]})
    except (ParentGone, BrokenPipeError):
        return
