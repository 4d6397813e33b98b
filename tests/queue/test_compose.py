"""The docker-compose scale profile, read rather than run (no Docker engine here): the
services a multi-host setup needs, wired to each other by name."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
ROOT = Path(__file__).resolve().parents[2]


def test_the_scale_profile_wires_redis_postgres_workers_and_a_web_server() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    scale = {name for name, s in services.items() if "scale" in s.get("profiles", [])}
    assert scale == {"redis", "postgres", "worker", "web-scale"}
    assert "profiles" not in services["web"]  # `docker compose up` stays single-host
    worker, web = services["worker"], services["web-scale"]
    assert worker["command"] == ["backprop", "worker"]
    assert worker["build"]["args"]["EXTRAS"] == "[queue]" == web["build"]["args"]["EXTRAS"]
    assert worker["environment"]["PLAYGROUND_REDIS_URL"] == "redis://redis:6379/0"
    env = web["environment"]
    assert env["PLAYGROUND_EXECUTOR"] == "queue"
    assert env["PLAYGROUND_REDIS_URL"] == worker["environment"]["PLAYGROUND_REDIS_URL"]
    assert env["PLAYGROUND_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["PLAYGROUND_DATABASE_URL"]
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ARG EXTRAS=""' in dockerfile and '-e ".${EXTRAS}"' in dockerfile
