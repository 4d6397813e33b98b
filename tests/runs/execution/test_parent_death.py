"""Every process a server starts dies with it (issue 14): after `kill -9` of the server the
forkserver, the run workers and the landscape pool all exit within seconds (they used to
linger for 30-80 s holding ~580 MB). A real server, a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.web.runs.test_restart import pid_alive
from tests.web.service import QUICK, TERMINAL, free_port, start_paused, wait_for, wait_status


def descendants(root: int) -> set[int]:
    """Every live process under `root` (from /proc: pid -> parent)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in found]
        found.update(children)
        frontier.extend(children)
    return {p for p in found if pid_alive(p)}


def test_children_die_with_a_killed_server(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PLAYGROUND_DATA_DIR": str(tmp_path),
        "PLAYGROUND_WORKERS": "1",
        "PLAYGROUND_WORKER_NICE": "0",
        "PLAYGROUND_LANDSCAPE_WORKERS": "1",
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
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

        def ready() -> bool:
            try:
                return bool(http.get("/healthz").json()["ready"] == 1)
            except httpx.TransportError:
                return False

        wait_for(ready, what="backprop serve")
        done = http.post("/api/runs", json=QUICK).json()["id"]
        wait_status(http, done, TERMINAL)
        # An ended run's landscape starts the landscape pool; a paused run holds a worker.
        landscape = http.post(f"/api/runs/{done}/landscape", json={"steps": 3})
        assert landscape.status_code == 200, landscape.text
        start_paused(http)
        children = descendants(server.pid)
        assert len(children) >= 3, children  # forkserver, run worker, landscape process
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        log.close()
    # Workers and the landscape process go at once; the forkserver and the resource
    # tracker follow when their pipes close (a few seconds of interpreter teardown).
    wait_for(lambda: not any(pid_alive(p) for p in children), 20, "the children to exit")
