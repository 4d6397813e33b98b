"""The live stream over real sockets: one encoding for every viewer, pictures on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.web.service import TERMINAL, TIMEOUT, LiveServer, make_settings

# Long enough to outlast the 2 s time cap on any engine (the fused one takes 600 steps in
# a blink): each run trains for 2 s of wall time, then stops.
SPEC = {"data": {"samples": 100}, "train": {"epochs": 10000}}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("live"), snapshot_rate=60.0, max_run_seconds=2)
    with LiveServer(settings) as server:
        yield server


async def read_all(url: str, ready: asyncio.Event | None = None) -> list[str]:
    """Every text frame until the server closes the socket (heartbeats left out)."""
    got: list[str] = []
    async with websockets.connect(
        url, max_size=None, open_timeout=TIMEOUT, ping_interval=None
    ) as ws:
        if ready is not None:
            ready.set()
        async for raw in ws:
            assert isinstance(raw, str)  # text frames: JSON consumers read them as before
            if '"heartbeat"' not in raw[:40]:
                got.append(raw)
    return got


async def resume_when_paused(http: httpx.AsyncClient, run_id: str) -> None:
    """A run created paused is `queued` until a worker holds it; then it can resume."""
    for _ in range(int(TIMEOUT / 0.05)):
        if (await http.get(f"/api/runs/{run_id}")).json()["status"] == "paused":
            break
        await asyncio.sleep(0.05)
    assert (await http.post(f"/api/runs/{run_id}/resume")).status_code == 200


def snapshots_taken(replay: dict[str, Any]) -> int:
    """Pictures the worker took: every seq is one event, and only pictures are superseded."""
    kept = {e["seq"] for e in replay["events"] if e["type"] != "snapshot"}
    return replay["last_seq"] - len(kept)


def test_every_viewer_gets_the_same_bytes(live: LiveServer) -> None:
    async def scenario() -> list[list[str]]:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            run_id = (await http.post("/api/runs?paused=true", json=SPEC)).json()["id"]
            url = f"{live.ws}/ws/runs/{run_id}?after=0"
            ready = [asyncio.Event() for _ in range(6)]
            viewers = [asyncio.create_task(read_all(url, r)) for r in ready]
            await asyncio.gather(*(r.wait() for r in ready))
            await resume_when_paused(http, run_id)
            return await asyncio.gather(*viewers)

    streams = asyncio.run(scenario())
    by_seq: dict[int, set[str]] = {}
    for stream in streams:
        for raw in stream:
            by_seq.setdefault(json.loads(raw)["seq"], set()).add(raw)
    assert all(len(texts) == 1 for texts in by_seq.values())  # identical text per event
    pictures = [
        json.loads(next(iter(t))) for t in by_seq.values() if '"snapshot"' in next(iter(t))[:80]
    ]
    shared = [
        s
        for s in pictures
        if sum(s["seq"] in {json.loads(r)["seq"] for r in st} for st in streams) == 6
    ]
    assert len(shared) >= 3  # pictures all six drew, byte for byte
    live = [p for p in pictures if "diagnostics" not in p]  # the panel rides on <= 2 a second
    assert live and all(len(json.dumps(p)) < 8 * 1024 for p in live)  # bytes, not floats


def test_pictures_flow_as_fast_as_a_viewer_draws_them_and_rarely_without_one(
    live: LiveServer,
) -> None:
    async def one(watch: bool) -> tuple[int, float]:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            run_id = (await http.post("/api/runs?paused=true", json=SPEC)).json()["id"]
            url = f"{live.ws}/ws/runs/{run_id}?after=0"
            ready = asyncio.Event()
            viewer = asyncio.create_task(read_all(url, ready)) if watch else None
            if viewer is not None:
                await ready.wait()
            loop = asyncio.get_running_loop()
            await resume_when_paused(http, run_id)
            started = loop.time()
            while (await http.get(f"/api/runs/{run_id}")).json()["status"] not in TERMINAL:
                await asyncio.sleep(0.05)
            seconds = loop.time() - started
            if viewer is not None:
                await viewer
            replay = (await http.get(f"/api/runs/{run_id}/events")).json()
            return snapshots_taken(replay), seconds

    watched, t_watched = asyncio.run(one(True))
    alone, t_alone = asyncio.run(one(False))
    assert alone <= 1.0 * t_alone + 4, (alone, t_alone)  # snapshot_idle_rate: 1 a second
    assert watched > 2 * (1.0 * t_watched + 4), (watched, t_watched)
    # never beyond snapshot_rate, plus the pictures outside the pacing (the untrained net's
    # two, the end's exact one, a paused flush)
    assert watched <= 60 * t_watched + 8


def test_a_viewer_may_ask_for_neuron_pictures_without_owning_the_run(live: LiveServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=live.http, timeout=TIMEOUT) as http:
            run_id = (await http.post("/api/runs", json=SPEC)).json()["id"]
        got: list[dict[str, Any]] = []
        async with websockets.connect(
            f"{live.ws}/ws/runs/{run_id}?after=0", max_size=None, ping_interval=None
        ) as ws:  # another visitor: no cookie
            await ws.send(json.dumps({"action": "view", "neurons": True}))
            async for raw in ws:
                got.append(json.loads(raw))
        return got

    events = asyncio.run(scenario())
    reply = next(e for e in events if e["type"] == "reply")
    assert reply == {"type": "reply", "ok": True, "neurons": True}
    live_pictures = [e for e in events if e["type"] == "snapshot"][1:-1]
    assert live_pictures and sum("neurons" in e for e in live_pictures) >= len(live_pictures) - 2
