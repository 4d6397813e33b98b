"""Runs through the job queue: a private redis-server, two real `backprop worker`
processes, and web apps with PLAYGROUND_EXECUTOR=queue (one, or two sharing a store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.queue.conftest import RedisServer, Workers, queue_settings
from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    app_client,
    events,
    start_paused,
    wait_event,
    wait_for,
    wait_status,
)


@pytest.fixture(scope="module")
def pool(redis_server: RedisServer, workers: Workers) -> Iterator[set[int]]:
    workers.start(2)
    yield workers.wait_ready(redis_server.client(), 2)


def read_to_close(ws: Any) -> tuple[list[dict[str, Any]], int]:
    got: list[dict[str, Any]] = []
    while True:
        try:
            message = ws.receive_json()
        except WebSocketDisconnect as exc:
            return got, exc.code
        if message["type"] not in ("heartbeat", "reply"):
            got.append(message)


def not_pictures(evs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in evs if e["type"] != "snapshot"]


def trained_by(redis_server: RedisServer, run_id: str) -> int:
    """The pid of the worker that took the run (from its job record in Redis)."""
    client = redis_server.client()
    worker = client.hget(f"bp:run:{run_id}:job", "worker").decode()
    return int(worker.split("-")[-2])


def test_a_run_goes_through_the_queue_and_replays_after_n(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        health = client.get("/healthz").json()
        assert health["executor"] == "queue" and health["redis"] == "ok"
        assert set(health["pids"]) >= pool
        run_id = start_paused(client)  # held by a worker, paused at step 0
        with client.websocket_connect(f"/ws/runs/{run_id}?after=2") as live:
            assert client.post(f"/api/runs/{run_id}/step", json={"n": 7}).status_code == 200
            wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 7)
            assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
            received, code = read_to_close(live)
        assert code == 1000
        replay = events(client, run_id)
        assert not_pictures(received) == not_pictures([e for e in replay if e["seq"] > 2])
        assert received[-1]["status"] == "stopped" and received[-1]["summary"]["step"] == 7
        middle = replay[len(replay) // 2]["seq"]
        assert events(client, run_id, after=middle) == [e for e in replay if e["seq"] > middle]
        with client.websocket_connect(f"/ws/runs/{run_id}?after={middle}") as late:
            again, _ = read_to_close(late)
        assert again == [e for e in replay if e["seq"] > middle]
    # The events really travelled through Redis, from one of our worker processes.
    stream = redis_server.client().xrange(f"bp:run:{run_id}:ev")
    sent = [json.loads(fields[b"m"]) for _, fields in stream]
    streamed = [m["seq"] for m in sent if m["kind"] == "event"]
    assert streamed == list(range(2, replay[-1]["seq"] + 1))  # the worker's, without gaps
    assert {e["seq"] for e in replay[1:]} <= set(streamed)  # (replays drop old pictures)
    assert trained_by(redis_server, run_id) in pool


def test_pause_step_live_lr_resume_and_stop_through_the_queue(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        run_id = start_paused(client)
        client.post(f"/api/runs/{run_id}/step", json={"n": 3})
        wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 3)
        changed = client.patch(f"/api/runs/{run_id}", json={"lr": 0.05})
        assert changed.status_code == 200, changed.text
        assert changed.json()["applied"] == {"lr": 0.05}
        bad = client.patch(f"/api/runs/{run_id}", json={"momentum": 0.5, "beta1": 0.9})
        assert bad.status_code == 422  # the worker refused it; the answer came back
        assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
        wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] > 50)
        assert client.post(f"/api/runs/{run_id}/pause").json()["status"] == "paused"
        paused = wait_event(client, run_id, lambda e: e.get("status") == "paused" and e["seq"] > 5)
        held = [e for e in events(client, run_id) if e["type"] == "metrics"][-1]["step"]
        assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
        run = wait_status(client, run_id, TERMINAL)
        assert run["status"] == "stopped" and run["reason"] == "stopped by the user"
        assert run["summary"]["step"] == held  # nothing trained while paused
        evs = events(client, run_id)
        lrs = [e["lr"] for e in evs if e["type"] == "metrics" and e["step"] > 3 and "lr" in e]
        assert lrs and all(abs(lr - 0.05) < 1e-12 for lr in lrs)  # the live change held
        assert any(e["type"] == "hparams" for e in evs) and paused["seq"] < evs[-1]["seq"]


def test_two_web_servers_stream_and_steer_the_same_run(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    settings = queue_settings(tmp_path, redis_server.url)  # one SQLite file, one Redis
    with app_client(settings) as one, app_client(settings) as two:
        run_id = start_paused(one)
        seen = two.get(f"/api/runs/{run_id}").json()  # the other server has it too
        assert seen["status"] == "paused" and seen["id"] == run_id
        assert run_id in [r["id"] for r in two.get("/api/runs").json()["runs"]]
        with (
            one.websocket_connect(f"/ws/runs/{run_id}?after=0") as ws_one,
            two.websocket_connect(f"/ws/runs/{run_id}?after=0") as ws_two,
        ):
            assert two.post(f"/api/runs/{run_id}/step", json={"n": 4}).status_code == 200
            wait_event(one, run_id, lambda e: e["type"] == "metrics" and e["step"] == 4)
            changed = two.patch(f"/api/runs/{run_id}", json={"lr": 0.2})  # its ack returns there
            assert changed.status_code == 200 and changed.json()["applied"] == {"lr": 0.2}
            assert one.post(f"/api/runs/{run_id}/stop").status_code == 200
            got_one, code_one = read_to_close(ws_one)
            got_two, code_two = read_to_close(ws_two)
        assert code_one == code_two == 1000
        assert not_pictures(got_one) == not_pictures(got_two)
        assert got_one[-2] == got_two[-2] and got_one[-2]["type"] == "snapshot"
        assert got_two[-1]["status"] == "stopped" and got_two[-1]["summary"]["step"] == 4
        assert two.get(f"/api/runs/{run_id}").json()["status"] == "stopped"
    with app_client(settings) as three:  # what the owner stored, a fresh server reads
        stored = events(three, run_id)
        assert not_pictures(stored) == not_pictures(got_one)


def test_two_workers_take_four_runs_two_at_a_time(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        ids = [
            client.post("/api/runs", params={"paused": "true"}, json=LONG).json()["id"]
            for _ in range(4)
        ]

        def placed() -> list[dict[str, Any]] | None:
            runs = [client.get(f"/api/runs/{i}").json() for i in ids]
            held = [r for r in runs if r["status"] == "paused"]
            return runs if len(held) == 2 else None

        runs = wait_for(placed, what="two runs held by the two workers")
        held = [r["id"] for r in runs if r["status"] == "paused"]
        waiting = [r for r in runs if r["status"] == "queued"]
        assert sorted(r["queue_position"] for r in waiting) == [1, 2]
        for run_id in held:  # both are on a worker at the same time: concurrency 2
            wait_event(client, run_id, lambda e: e["type"] == "snapshot")
        assert {trained_by(redis_server, i) for i in held} == pool
        for run_id in held:
            client.post(f"/api/runs/{run_id}/stop")
        for run in waiting:  # the freed workers take the queued runs
            run_id = run["id"]
            wait_event(client, run_id, lambda e: e["type"] == "snapshot")
            client.post(f"/api/runs/{run_id}/step", json={"n": 2})
            wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 2)
            client.post(f"/api/runs/{run_id}/stop")
        done = {i: wait_status(client, i, TERMINAL) for i in ids}
        assert {r["status"] for r in done.values()} == {"stopped"}
        steps = {i: r["summary"]["step"] for i, r in done.items()}
        assert steps == {**dict.fromkeys(held, 0), **{r["id"]: 2 for r in waiting}}
        assert {trained_by(redis_server, i) for i in ids} == pool
        wait_for(lambda: client.get("/healthz").json()["busy"] == 0, what="idle workers")


def test_a_quick_run_finishes_with_real_numbers(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        run_id = client.post("/api/runs", json=QUICK).json()["id"]
        run = wait_status(client, run_id, TERMINAL)
        assert run["status"] == "finished" and run["summary"]["step"] == 50
        frames = [e for e in events(client, run_id) if e["type"] == "metrics"]
        assert sum(f["steps"] for f in frames) == 50  # every optimizer step accounted for
        final = run["summary"]["final"]
        assert 0.0 <= final["train_acc"] <= 1.0 and final["train_loss"] > 0
