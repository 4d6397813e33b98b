"""A web server dies (kill -9) while its run trains on a queue worker: another web server
sharing Redis and the database takes the run over, steers it and stores its end; the
dead server's run that was still waiting in its own queue is marked interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.queue.conftest import LEASE, RedisServer, Workers, queue_settings
from tests.web.service import (
    LONG,
    TERMINAL,
    app_client,
    events,
    free_port,
    wait_event,
    wait_for,
    wait_status,
)


def listed_runs(redis_server: RedisServer) -> str:
    client = redis_server.client()
    keys = client.keys("bp:instance:*:runs")
    return str(client.mget(keys)) if keys else ""


@pytest.mark.slow
def test_a_dead_web_servers_runs_are_taken_over(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    workers.start(1)
    workers.wait_ready(redis_server.client(), 1)
    settings = queue_settings(tmp_path, redis_server.url)
    port = free_port()
    env = {
        **os.environ,
        "PLAYGROUND_EXECUTOR": "queue",
        "PLAYGROUND_REDIS_URL": redis_server.url,
        "PLAYGROUND_QUEUE_LEASE_SECONDS": str(LEASE),
        "PLAYGROUND_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "serve.log").open("ab")
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    doomed = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

        def up() -> bool:
            try:
                return bool(http.get("/healthz").json()["pool"] == 1)
            except httpx.TransportError:
                return False

        wait_for(up, 120, "the first web server")
        training = http.post("/api/runs", params={"paused": "true"}, json=LONG).json()["id"]
        wait_event(http, training, lambda e: e["type"] == "snapshot")
        waiting = http.post("/api/runs", json=LONG).json()  # the only worker is busy
        assert waiting["status"] == "queued"
        with app_client(settings) as other:
            me = other.get("/healthz").json()["instance"]
            assert other.get(f"/api/runs/{training}").json()["status"] == "paused"
            # A server lists its runs in Redis every lease/5 s (and at each dispatch): a
            # run queued a moment before it dies could be missed. Let it list this one.
            wait_for(lambda: waiting["id"] in listed_runs(redis_server), 30, "the listing")
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            job = f"bp:run:{training}:job"
            owner = lambda: redis_server.client().hget(job, "owner") == me.encode()  # noqa: E731
            wait_for(owner, LEASE * 3 + 15, "the run to be taken over")
            assert other.post(f"/api/runs/{training}/step", json={"n": 6}).status_code == 200
            wait_event(other, training, lambda e: e["type"] == "metrics" and e["step"] == 6)
            assert other.post(f"/api/runs/{training}/stop").status_code == 200
            assert wait_status(other, training, TERMINAL)["status"] == "stopped"
            gone = wait_status(other, waiting["id"], TERMINAL)
            assert gone["status"] == "interrupted"
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
    with app_client(settings) as fresh:  # what was stored, after both servers are gone
        run = fresh.get(f"/api/runs/{training}").json()
        assert run["status"] == "stopped" and run["summary"]["step"] == 6
        steps = [e["step"] for e in events(fresh, training) if e["type"] == "metrics"]
        assert steps[0] == 0 and steps[-1] == 6
        assert fresh.get(f"/api/runs/{waiting['id']}").json()["status"] == "interrupted"
