"""The REST API through the real app: worker processes, queue, limits, controls."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.nn.spec.experiment import validate_spec
from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    app_client,
    events,
    make_settings,
    start_paused,
    wait_event,
    wait_for,
    wait_status,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("api"))) as c:
        yield c


def test_service_endpoints(client: TestClient) -> None:
    assert client.get("/api/spec/default").json() == validate_spec({}).model_dump(mode="json")
    schema = client.get("/api/spec/schema").json()
    assert {"data", "model", "train", "stream"} <= set(schema["properties"])
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["pool"] == 2
    limits = client.get("/api/limits").json()
    assert "lr" in limits["live_params"] and limits["spec"]["max_layers"] >= 1
    openapi = client.get("/openapi.json").json()
    assert "Spec" in openapi["components"]["schemas"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"train": {"optimizer": {"lr": 100}}}, "train.optimizer.lr"),
        ({"train": {"optimizer": {"name": "sgdd"}}}, "train.optimizer.name"),
        ({"model": {"layers": [{"units": 0}]}}, "model.layers.0.units"),
        ({"bogus": 1}, "bogus"),
        ([1, 2], "spec"),
    ],
)
def test_bad_specs_are_422_naming_the_field(client: TestClient, body: object, field: str) -> None:
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["detail"]]
    assert field in fields, fields
    assert all(e["message"] for e in response.json()["detail"])


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    response = client.post("/api/runs", content=b"{nope")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body"
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    assert client.post("/api/runs", content=b" " * (limit + 1)).status_code == 413
    deep = b"[" * 100_000 + b"]" * 100_000  # under the size cap, deeper than the parser
    assert client.post("/api/runs", content=deep).status_code == 422
    assert client.get("/api/runs", params={"limit": "x"}).status_code == 422


def test_a_run_finishes_with_its_summary_and_history(client: TestClient) -> None:
    created = client.post("/api/runs", json=QUICK)
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["status"] in {"queued", "running"}
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "finished"
    assert run["summary"]["step"] == 50 and "train_acc" in run["summary"]["final"]
    assert run["spec"] == validate_spec(QUICK).model_dump(mode="json")
    assert [h["status"] for h in run["history"]] == ["queued", "running", "finished"]
    assert run["created_at"].endswith("Z") and run["total_steps"] == 50
    listed = client.get("/api/runs").json()["runs"]
    assert listed[0]["id"] == run_id and listed[0]["summary"]["step"] == 50
    evs = events(client, run_id)
    assert evs[0]["type"] == "status" and evs[0]["status"] == "queued"
    assert [e["seq"] for e in evs] == sorted({e["seq"] for e in evs})
    assert {"start", "metrics", "snapshot"} <= {e["type"] for e in evs}
    assert evs[-1]["type"] == "status" and evs[-1]["summary"] == run["summary"]
    assert events(client, run_id, after=evs[-2]["seq"]) == evs[-1:]
    conflict = client.post(f"/api/runs/{run_id}/resume")
    assert conflict.status_code == 409 and "finished" in conflict.json()["detail"]
    assert client.patch(f"/api/runs/{run_id}", json={"lr": 0.1}).status_code == 409


def test_unknown_runs_are_404(client: TestClient) -> None:
    for method, path in [
        ("GET", "/api/runs/nope"),
        ("GET", "/api/runs/nope/events"),
        ("POST", "/api/runs/nope/pause"),
        ("POST", "/api/runs/nope/step"),
        ("DELETE", "/api/runs/nope"),
    ]:
        assert client.request(method, path).status_code == 404, path
    assert client.patch("/api/runs/nope", json={"lr": 0.1}).status_code == 404


def test_pause_step_resume_stop(client: TestClient) -> None:
    run_id = start_paused(client)
    assert client.post(f"/api/runs/{run_id}/pause").status_code == 409  # already paused
    stepped = client.post(f"/api/runs/{run_id}/step", json={"n": 5})
    assert stepped.status_code == 200 and stepped.json()["status"] == "paused"
    frame = wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 5)
    assert frame["steps"] >= 1 and frame["loss"] is not None
    assert client.post(f"/api/runs/{run_id}/step", json={"n": 0}).status_code == 422
    assert client.post(f"/api/runs/{run_id}/step", json={"n": "x"}).status_code == 422
    assert client.post(f"/api/runs/{run_id}/step").status_code == 200  # n defaults to 1
    wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 6)
    # Paused means paused: no step beyond 6 happens on its own.
    assert max(e.get("step", 0) for e in events(client, run_id) if e["type"] == "metrics") == 6
    assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
    assert client.post(f"/api/runs/{run_id}/step").status_code == 409  # only when paused
    wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] > 100)
    assert client.post(f"/api/runs/{run_id}/pause").json()["status"] == "paused"
    wait_event(client, run_id, lambda e: e.get("status") == "paused" and e["seq"] > 10)
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "stopped" and run["reason"] == "stopped by the user"
    assert run["summary"]["step"] > 100
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 409


def test_live_learning_rate_change(client: TestClient) -> None:
    run_id = start_paused(client)
    changed = client.patch(f"/api/runs/{run_id}", json={"lr": 0.5})
    assert changed.status_code == 200 and changed.json()["applied"] == {"lr": 0.5}
    bad = client.patch(f"/api/runs/{run_id}", json={"lr": 100})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "lr"
    refused = client.patch(f"/api/runs/{run_id}", json={"beta1": 0.5})  # sgd has no betas
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "beta1"
    assert client.patch(f"/api/runs/{run_id}", json={"bogus": 1}).status_code == 422
    assert client.patch(f"/api/runs/{run_id}", json=[]).status_code == 422
    client.post(f"/api/runs/{run_id}/step", json={"n": 2})
    frame = wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] == 2)
    assert frame["lr"] == 0.5
    assert any(
        e["type"] == "hparams" and e["changes"] == {"lr": 0.5} for e in events(client, run_id)
    )
    client.post(f"/api/runs/{run_id}/stop")
    wait_status(client, run_id, TERMINAL)


def test_queue_positions_limits_and_429(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.max_training_runs, settings.max_queued = 1, 1
    try:
        first = start_paused(client)
        second = client.post("/api/runs", params={"paused": "true"}, json=LONG).json()
        assert second["status"] == "queued"
        assert client.get(f"/api/runs/{second['id']}").json()["queue_position"] == 1
        full = client.post("/api/runs", json=QUICK)
        assert (
            full.status_code == 429 and full.json()["detail"] == "queue full, try again in a moment"
        )
        assert client.post(f"/api/runs/{second['id']}/pause").status_code == 409  # queued
        client.post(f"/api/runs/{first}/stop")
        wait_status(client, second["id"], {"paused"})  # the queue moved on
        wait_event(client, second["id"], lambda e: e["type"] == "snapshot")
        third = client.post("/api/runs", json=QUICK).json()
        assert third["status"] == "queued"
        assert client.post(f"/api/runs/{third['id']}/stop").status_code == 200
        stopped = wait_status(client, third["id"], TERMINAL)
        assert stopped["status"] == "stopped" and "before it started" in stopped["reason"]
        settings.max_runs_per_client = 1
        mine = client.post("/api/runs", json=QUICK)
        assert mine.status_code == 429 and "limit is 1" in mine.json()["detail"]
        client.post(f"/api/runs/{second['id']}/stop")
        wait_status(client, second["id"], TERMINAL)
    finally:
        settings.max_training_runs, settings.max_queued, settings.max_runs_per_client = 0, 32, 50


def test_delete_finished_and_training_runs(client: TestClient) -> None:
    done = client.post("/api/runs", json=QUICK).json()["id"]
    wait_status(client, done, TERMINAL)
    assert client.delete(f"/api/runs/{done}").status_code == 204
    assert client.get(f"/api/runs/{done}").status_code == 404
    training = start_paused(client)
    assert client.delete(f"/api/runs/{training}").status_code == 204
    assert client.get(f"/api/runs/{training}").status_code == 404
    assert training not in {r["id"] for r in client.get("/api/runs").json()["runs"]}
    wait_for(lambda: client.get("/healthz").json()["training"] == 0, what="the worker freed")


def test_two_runs_train_at_once_in_separate_processes(client: TestClient) -> None:
    a, b = start_paused(client), start_paused(client)
    manager = client.app.state.service  # type: ignore[attr-defined]
    pids = {manager.executor.pid_of(a), manager.executor.pid_of(b)}
    assert len(pids) == 2 and None not in pids
    for run_id in (a, b):
        client.post(f"/api/runs/{run_id}/resume")
    for run_id in (a, b):
        wait_event(client, run_id, lambda e: e["type"] == "metrics" and e["step"] > 50)
        client.post(f"/api/runs/{run_id}/stop")
    for run_id in (a, b):
        assert wait_status(client, run_id, TERMINAL)["status"] == "stopped"


def test_a_killed_worker_fails_its_run_and_is_replaced(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        victim, survivor = start_paused(client), start_paused(client)
        manager = client.app.state.service  # type: ignore[attr-defined]
        pid = manager.executor.pid_of(victim)
        client.post(f"/api/runs/{victim}/resume")
        client.post(f"/api/runs/{survivor}/resume")
        wait_event(client, victim, lambda e: e["type"] == "metrics" and e["step"] > 20)
        os.kill(pid, signal.SIGKILL)
        failed = wait_status(client, victim, TERMINAL)
        assert failed["status"] == "failed" and "SIGKILL" in failed["reason"]
        assert failed["summary"]["step"] > 20
        assert events(client, victim)[-1]["status"] == "failed"
        # The other run never noticed.
        assert client.get(f"/api/runs/{survivor}").json()["status"] == "running"
        client.post(f"/api/runs/{survivor}/stop")
        assert wait_status(client, survivor, TERMINAL)["status"] == "stopped"
        health = wait_for(lambda: (h := client.get("/healthz").json())["ready"] == 2 and h)
        assert pid not in health["pids"]
        again = client.post("/api/runs", json=QUICK).json()["id"]
        assert wait_status(client, again, TERMINAL)["status"] == "finished"


def test_a_diverging_run_ends_diverged_with_valid_json(client: TestClient) -> None:
    spec = {"data": {"dataset": "plane", "samples": 100}, "train": {"optimizer": {"lr": 10}}}
    run_id = client.post("/api/runs", json=spec).json()["id"]
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "diverged" and "exploded" in run["reason"]
    evs = events(client, run_id)  # parsed by a strict JSON parser: no NaN anywhere
    assert evs[-1]["status"] == "diverged" and evs[-1]["summary"]["step"] == run["step"]


def test_time_limits_stop_runs(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.max_run_seconds, settings.max_paused_seconds = 0.5, 0.3
    try:
        busy = client.post("/api/runs", json=LONG).json()["id"]
        idle = client.post("/api/runs", params={"paused": "1"}, json=LONG).json()["id"]
    finally:
        settings.max_run_seconds, settings.max_paused_seconds = 600.0, 900.0
    run = wait_status(client, busy, TERMINAL)
    assert run["status"] == "stopped" and "at most 0.5 s" in run["reason"]
    assert 0 < run["summary"]["step"] < 50_000
    run = wait_status(client, idle, TERMINAL)
    assert run["status"] == "stopped" and run["reason"] == "stopped after 0.3 s paused"


def test_metrics_are_decimated_to_the_frame_rate(client: TestClient) -> None:
    spec = {"data": {"samples": 100}, "train": {"epochs": 400}}  # 2000 steps
    run_id = client.post("/api/runs", json=spec).json()["id"]
    run = wait_status(client, run_id, TERMINAL)
    evs = events(client, run_id)
    frames = [e for e in evs if e["type"] == "metrics"]
    seconds = run["summary"]["seconds"]
    rate = client.get("/api/limits").json()["frame_rate"]
    assert len(frames) <= seconds * rate + 4  # + the first, the last and a little slack
    assert sum(f["steps"] for f in frames) == 2000  # yet every step is accounted for
    assert all(f["loss_mean"] is not None for f in frames[1:])
    with_eval = [f for f in frames if "eval" in f]
    assert with_eval and all({"train", "test", "layers"} <= set(f["eval"]) for f in with_eval)


def test_custom_points_fit_in_a_body_but_stay_out_of_lists(client: TestClient) -> None:
    points = [[i / 1000, (i * 7 % 1000) / 1000, float(i % 2)] for i in range(3000)]
    spec = {"data": {"dataset": "custom", "points": points}, "train": {"epochs": 1}}
    created = client.post("/api/runs", json=spec)
    assert created.status_code == 201, created.text[:300]
    run_id = created.json()["id"]
    assert wait_status(client, run_id, TERMINAL)["status"] == "finished"
    assert len(client.get(f"/api/runs/{run_id}").json()["spec"]["data"]["points"]) == 3000
    item = next(r for r in client.get("/api/runs").json()["runs"] if r["id"] == run_id)
    assert item["spec_truncated"] and item["spec"]["data"]["points"] is None


def test_workers_run_niced_in_their_own_processes(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path, worker_nice=10)) as client:
        health = wait_for(lambda: (h := client.get("/healthz").json())["ready"] == 2 and h)
        for pid in health["pids"]:
            assert os.getpriority(os.PRIO_PROCESS, pid) == 10
            assert pid != os.getpid()
