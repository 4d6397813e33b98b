"""Persistence: a new app on the same database lists old runs with their curves; runs
that were training when the server stopped (or died) are marked interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    app_client,
    events,
    free_port,
    make_settings,
    start_paused,
    wait_event,
    wait_for,
    wait_status,
)


def not_pictures(evs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in evs if e["type"] != "snapshot"]


def test_runs_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with app_client(settings) as client:
        done = client.post("/api/runs", json=QUICK).json()["id"]
        finished = wait_status(client, done, TERMINAL)
        before = events(client, done)
        paused = start_paused(client)
        client.post(f"/api/runs/{paused}/step", json={"n": 3})
        wait_event(client, paused, lambda e: e["type"] == "metrics" and e["step"] == 3)
    with app_client(settings) as client:
        listed = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}
        assert list(listed) == [paused, done]  # newest first
        assert listed[done]["summary"] == finished["summary"]
        after = events(client, done)
        assert not_pictures(after) == not_pictures(before)  # the whole (short) curve
        assert after[-2] == before[-2] and after[-2]["type"] == "snapshot"  # final picture
        with client.websocket_connect(f"/ws/runs/{done}?after=0") as ws:
            replayed = [ws.receive_json() for _ in after]
        assert replayed == after
        run = client.get(f"/api/runs/{paused}").json()
        assert run["status"] == "interrupted"
        assert run["reason"] == "the server shut down while this run was training"
        assert [h["status"] for h in run["history"]] == ["queued", "paused", "interrupted"]
        assert any(e.get("step") == 3 for e in events(client, paused) if e["type"] == "metrics")
        assert client.post(f"/api/runs/{paused}/resume").status_code == 409
        assert client.delete(f"/api/runs/{done}").status_code == 204
        assert client.get(f"/api/runs/{done}").status_code == 404


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_killed_server_leaves_its_runs_interrupted_with_curves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PLAYGROUND_DATA_DIR": str(tmp_path),
        "PLAYGROUND_WORKERS": "1",
        "PLAYGROUND_CHECKPOINT_SECONDS": "0.3",
        "PLAYGROUND_WORKER_NICE": "0",
    }
    backprop = Path(sys.executable).parent / "backprop"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(backprop), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

        def healthy() -> dict | None:  # type: ignore[type-arg]
            try:
                health = http.get("/healthz").json()
            except httpx.TransportError:
                return None
            return health if health["ready"] == 1 else None

        pids = wait_for(healthy, what="backprop serve")["pids"]
        run_id = http.post("/api/runs", json=LONG).json()["id"]
        wait_event(http, run_id, lambda e: e["type"] == "metrics" and e["step"] > 200)
        seen = max(e["step"] for e in events(http, run_id) if e["type"] == "metrics")
        time.sleep(1.0)  # a few checkpoints of the curve
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        log.close()
    wait_for(lambda: not any(pid_alive(p) for p in pids), 30, "orphaned workers to exit")
    with app_client(make_settings(tmp_path)) as client:
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted"
        assert run["reason"] == "the server stopped while this run was training"
        steps = [e["step"] for e in events(client, run_id) if e["type"] == "metrics"]
        assert max(steps) >= seen  # the checkpointed curve survived the crash
        assert events(client, run_id)[-1]["status"] == "interrupted"
