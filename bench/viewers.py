"""Viewers against training (bench/load.py --viewers): 8 runs of a 3x16 net, 32 viewers.

Starts the server (this tree and, with `--baseline REF`, a git ref beside it, each with
8 workers), starts 8 long runs on each (spiral, 3 hidden layers of 16 tanh units, batch
10) and alternates, round after round and variant after variant (the other variant's
runs paused meanwhile), two phases of `--seconds` each:
  - alone: the runs train, nobody watches;
  - watched: 32 WebSocket viewers (4 per run, a separate process, each parsing every
    frame as a page does; plus `--stalled` per run that never read) follow them.
It reports, per variant, the median over runs and rounds of steps/s alone and watched,
their ratio (goal >= 0.5), the bytes per snapshot the viewers received (goal <= 8 KB),
snapshots and metrics frames per second per viewer, and the API latency while watched
(GET /api/runs/{id} and /healthz every 50 ms; goal p99 < 100 ms). Bounded; loopback.
Run: .venv/bin/python bench/load.py --viewers [--baseline REF] [--rounds 3] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live import ROOT, Server, extract  # bench/ is a folder of scripts

SPEC = {
    "data": {"dataset": "spiral"},
    "model": {"layers": [{"units": 16}, {"units": 16}, {"units": 16}]},
    "train": {"batch_size": 10, "epochs": 10000},
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0


# ---- viewers (child process) ---------------------------------------------------------
async def _view(url: str, seconds: float, out: list[dict[str, Any]]) -> None:
    counts = {"snapshot": 0, "metrics": 0, "snapshot_bytes": 0, "bytes": 0}
    async with websockets.connect(url, max_size=None, open_timeout=60, ping_interval=None) as ws:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            event = json.loads(raw)  # what a page does with every frame
            counts["bytes"] += len(raw)
            kind = event.get("type")
            if kind in ("snapshot", "metrics"):
                counts[kind] += 1
            if kind == "snapshot":
                counts["snapshot_bytes"] += len(raw)
    out.append(counts)


async def _stall(host: str, port: int, path: str, seconds: float) -> None:
    """A viewer that connects and never reads: its buffers fill, the server must not care."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    async with websockets.connect(
        f"ws://{host}:{port}{path}", sock=sock, max_size=None, max_queue=1, ping_interval=None
    ):
        await asyncio.sleep(seconds)


def viewers_main(ws: str, port: int, runs: dict[str, int], per_run: int, stalled: int,
                 seconds: float, out: Any) -> None:  # fmt: skip
    async def main() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        tasks = [
            _view(f"{ws}/ws/runs/{r}?after={n}", seconds, got)
            for r, n in runs.items()
            for _ in range(per_run)
        ]
        tasks += [
            _stall("127.0.0.1", port, f"/ws/runs/{r}?after={n}", seconds)
            for r, n in runs.items()
            for _ in range(stalled)
        ]
        await asyncio.gather(*tasks, return_exceptions=True)
        return got

    out.put(asyncio.run(main()))


# ---- phases (this process) ------------------------------------------------------------
async def steps(http: httpx.AsyncClient, runs: list[str]) -> dict[str, int]:
    views = await asyncio.gather(*(http.get(f"/api/runs/{r}") for r in runs))
    return {r: v.json()["step"] for r, v in zip(runs, views, strict=True)}


async def probe(http: httpx.AsyncClient, runs: list[str], seconds: float) -> list[float]:
    lat: list[float] = []
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        i += 1
        started = time.perf_counter()
        await http.get("/healthz" if i % 2 else f"/api/runs/{runs[i % len(runs)]}")
        lat.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return lat


def phase(
    server: Server, runs: list[str], args: argparse.Namespace, watched: bool
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out: Any = ctx.Queue()
    child = None
    if watched:
        ws = server.http.replace("http", "ws")
        # They join live (after = the run's last seq), as viewers already watching would
        # be: a replay of the whole buffer per phase is a join cost, not a watching cost.
        at = {
            r: httpx.get(f"{server.http}/api/runs/{r}", timeout=60).json()["last_seq"] for r in runs
        }
        child = ctx.Process(
            target=viewers_main,
            args=(
                ws,
                server.port,
                at,
                args.clients // len(runs),
                args.stalled,
                args.seconds + 1,
                out,
            ),
        )
        child.start()

    async def measure() -> tuple[dict[str, int], dict[str, int], list[float], float]:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            await asyncio.sleep(1.0)  # viewers connected and replayed; steady state
            a, t0 = await steps(http, runs), time.monotonic()
            lat = await probe(http, runs, args.seconds - 1.0)
            b, t1 = await steps(http, runs), time.monotonic()
            return a, b, lat, t1 - t0

    a, b, lat, dt = asyncio.run(measure())
    result: dict[str, Any] = {"steps_per_s": [(b[r] - a[r]) / dt for r in runs], "latency": lat}
    if child is not None:
        result["viewers"] = out.get(timeout=120)
        child.join(30)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="a git ref to measure beside this tree")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32, help="viewers in all")
    parser.add_argument("--stalled", type=int, default=0, help="extra stalled viewers per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline:
        trees = {f"baseline {args.baseline}": extract(args.baseline), **trees}
    extra = {"PLAYGROUND_MAX_RUNS_PER_CLIENT": "64", "PLAYGROUND_MAX_TRAINING_RUNS": str(args.runs)}
    os.environ.update(extra)
    servers = {name: Server(tree, args.runs) for name, tree in trees.items()}
    runs: dict[str, list[str]] = {}
    data: dict[str, dict[str, list[Any]]] = {n: {"alone": [], "watched": []} for n in trees}
    try:
        for name, server in servers.items():
            create = f"{server.http}/api/runs?paused=true"
            runs[name] = [
                httpx.post(create, json=SPEC, timeout=60).json()["id"] for _ in range(args.runs)
            ]
        for name, server in servers.items():  # created paused: queued until a worker holds it
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                got = [
                    httpx.get(f"{server.http}/api/runs/{r}", timeout=60).json() for r in runs[name]
                ]
                if all(g["status"] == "paused" for g in got):
                    break
                time.sleep(0.5)
        for _ in range(args.rounds):
            for name, server in servers.items():  # interleaved; the other variant paused
                for r in runs[name]:
                    httpx.post(f"{server.http}/api/runs/{r}/resume", timeout=60)
                data[name]["alone"].append(phase(server, runs[name], args, watched=False))
                data[name]["watched"].append(phase(server, runs[name], args, watched=True))
                for r in runs[name]:
                    httpx.post(f"{server.http}/api/runs/{r}/pause", timeout=60)
    finally:
        for server in servers.values():
            server.close()
    summary: dict[str, Any] = {"load": os.getloadavg()}
    for name, d in data.items():
        alone = [v for p in d["alone"] for v in p["steps_per_s"]]
        watched = [v for p in d["watched"] for v in p["steps_per_s"]]
        ratios = [
            w / a
            for pa, pw in zip(d["alone"], d["watched"], strict=True)
            for a, w in zip(pa["steps_per_s"], pw["steps_per_s"], strict=True)
            if a > 0
        ]
        views = [v for p in d["watched"] for v in p["viewers"]]
        snaps = sum(v["snapshot"] for v in views)
        lat = [x for p in d["watched"] for x in p["latency"]]
        lat_alone = [x for p in d["alone"] for x in p["latency"]]
        summary[name] = {
            "steps_per_s_alone": round(statistics.median(alone), 1),
            "steps_per_s_watched": round(statistics.median(watched), 1),
            "watched_over_alone_median": round(statistics.median(ratios), 3) if ratios else None,
            "watched_over_alone_worst": round(min(ratios), 3) if ratios else None,
            "bytes_per_snapshot": round(sum(v["snapshot_bytes"] for v in views) / max(1, snaps)),
            "snapshots_per_s_per_viewer": round(snaps / max(1, len(views)) / (args.seconds + 1), 1),
            "metrics_per_s_per_viewer": round(
                sum(v["metrics"] for v in views) / max(1, len(views)) / (args.seconds + 1), 1
            ),
            "viewers": len(views),
            "api_p50_ms_watched": round(pct(lat, 50) * 1000, 1),
            "api_p99_ms_watched": round(pct(lat, 99) * 1000, 1),
            "api_p99_ms_alone": round(pct(lat_alone, 99) * 1000, 1),
        }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
