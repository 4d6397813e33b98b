"""WebSocket streaming: Starlette's test client, then a real uvicorn and `websockets`."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.web.service import (
    LONG,
    QUICK,
    TERMINAL,
    TIMEOUT,
    LiveServer,
    app_client,
    events,
    make_settings,
    wait_event,
    wait_status,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("ws"), heartbeat_seconds=0.3)
    with app_client(settings) as c:
        yield c


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("live"))) as server:
        yield server


def assert_complete(received: list[dict[str, Any]], replay: list[dict[str, Any]]) -> None:
    """No duplicate, in order, nothing missing but pictures a newer picture replaced."""
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(set(seqs)), "duplicates or disorder"
    assert seqs[0] == 1 and received[-1]["type"] == "status"
    assert received[-1]["status"] in TERMINAL
    non_pictures = [e for e in received if e["type"] != "snapshot"]
    assert non_pictures == [e for e in replay if e["type"] != "snapshot"]
    missing = set(range(1, seqs[-1] + 1)) - set(seqs)
    assert not missing & {e["seq"] for e in replay if e["type"] != "snapshot"}


def read_to_close(ws: Any) -> tuple[list[dict[str, Any]], int]:
    got: list[dict[str, Any]] = []
    while True:
        try:
            message = ws.receive_json()
        except WebSocketDisconnect as exc:
            return got, exc.code
        if message["type"] != "heartbeat":
            got.append(message)


# ---- Starlette test client ---------------------------------------------------------------


def test_stream_a_run_from_the_start_to_a_clean_close(client: TestClient) -> None:
    run_id = client.post("/api/runs", json=QUICK).json()["id"]
    with client.websocket_connect(f"/ws/runs/{run_id}?after=0") as ws:
        got, code = read_to_close(ws)
    assert code == 1000
    assert_complete(got, events(client, run_id))
    types = [e["type"] for e in got]
    assert types.index("start") < types.index("metrics") < types.index("snapshot")
    assert got[-1]["summary"]["step"] == 50


def test_late_join_gets_exactly_what_it_missed(client: TestClient) -> None:
    run_id = client.post("/api/runs", json=QUICK).json()["id"]
    wait_status(client, run_id, TERMINAL)
    replay = events(client, run_id)
    middle = replay[len(replay) // 2]["seq"]
    with client.websocket_connect(f"/ws/runs/{run_id}?after={middle}") as ws:
        got, code = read_to_close(ws)
    assert code == 1000 and got == [e for e in replay if e["seq"] > middle]
    with client.websocket_connect(f"/ws/runs/{run_id}?after={replay[-1]['seq']}") as ws:
        assert read_to_close(ws) == ([], 1000)


def test_unknown_run_closes_with_4404(client: TestClient) -> None:
    with (
        client.websocket_connect("/ws/runs/nope") as ws,
        pytest.raises(WebSocketDisconnect) as info,
    ):
        ws.receive_json()
    assert info.value.code == 4404


def test_heartbeats_and_control_messages_over_the_socket(client: TestClient) -> None:
    run_id = client.post("/api/runs", params={"paused": "1"}, json=LONG).json()["id"]
    # The untrained net's picture goes out twice: at once, then with the diagnostics panel.
    wait_event(client, run_id, lambda e: e["type"] == "snapshot" and "diagnostics" in e)
    last = events(client, run_id)[-1]["seq"]
    with client.websocket_connect(f"/ws/runs/{run_id}?after={last}") as ws:
        beat = ws.receive_json()
        assert beat == {"type": "heartbeat", "run_id": run_id, "last_seq": last}
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"action": "fly"})
        assert ws.receive_json()["status"] == 400
        ws.send_json({"action": "resume"})
        assert ws.receive_json()["type"] == "reply"  # resumed: a reply, not an error
        ws.send_json({"action": "resume"})
        conflict = next(m for m in iter(ws.receive_json, None) if m["type"] == "error")
        assert conflict["status"] == 409
        ws.send_json({"action": "stop"})
        got, code = read_to_close(ws)
    assert code == 1000 and got[-1]["status"] == "stopped"


# ---- a real server and a real client -------------------------------------------------------


async def collect(url: str, stop_after: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Events from a socket until it closes (or `stop_after` metrics frames, then leave)."""
    got: list[dict[str, Any]] = []
    async with websockets.connect(
        url, max_size=None, open_timeout=TIMEOUT, ping_interval=None
    ) as ws:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "heartbeat":
                continue
            got.append(message)
            if stop_after and sum(e["type"] == "metrics" for e in got) >= stop_after:
                return got, -1
        assert ws.close_code is not None
        return got, ws.close_code


def test_concurrent_runs_each_stream_completely(live: LiveServer) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            spec = {"data": {"samples": 100}, "train": {"epochs": 60}}
            ids = [(await http.post("/api/runs", json=spec)).json()["id"] for _ in range(3)]
            results = await asyncio.gather(
                *(collect(f"{live.ws}/ws/runs/{run_id}?after=0") for run_id in ids)
            )
            for run_id, (got, code) in zip(ids, results, strict=True):
                assert code == 1000
                replay = (await http.get(f"/api/runs/{run_id}/events")).json()["events"]
                assert_complete(got, replay)
                assert got[-1]["status"] == "finished" and got[-1]["summary"]["step"] == 300
                start = next(e for e in got if e["type"] == "start")  # which engine, and why
                assert start["engine"]["path"] == "fused" and start["engine"]["reason"], start
            # Two workers, three runs: the third waited in the queue, its position said so.
            positions = [e["position"] for e in results[2][0] if e.get("status") == "queued"]
            assert positions == sorted(positions, reverse=True) and positions[-1] >= 1
            statuses = [e["status"] for e in results[2][0] if e["type"] == "status"]
            assert statuses[-2:] == ["running", "finished"]

    asyncio.run(scenario())


def test_reconnect_and_late_join_without_gaps(live: LiveServer) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            run_id = (await http.post("/api/runs", json=LONG)).json()["id"]
            url = f"{live.ws}/ws/runs/{run_id}"
            first, _ = await collect(f"{url}?after=0", stop_after=5)
            await asyncio.sleep(0.3)  # events go by while we are away
            late = asyncio.create_task(collect(f"{url}?after={first[-1]['seq'] - 3}"))
            second_task = asyncio.create_task(collect(f"{url}?after={first[-1]['seq']}"))
            await asyncio.sleep(0.5)
            assert (await http.post(f"/api/runs/{run_id}/stop")).status_code == 200
            second, code = await second_task
            assert code == 1000
            replay = (await http.get(f"/api/runs/{run_id}/events")).json()["events"]
            assert_complete(first + second, replay)
            late_got, _ = await late
            # The last three events again, except pictures a newer one superseded meanwhile.
            head = [e for e in late_got if e["seq"] <= first[-1]["seq"] and e["type"] != "snapshot"]
            again = [e for e in first[-3:] if e["type"] != "snapshot"]
            assert head == again or late_got[0]["seq"] > first[-3]["seq"]
            assert [e for e in late_got if e["type"] != "snapshot"][-1] == replay[-1]

    asyncio.run(scenario())


def test_a_stalled_client_holds_up_nobody(tmp_path: Path) -> None:
    async def scenario(live: LiveServer) -> None:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            # Big pictures for 3 s (the time cap ends it, however fast the engine steps):
            # more data than all the buffers in between.
            spec = {
                "data": {"samples": 100},
                "train": {"epochs": 10000},
                "stream": {"grid_size": 128},
            }
            run_id = (await http.post("/api/runs", json=spec)).json()["id"]
            url = f"{live.ws}/ws/runs/{run_id}?after=0"
            # A tiny receive buffer, a queue of one and no reads: TCP pushes back at once.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", live.port))
            async with websockets.connect(
                url, sock=sock, max_size=None, max_queue=1, compression=None, ping_interval=None
            ) as stalled:
                got, code = await collect(url)  # another client streams it all meanwhile
                assert code == 1000 and got[-1]["status"] == "stopped"
                run = (await http.get(f"/api/runs/{run_id}")).json()
                assert run["status"] == "stopped" and "at most 3 s" in run["reason"]
                assert run["step"] > 500  # the worker never waited either
                drained = [json.loads(m) async for m in stalled]
            seqs = [e["seq"] for e in drained if "seq" in e]
            assert seqs == sorted(set(seqs)) and drained[-1]["status"] == "stopped"

            # It got the latest state, not the backlog: stale pictures were skipped.
            def pictures(evs: list[dict[str, Any]]) -> int:
                return sum(e["type"] == "snapshot" for e in evs)

            assert pictures(drained) < pictures(got)

    # Small socket buffers on the server (no autotuning to megabytes): a client that
    # stops reading pushes back within a few events. No keepalive pings: on a slow
    # machine the stall outlasts uvicorn's 40 s ping timeout, which would drop the client.
    settings = make_settings(tmp_path, snapshot_rate=20, max_run_seconds=3)
    with LiveServer(settings, sndbuf=16384, ws_ping_interval=None) as live:
        asyncio.run(scenario(live))
