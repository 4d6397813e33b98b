"""Helpers for the run-service tests: settings, polling, a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

T = TypeVar("T")
QUICK = {"data": {"samples": 100}, "train": {"epochs": 10}}  # 50 steps: done in ~1 s
LONG = {"data": {"samples": 100}, "train": {"epochs": 10000}}  # 50k steps: always stopped
TERMINAL = {"finished", "stopped", "diverged", "failed", "interrupted"}
TIMEOUT = 90.0  # generous: the machine is shared and slow


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": 2,
        # Behaviour, not priority, is under test: on a machine busy with other work a
        # niced worker can be starved for minutes (test_api checks the default nice).
        "worker_nice": 0,
        "heartbeat_seconds": 1.0,
        "checkpoint_seconds": 1.0,
        "max_runs_per_client": 50,
    }
    return Settings(**{**base, **overrides})


def wait_for(fn: Callable[[], T | None], timeout: float = TIMEOUT, what: str = "") -> T:
    """Poll until fn() returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or fn}")
        time.sleep(0.02)


def wait_status(client: Any, run_id: str, statuses: set[str], timeout: float = TIMEOUT) -> dict:  # type: ignore[type-arg]
    def check() -> dict | None:  # type: ignore[type-arg]
        run = client.get(f"/api/runs/{run_id}").json()
        return run if run.get("status") in statuses else None

    return wait_for(check, timeout, f"run {run_id} to be {statuses}")


def events(client: Any, run_id: str, after: int = 0) -> list[dict[str, Any]]:
    response = client.get(f"/api/runs/{run_id}/events", params={"after": after})
    assert response.status_code == 200, response.text
    return response.json()["events"]


def wait_event(client: Any, run_id: str, pred: Callable[[dict[str, Any]], bool]) -> dict:  # type: ignore[type-arg]
    def check() -> dict | None:  # type: ignore[type-arg]
        return next((e for e in events(client, run_id) if pred(e)), None)

    return wait_for(check, what=f"an event of run {run_id}")


def start_paused(client: Any, spec: dict | None = None) -> str:  # type: ignore[type-arg]
    """A run that a worker holds, paused at step 0 with its first picture taken."""
    response = client.post("/api/runs", params={"paused": "true"}, json=spec or LONG)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    # The first picture goes out twice: at once, then with the diagnostics panel.
    wait_event(client, run_id, lambda e: e["type"] == "snapshot" and "diagnostics" in e)
    return run_id


@contextmanager
def app_client(
    settings: Settings, client: tuple[str, int] = ("testclient", 50000)
) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=client) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, settings: Settings, sndbuf: int | None = None, **config: Any) -> None:
        self.app: FastAPI = create_app(settings)
        # Our own listening socket: accepted sockets inherit its buffer size, so a small
        # `sndbuf` turns off the kernel's autotuning (megabytes) and slow clients push back.
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sndbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        # As `backprop serve` runs it: X-Forwarded-For is the app's business (hosting/proxies.py).
        config.setdefault("proxy_headers", False)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="on",
                **{"ws_per_message_deflate": False, **config},  # as `backprop serve`
            )
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_for(lambda: self.server.started, 30, "uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
