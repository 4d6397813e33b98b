"""Who may control a run (visitor cookies), the creation rate limit, per-visitor limits
and idle runs, through the real app with worker processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.web.common.visitor import COOKIE, make_cookie_value, verify
from app.web.hosting.ratelimit import TokenBucket
from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    app_client,
    events,
    make_settings,
    start_paused,
    wait_for,
    wait_status,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("own"), owner_only=True)
    with app_client(settings) as c:
        yield c


def as_visitor(client: TestClient, cookie: str | None) -> str:
    """Switch the client to the visitor whose cookie value is `cookie` (None = a brand-new
    visitor); returns the cookie value the client holds after one request."""
    client.cookies.clear()
    if cookie is not None:
        client.cookies.set(COOKIE, cookie, domain="testserver.local")
    client.get("/healthz")
    value = client.cookies.get(COOKIE)
    assert value
    return value


def test_only_the_creator_controls_a_run_anyone_watches(client: TestClient) -> None:
    alice = as_visitor(client, None)
    run_id = start_paused(client)
    bob = as_visitor(client, None)
    assert alice != bob
    # Watching is open to anyone with the link.
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "paused"
    assert events(client, run_id)[0]["type"] == "status"
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws:
        assert json.loads(ws.receive_text())["seq"] == 1
        ws.send_text(json.dumps({"action": "stop"}))
        reply = next(
            m
            for m in iter(lambda: json.loads(ws.receive_text()), None)
            if m["type"] in ("reply", "error")
        )
        assert reply["type"] == "error" and reply["status"] == 403
        assert "another visitor" in reply["detail"]
    # Every control endpoint refuses Bob with the same clear message.
    refusals = [
        client.post(f"/api/runs/{run_id}/resume"),
        client.post(f"/api/runs/{run_id}/step", json={"n": 2}),
        client.post(f"/api/runs/{run_id}/stop"),
        client.patch(f"/api/runs/{run_id}", json={"lr": 0.05}),
        client.delete(f"/api/runs/{run_id}"),
        client.post(f"/ui/runs/{run_id}/step"),
    ]
    for response in refusals:
        assert response.status_code == 403, response.text
        assert "only its creator" in response.text
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "paused"  # untouched
    # A forged cookie (Alice's id, Bob's signature) is just a new visitor.
    forged = alice.split(".")[0] + "." + bob.split(".")[1]
    assert as_visitor(client, forged) not in (forged, alice, bob)  # replaced by a new one
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 403
    # Alice controls her run, over HTTP and over the socket.
    as_visitor(client, alice)
    assert client.patch(f"/api/runs/{run_id}", json={"lr": 0.05}).json()["applied"]
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws:
        ws.send_text(json.dumps({"action": "step", "n": 3}))
        reply = next(
            m
            for m in iter(lambda: json.loads(ws.receive_text()), None)
            if m["type"] in ("reply", "error")
        )
        assert reply["type"] == "reply" and reply["ok"], reply
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    wait_status(client, run_id, TERMINAL)
    assert client.delete(f"/api/runs/{run_id}").status_code == 204


def test_play_on_someone_elses_run_trains_a_copy(client: TestClient) -> None:
    alice = as_visitor(client, None)
    theirs = start_paused(client)
    as_visitor(client, None)
    form = {"ui.run": theirs, "data.samples": "100", "train.epochs": "10"}
    response = client.post("/ui/play", data=form)
    assert response.status_code == 200, response.text
    mine = response.text.split('id="run-id" name="ui.run" value="')[1].split('"')[0]
    assert mine and mine != theirs
    assert client.get(f"/api/runs/{theirs}").json()["status"] == "paused"  # left alone
    client.post("/ui/reset", data={"ui.run": theirs})  # reset cannot stop it either
    assert client.get(f"/api/runs/{theirs}").json()["status"] == "paused"
    wait_status(client, mine, TERMINAL)
    as_visitor(client, alice)
    client.post(f"/api/runs/{theirs}/stop")
    wait_status(client, theirs, TERMINAL)


def test_per_visitor_limit_counts_visitors_not_addresses(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.max_runs_per_client = 1
    try:
        alice = as_visitor(client, None)
        first = start_paused(client)
        second = client.post("/api/runs", json=QUICK)
        assert second.status_code == 429 and "limit is 1" in second.json()["detail"]
        bob = as_visitor(client, None)  # same address, another visitor
        other = client.post("/api/runs", json=QUICK)
        assert other.status_code == 201, other.text
        wait_status(client, other.json()["id"], TERMINAL)
        as_visitor(client, alice)
        client.post(f"/api/runs/{first}/stop")
        wait_status(client, first, TERMINAL)
        assert bob != alice
    finally:
        settings.max_runs_per_client = 50


def test_open_mode_keeps_todays_behaviour(tmp_path: Any) -> None:
    with app_client(make_settings(tmp_path)) as client:
        run_id = start_paused(client)
        client.cookies.clear()  # another visitor: may still control (owner_only is off)
        assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
        wait_status(client, run_id, TERMINAL)


def test_creation_rate_limit_per_address(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, create_per_minute=6.0, create_burst=2)
    with app_client(settings) as client:
        made = [client.post("/api/runs", json=QUICK) for _ in range(2)]
        assert [r.status_code for r in made] == [201, 201]
        refused = client.post("/api/runs", json=QUICK)
        assert refused.status_code == 429
        assert "too many new runs" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 10  # 6/min: one every 10 s
        client.cookies.clear()  # a new cookie does not reset an address's bucket
        assert client.post("/api/runs", json=QUICK).status_code == 429
        page = client.post("/ui/play", data={"data.samples": "100", "train.epochs": "10"})
        assert page.status_code == 429 and "too many new runs" in page.text
        for r in made:
            wait_status(client, r.json()["id"], TERMINAL)


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(per_minute=60.0, burst=3)
    assert [bucket.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a", 0.0) == pytest.approx(1.0)
    assert bucket.take("b", 0.0) == 0.0  # buckets are per key
    assert bucket.take("a", 0.5) == pytest.approx(0.5)
    assert bucket.take("a", 1.01) == 0.0
    assert bucket.take("a", 100.0) == 0.0  # refills to the burst, no further
    assert [bucket.take("a", 100.0) for _ in range(3)][-1] > 0


def test_cookie_signature() -> None:
    secret = b"k" * 32
    value = make_cookie_value(secret, "visitor1")
    assert verify(secret, value) == "visitor1"
    assert verify(b"other" * 8, value) is None
    assert verify(secret, "visitor2." + value.split(".")[1]) is None
    assert verify(secret, "garbage") is None


def test_runs_nobody_watches_are_stopped(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, idle_run_seconds=1.0)
    with app_client(settings) as client:
        manager = client.app.state.service  # type: ignore[attr-defined]
        watched = client.post("/api/runs", json=LONG).json()["id"]
        with client.websocket_connect(f"/ws/runs/{watched}") as ws:
            ws.receive_text()
            unwatched = client.post("/api/runs", json=LONG).json()["id"]
            # Poll the manager directly: reading the run over HTTP would count as watching.
            run = wait_for(
                lambda: manager.runs[unwatched].terminal and manager.runs[unwatched],
                what="the unwatched run to stop",
            )
            assert run.status == "stopped" and "nobody watched it for 1 s" in run.reason
            assert manager.runs[watched].status == "running"  # its socket is open
            assert manager.viewers.total() == 1
        run = wait_for(lambda: manager.runs[watched].terminal and manager.runs[watched])
        assert "nobody watched" in run.reason
        assert manager.viewers.total() == 0 and not manager.viewers.seen


def test_ws_without_cookie_is_a_watcher(client: TestClient) -> None:
    alice = as_visitor(client, None)
    run_id = client.post("/api/runs", json=QUICK).json()["id"]
    client.cookies.clear()
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws:
        seen = []
        try:
            while True:
                seen.append(json.loads(ws.receive_text()))
        except WebSocketDisconnect:
            pass
    assert seen[-1]["type"] == "status" and seen[-1]["status"] in TERMINAL
    as_visitor(client, alice)
