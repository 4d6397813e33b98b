"""Scale-out benchmark: training throughput and event latency through the job queue.

Starts a private redis-server and `backprop serve` (PLAYGROUND_EXECUTOR=queue, a temporary
SQLite store) on 127.0.0.1, then for 1 and 2 `backprop worker` processes: as many runs as
workers (the default spec, circle, [4, 2] tanh, SGD, batch 10, one WebSocket client per
run) train for a fixed window and we measure
  - total optimizer steps per second (from the runs' step counters),
  - event latency, worker emit -> client receive: each stream entry in Redis carries the
    worker's emit time (`t`); the client stamps each event on arrival; p50 / p99 over the
    window's metrics and snapshot events (same machine, same clock).
With --local the same is measured on the local process pool (PLAYGROUND_EXECUTOR=local,
pipes instead of Redis; throughput only) for comparison. Loopback only; ~1-2 minutes.
Run: .venv/bin/python bench/scaleout.py [--workers 1 2] [--seconds 8] [--local]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets

LONG = {"train": {"epochs": 10000}}  # 250k steps: always stopped by the bench
BACKPROP = str(Path(sys.executable).parent / "backprop")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait(what: str, fn: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = fn()
        except (httpx.TransportError, redis.RedisError, KeyError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


class Readers:
    """WebSocket clients on a background loop; they stamp every event on arrival."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.arrivals: dict[str, dict[int, float]] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _read(self, run_id: str) -> None:
        seen = self.arrivals.setdefault(run_id, {})
        async with websockets.connect(f"{self.base}/ws/runs/{run_id}", max_size=None) as ws:
            async for message in ws:
                now = time.time()
                seq = json.loads(message).get("seq")
                if seq is not None:
                    seen[int(seq)] = now

    def follow(self, run_id: str) -> None:
        asyncio.run_coroutine_threadsafe(self._read(run_id), self.loop)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [BACKPROP, "serve", "--port", str(port), "--log-level", "warning"]
    log = Path(env["PLAYGROUND_DATA_DIR"]) / "serve.log"
    return subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def phase(http: httpx.Client, readers: Readers | None, runs: int, seconds: float) -> dict:  # type: ignore[type-arg]
    ids = [http.post("/api/runs", json=LONG).json()["id"] for _ in range(runs)]
    for run_id in ids:
        if readers is not None:
            readers.follow(run_id)

    def steps() -> int:
        return sum(http.get(f"/api/runs/{i}").json()["step"] for i in ids)

    wait("every run to train", lambda: all(http.get(f"/api/runs/{i}").json()["step"] for i in ids))
    time.sleep(1.0)  # warm up
    s0, t0, wall0 = steps(), time.monotonic(), time.time()
    time.sleep(seconds)
    s1, t1, wall1 = steps(), time.monotonic(), time.time()
    for run_id in ids:
        http.post(f"/api/runs/{run_id}/stop")
    wait("the runs to end", lambda: http.get("/healthz").json()["training"] == 0, 60)
    return {"ids": ids, "steps_s": (s1 - s0) / (t1 - t0), "window": (wall0, wall1)}


def latencies(client: redis.Redis, readers: Readers, ids: list[str], window: Any) -> list[float]:
    out = []
    for run_id in ids:
        arrivals = readers.arrivals.get(run_id, {})
        for _, fields in client.xrange(f"bp:run:{run_id}:ev"):
            meta = json.loads(fields[b"m"])
            sent = float(fields[b"t"])
            seq = meta.get("seq")
            if meta.get("kind") != "event" or seq not in arrivals:
                continue
            if window[0] <= sent <= window[1]:
                out.append((arrivals[seq] - sent) * 1000)
    return out


def queue_bench(args: argparse.Namespace, base_env: dict[str, str]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    redis_port, port = free_port(), free_port()
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    redis_cmd = [binary, "--port", str(redis_port), "--save", "", "--appendonly", "no"]
    redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, cwd=workdir)
    url = f"redis://127.0.0.1:{redis_port}/0"
    client = redis.Redis.from_url(url)
    wait("redis-server", client.ping, 30)
    env = {**base_env, "PLAYGROUND_EXECUTOR": "queue", "PLAYGROUND_REDIS_URL": url}
    env["PLAYGROUND_DATA_DIR"] = str(workdir)
    server = serve(env, port)
    readers = Readers(f"ws://127.0.0.1:{port}")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        wait("backprop serve", lambda: http.get("/healthz").json()["redis"] == "ok")
        print(f"{'workers':>7}  {'runs':>4}  {'steps/s':>8}  {'latency p50 ms':>14}  {'p99 ms':>7}")
        for count in args.workers:
            log = (workdir / "workers.log").open("ab")
            while len(workers) < count:
                cmd = [BACKPROP, "worker"]
                workers.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=log))
            wait(f"{count} workers", lambda c=count: http.get("/healthz").json()["pool"] == c)
            result = phase(http, readers, count, args.seconds)
            lat = latencies(client, readers, result["ids"], result["window"])
            p50 = statistics.median(lat) if lat else float("nan")
            p99 = percentile(lat, 99) if lat else float("nan")
            print(
                f"{count:>7}  {count:>4}  {result['steps_s']:>8.0f}  {p50:>14.2f}  {p99:>7.2f}"
                f"   ({len(lat)} events)",
                flush=True,
            )
    finally:
        readers.close()
        for proc in [*workers, server]:
            proc.terminate()
        for proc in [*workers, server]:
            proc.wait(30)
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def local_bench(args: argparse.Namespace, base_env: dict[str, str]) -> None:
    print(f"{'local pool':>10}  {'runs':>4}  {'steps/s':>8}")
    for count in args.workers:
        workdir = tempfile.mkdtemp(prefix="bench-scaleout-local-")
        port = free_port()
        env = {**base_env, "PLAYGROUND_EXECUTOR": "local", "PLAYGROUND_DATA_DIR": workdir}
        env["PLAYGROUND_WORKERS"] = str(count)
        server = serve(env, port)
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            wait("backprop serve", lambda h=http, c=count: h.get("/healthz").json()["ready"] == c)
            result = phase(http, None, count, args.seconds)
            print(f"{count:>10}  {count:>4}  {result['steps_s']:>8.0f}", flush=True)
        finally:
            server.terminate()
            server.wait(30)
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring window")
    parser.add_argument("--local", action="store_true", help="also the local pool")
    args = parser.parse_args()
    base_env = {**os.environ, "PLAYGROUND_MAX_RUNS_PER_CLIENT": "64"}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    nice = os.environ.get("PLAYGROUND_WORKER_NICE", "10 (default)")
    print(f"{os.cpu_count()} CPUs, load average {load}, workers at nice {nice}")
    queue_bench(args, base_env)
    if args.local:
        local_bench(args, base_env)


if __name__ == "__main__":
    main()
