"""Job-queue tests: a private redis-server on a free port and real `backprop worker`
processes (skipped with a reason when redis-server or the queue extra is missing)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.web.service import free_port, make_settings, wait_for

redis = pytest.importorskip("redis", reason="the queue extra is not installed (.[queue])")
pytest.importorskip("dramatiq", reason="the queue extra is not installed (.[queue])")

LEASE = 2.0  # seconds: a killed worker's run fails within about this (tests keep it short)
START_TIMEOUT = 90.0  # a worker imports torch: slow on a loaded 2-core machine


class RedisServer:
    """`redis-server --port N --save "" --appendonly no` as a child process."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir, self.port = workdir, port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary is not None
        args = [binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        args += ["--daemonize", "no", "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(ready, 30, "redis-server to answer")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def client(self) -> Any:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10)


@dataclass
class Workers:
    """`backprop worker` processes against one Redis; their logs go to workdir."""

    redis_url: str
    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PLAYGROUND_REDIS_URL": self.redis_url,
            "PLAYGROUND_QUEUE_LEASE_SECONDS": str(LEASE),
            "PLAYGROUND_WORKER_NICE": "5",
            **extra,
        }

    def start(self, count: int = 1, **extra: str) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            log = (self.workdir / f"worker-{len(self.procs)}.log").open("ab")
            cmd = [sys.executable, "-m", "app.cli", "worker"]
            proc = subprocess.Popen(cmd, env=self.env(**extra), stdout=log, stderr=log)
            self.procs.append(proc)
            started.append(proc)
        return started

    def registered(self, client: Any) -> set[int]:
        """Pids of the workers alive in the queue's registry."""
        pids = set()
        for worker_id in client.smembers("bp:workers"):
            value = client.get(f"bp:worker:{worker_id.decode()}")
            if value is not None:
                pids.add(int(json.loads(value)["pid"]))
        return pids

    def wait_ready(self, client: Any, count: int) -> set[int]:
        mine = {p.pid for p in self.procs if p.poll() is None}

        def ready() -> set[int] | None:
            for proc in self.procs:
                if proc.poll() is not None and proc.returncode not in (0, -9):
                    raise AssertionError(f"a worker exited with {proc.returncode}: {self.logs()}")
            up = self.registered(client) & mine
            return up if len(up) >= count else None

        return wait_for(ready, START_TIMEOUT, f"{count} queue workers to register")

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.workdir.glob("worker-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    pool = Workers(redis_server.url, tmp_path_factory.mktemp("workers"))
    yield pool
    pool.stop()


def queue_settings(data_dir: Path, redis_url: str, **overrides: Any) -> Settings:
    return make_settings(
        data_dir,
        executor="queue",
        redis_url=redis_url,
        queue_lease_seconds=LEASE,
        **overrides,
    )
