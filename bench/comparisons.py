"""Comparisons through the run service (real app, worker processes, WebSocket).

    .venv/bin/python -m bench.comparisons [--epochs 60] [--ks 2,4,8]

For K members: wall time from POST /api/comparisons to the terminal status, against one
run of the same spec (POST /api/runs) and K runs queued at once (the pool trains at most
`workers` of them together); the stream a client receives (metrics ticks per second,
pictures per second, KB per second); and the API's latency (GET /healthz) meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.web.service import TERMINAL, LiveServer, make_settings

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "rmsprop", "adamw", "nadam", "adagrad"]


def watch(url: str) -> dict[str, Any]:
    """Read a stream to its end: event counts by type and the bytes received."""
    counts: dict[str, int] = {}
    size, started = 0, time.monotonic()
    with connect(url, max_size=None) as ws:
        for raw in ws:
            size += len(raw)
            event = json.loads(raw)
            counts[event["type"]] = counts.get(event["type"], 0) + 1
            if event["type"] == "status" and event["status"] in TERMINAL:
                break
    seconds = time.monotonic() - started
    return {"counts": counts, "kb": size / 1024, "seconds": seconds}


def latency(http: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=http) as client:
        while not stop.is_set():
            t0 = time.perf_counter()
            client.get("/healthz")
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--ks", default="2,4,8")
    args = parser.parse_args()
    base = {"data": {"dataset": "xor", "val_fraction": 0.2}, "train": {"epochs": args.epochs}}
    settings = make_settings(Path(tempfile.mkdtemp()), worker_nice=0)
    with LiveServer(settings) as server, httpx.Client(base_url=server.http, timeout=60) as client:
        while client.get("/healthz").json().get("ready", 0) < 2:
            time.sleep(0.2)
        print(f"spec: xor, {args.epochs} epochs, batch 10; pool of {settings.workers} workers")

        def run_alone() -> float:
            t0 = time.monotonic()
            rid = client.post("/api/runs", json=base).json()["id"]
            watch(f"{server.ws}/ws/runs/{rid}")
            return time.monotonic() - t0

        one = min(run_alone() for _ in range(2))
        print(f"one run:            {one:6.2f} s")
        for k in [int(x) for x in args.ks.split(",")]:
            members = [{"optimizer": {"name": name}} for name in OPTIMIZERS[:k]]
            samples: list[float] = []
            stop = threading.Event()
            pinger = threading.Thread(target=latency, args=(server.http, stop, samples))
            pinger.start()
            t0 = time.monotonic()
            cid = client.post("/api/comparisons", json={"base": base, "members": members}).json()[
                "id"
            ]
            stream = watch(f"{server.ws}/ws/comparisons/{cid}")
            together = time.monotonic() - t0
            stop.set()
            pinger.join()
            view = client.get(f"/api/comparisons/{cid}").json()
            t0 = time.monotonic()
            ids = [
                client.post(
                    "/api/runs",
                    json={**base, "train": {**base["train"], "optimizer": m["optimizer"]}},
                ).json()["id"]
                for m in members
            ]
            for rid in ids:
                watch(f"{server.ws}/ws/runs/{rid}")
            separate = time.monotonic() - t0
            c, s = stream["counts"], stream["seconds"]
            p99 = statistics.quantiles(samples, n=100)[98] if len(samples) > 10 else float("nan")
            print(
                f"K={k} ({view['mode']}): {together:6.2f} s = {together / one:4.2f}x one run; "
                f"{k} separate runs {separate:6.2f} s"
            )
            rates = {t: c.get(t, 0) / s for t in ("metrics", "snapshot", "summary")}
            print(
                f"     stream: {rates['metrics'] / k:5.1f} frames/s per member, "
                f"{rates['snapshot']:4.1f} pictures/s, {rates['summary']:3.1f} tables/s, "
                f"{stream['kb'] / s:6.1f} KB/s; /healthz p50 "
                f"{statistics.median(samples):.1f} ms, p99 {p99:.1f} ms"
            )


if __name__ == "__main__":
    main()
