"""The multi-host setup: two web servers on one PostgreSQL database and one Redis, a
queue worker apart. Skipped when PostgreSQL (127.0.0.1:5432, trust auth) is unreachable.
Each test module gets a private database, dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.queue.conftest import RedisServer, Workers, queue_settings
from tests.web.service import QUICK, TERMINAL, app_client, events, start_paused, wait_status

psycopg = pytest.importorskip("psycopg", reason="the queue extra is not installed (.[queue])")
ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    name = f"playground_queue_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_two_web_servers_share_a_postgres_store(
    tmp_path: Path, database: str, redis_server: RedisServer, workers: Workers
) -> None:
    workers.start(1)
    workers.wait_ready(redis_server.client(), 1)
    one = queue_settings(tmp_path / "one", redis_server.url, database_url=database)
    two = queue_settings(tmp_path / "two", redis_server.url, database_url=database)
    with app_client(one) as first:
        paused = start_paused(first)  # holds the worker
        with app_client(two) as second:  # starts later: must not end the first's run
            assert second.get(f"/api/runs/{paused}").json()["status"] == "paused"
            assert second.post(f"/api/runs/{paused}/stop").status_code == 200
            assert wait_status(first, paused, TERMINAL)["status"] == "stopped"
            done = second.post("/api/runs", json=QUICK).json()["id"]
            finished = wait_status(second, done, TERMINAL)
            assert finished["status"] == "finished"
            assert first.get(f"/api/runs/{done}").json()["summary"] == finished["summary"]
            assert events(first, done) == events(second, done)
            listed = [r["id"] for r in first.get("/api/runs").json()["runs"]]
            assert listed[:2] == [done, paused]  # one list, newest first
