"""Faults on the job queue: a worker killed mid-run, workers that cannot start, and a
Redis restart under a running web server. Nothing hangs; no finished run is lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from app.runs.execution.queue.broker import enqueue, make_broker
from app.runs.execution.queue.keys import Keys
from tests.queue.conftest import LEASE, RedisServer, Workers, queue_settings
from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    app_client,
    events,
    free_port,
    wait_event,
    wait_for,
    wait_status,
)

BOUND = LEASE + 8.0  # lease + a monitor tick, with room for a loaded machine


def health(client: Any) -> dict[str, Any]:
    result: dict[str, Any] = client.get("/healthz").json()
    return result


@pytest.mark.slow
def test_a_worker_killed_mid_run_fails_its_run_in_bounded_time(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    (victim,) = workers.start(1)
    workers.wait_ready(redis_server.client(), 1)
    settings = queue_settings(tmp_path, redis_server.url)
    with app_client(settings) as client:
        run_id = client.post("/api/runs", json=LONG).json()["id"]
        wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] > 20)
        job = redis_server.client().hgetall(f"bp:run:{run_id}:job")
        assert job[b"state"] == b"claimed"
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        run = wait_status(client, run_id, TERMINAL, timeout=60)
        took = time.monotonic() - killed_at
        assert run["status"] == "failed", run
        assert (
            run["reason"] == f"the worker training this run stopped (no heartbeat for {LEASE:g} s)"
        )
        assert took < BOUND, f"noticed after {took:.1f} s"
        assert events(client, run_id)[-1]["status"] == "failed"  # the terminal event is last
        wait_for(lambda: victim.pid not in health(client)["pids"], what="the dead worker pruned")

        # Dramatiq hands the dead worker's message to another worker some day: refused.
        (fresh,) = workers.start(1)
        workers.wait_ready(redis_server.client(), 1)
        job_record = dict(redis_server.client().hgetall(f"bp:run:{run_id}:job"))
        broker = make_broker(redis_server.url, Keys("bp"))
        enqueue(broker, {"run_id": run_id, "seq": 2})
        refused = f"not taking run {run_id}: it was taken or ended already"
        wait_for(lambda: refused in workers.logs(), what="the redelivered job refused")
        assert dict(redis_server.client().hgetall(f"bp:run:{run_id}:job")) == job_record
        # ... and nothing hangs: the next run trains on the new worker.
        quick = client.post("/api/runs", json=QUICK).json()["id"]
        assert wait_status(client, quick, TERMINAL)["status"] == "finished"
        assert health(client)["pids"] == [fresh.pid]


def test_workers_that_cannot_start_say_so(tmp_path: Path, redis_server: RedisServer) -> None:
    workers = Workers(redis_server.url, tmp_path)
    blocker = tmp_path / "broken"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class Broken:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'app.nn.training.trainer':\n"
        "            raise ImportError('simulated broken install: no app.nn.training.trainer')\n"
        "sys.meta_path.insert(0, Broken())\n"
    )
    pythonpath = os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])
    (broken,) = workers.start(1, PYTHONPATH=pythonpath)
    (lost,) = workers.start(1, PLAYGROUND_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert broken.wait(120) == 4
    assert lost.wait(120) == 3
    logs = workers.logs()
    assert "cannot start: ImportError: simulated broken install" in logs
    assert "cannot reach Redis at redis://127.0.0.1:" in logs
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        reported = health(client)["worker_errors"]
    assert any("simulated broken install" in e["error"] for e in reported)
    assert any(e["pid"] == broken.pid for e in reported)


def test_a_redis_restart_is_reported_and_survived(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    if not any(p.poll() is None for p in workers.procs):
        workers.start(1)
    pids = workers.wait_ready(redis_server.client(), 1)
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        done = client.post("/api/runs", json=QUICK).json()["id"]
        finished = wait_status(client, done, TERMINAL)
        before = events(client, done)
        training = client.post("/api/runs", json=LONG).json()["id"]
        wait_event(client, training, lambda e: e["type"] == "metrics" and e["step"] > 20)

        redis_server.stop(signal.SIGKILL)
        down = wait_for(lambda: health(client)["redis"].startswith("unreachable"), 30)
        assert down
        waiting = client.post("/api/runs", json=QUICK).json()
        assert waiting["status"] == "queued"  # no capacity known: it waits, nothing breaks
        assert client.get(f"/api/runs/{done}").json()["summary"] == finished["summary"]
        redis_server.start()  # empty: the queue's state is gone

        wait_for(lambda: health(client)["redis"] == "ok", 60, "the web server to reconnect")
        lost = wait_status(client, training, TERMINAL, timeout=60)
        assert lost["status"] == "failed"
        assert "job queue" in lost["reason"], lost["reason"]
        wait_for(lambda: set(health(client)["pids"]) >= pids, 60, "the worker to come back")
        assert wait_status(client, waiting["id"], TERMINAL)["status"] == "finished"
        assert client.get(f"/api/runs/{done}").json()["summary"] == finished["summary"]
        assert events(client, done) == before  # the finished run is intact
    assert all(p.poll() is None for p in workers.procs if p.pid in pids)
