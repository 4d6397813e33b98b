"""Run-service benchmark: API latency and streaming throughput while runs train.

Starts `backprop serve` on 127.0.0.1 (a free port, a temporary database, a pool of 8
workers) and, with 0, 1, 4 and 8 runs training (the default spec: circle, [4, 2] tanh,
SGD, batch 10, evaluation every epoch, one WebSocket client per run), measures:
  - p50 / p99 latency of GET /healthz and of GET /api/runs (a few hundred sequential
    requests each, keep-alive),
  - total optimizer steps per second over all runs (from the runs' step counters),
  - events per second (and MB/s) delivered to the WebSocket clients.
Clients live in this process: WebSocket readers on a thread that only counts frames,
latency probes on the main thread. Loopback only; bounded (~1 minute).
Run: .venv/bin/python bench/service.py [--requests 300] [--runs 1 4 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

LONG = {"train": {"epochs": 10000}}  # 250k steps: always stopped by the bench


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Readers:
    """One WebSocket client per run on a background event loop; counts what arrives."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.frames = 0
        self.bytes = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tasks: list[Any] = []

    async def _read(self, run_id: str) -> None:
        url = f"{self.base}/ws/runs/{run_id}?after=0"
        async with websockets.connect(url, max_size=None) as ws:
            async for message in ws:
                self.frames += 1
                self.bytes += len(message)

    def follow(self, run_id: str) -> None:
        self.tasks.append(asyncio.run_coroutine_threadsafe(self._read(run_id), self.loop))

    def counts(self) -> tuple[int, int]:
        return self.frames, self.bytes

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def latencies(http: httpx.Client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = http.get(path)
        out.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return out


def total_steps(http: httpx.Client, ids: list[str]) -> int:
    return sum(http.get(f"/api/runs/{run_id}").json()["step"] for run_id in ids)


def phase(http: httpx.Client, readers: Readers, n_runs: int, requests: int) -> dict[str, Any]:
    ids = [http.post("/api/runs", json=LONG).json()["id"] for _ in range(n_runs)]
    for run_id in ids:
        readers.follow(run_id)
    deadline = time.monotonic() + 60
    while n_runs and min(http.get(f"/api/runs/{i}").json()["step"] for i in ids) == 0:
        if time.monotonic() > deadline:
            raise SystemExit("runs did not start within 60 s")
        time.sleep(0.1)
    time.sleep(1.0)  # warm up: every run training, every socket streaming
    steps0, (frames0, bytes0), t0 = total_steps(http, ids), readers.counts(), time.monotonic()
    health = latencies(http, "/healthz", requests)
    listing = latencies(http, "/api/runs", requests)
    steps1, (frames1, bytes1), t1 = total_steps(http, ids), readers.counts(), time.monotonic()
    for run_id in ids:
        http.delete(f"/api/runs/{run_id}")
    wait = time.monotonic() + 30
    while http.get("/healthz").json()["training"] and time.monotonic() < wait:
        time.sleep(0.1)
    seconds = t1 - t0
    return {
        "runs": n_runs,
        "healthz": (statistics.median(health), percentile(health, 99)),
        "list": (statistics.median(listing), percentile(listing, 99)),
        "steps_s": (steps1 - steps0) / seconds,
        "events_s": (frames1 - frames0) / seconds,
        "mb_s": (bytes1 - bytes0) / seconds / 1e6,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint")
    parser.add_argument("--runs", type=int, nargs="+", default=[0, 1, 4, 8])
    parser.add_argument("--workers", type=int, default=8, help="worker processes")
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-service-")
    env = {
        **os.environ,
        "PLAYGROUND_DATA_DIR": data,
        "PLAYGROUND_WORKERS": str(args.workers),
        "PLAYGROUND_MAX_RUNS_PER_CLIENT": "64",
    }
    backprop = Path(sys.executable).parent / "backprop"
    cmd = [str(backprop), "serve", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(cmd, env=env)
    readers = Readers(f"ws://127.0.0.1:{port}")
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + 120
        while True:
            try:
                if http.get("/healthz").json()["ready"] == args.workers:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not come up within 120 s")
            time.sleep(0.2)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        nice = os.environ.get("PLAYGROUND_WORKER_NICE", "10 (default)")
        print(
            f"backprop serve on :{port}, {args.workers} workers (nice {nice}), "
            f"{os.cpu_count()} CPUs, load average {load}"
        )
        print(
            f"{'runs':>4}  {'healthz p50/p99 ms':>18}  {'/api/runs p50/p99 ms':>20}  "
            f"{'steps/s':>8}  {'events/s':>8}  {'MB/s':>6}"
        )
        for n_runs in args.runs:
            r = phase(http, readers, n_runs, args.requests)
            print(
                f"{r['runs']:>4}  {r['healthz'][0]:>8.2f} / {r['healthz'][1]:>7.2f}  "
                f"{r['list'][0]:>10.2f} / {r['list'][1]:>7.2f}  {r['steps_s']:>8.0f}  "
                f"{r['events_s']:>8.1f}  {r['mb_s']:>6.2f}",
                flush=True,
            )
    finally:
        readers.close()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
