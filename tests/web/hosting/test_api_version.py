"""The versioned prefix /api/v1 and its /api alias reach the same endpoints; the schema
names only /api/v1; the version string is pyproject's, read back everywhere."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app
from tests.web.service import QUICK, TERMINAL, app_client, make_settings, wait_status

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("version"))) as c:
        yield c


def test_both_prefixes_reach_the_same_endpoints(client: TestClient) -> None:
    assert client.get("/api/v1/limits").json() == client.get("/api/limits").json()
    made = client.post("/api/v1/runs", json=QUICK)
    assert made.status_code == 201, made.text
    run_id = made.json()["id"]
    done = wait_status(client, run_id, TERMINAL)  # polls the alias
    assert client.get(f"/api/v1/runs/{run_id}").json() == done
    assert (
        client.get(f"/api/v1/runs/{run_id}/events").json()
        == client.get(f"/api/runs/{run_id}/events").json()
    )
    assert client.get("/api/v1/runs", params={"limit": 5}).json()["runs"][0]["id"] == run_id
    assert client.delete(f"/api/v1/runs/{run_id}").status_code in (200, 204)
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    # Validation and errors are the same endpoint's, under either name.
    bad = client.post("/api/v1/runs", json={"train": {"epochs": -1}})
    assert (
        bad.status_code == 422
        and bad.json() == client.post("/api/runs", json={"train": {"epochs": -1}}).json()
    )
    assert client.get("/api/v1x/limits").status_code == 404
    assert client.get("/api/v2/limits").status_code == 404


def test_schema_names_the_versioned_paths(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    api = [p for p in schema["paths"] if p.startswith("/api")]
    assert "/api/v1/runs" in api and "/api/v1/runs/{run_id}/stop" in api
    assert all(p.startswith("/api/v1/") for p in api), api
    assert "/healthz" in schema["paths"]  # not part of the versioned API
    assert schema["info"]["version"] == app.__version__


def test_the_version_lives_in_pyproject_only() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert app.__version__ == declared
    shown = subprocess.run(
        [sys.executable, "-m", "app.cli", "--version"], capture_output=True, text=True
    )
    assert shown.stdout.strip() == f"backprop-playground {declared}"
    sources = Path(app.__file__).parent.rglob("*.py")
    assert not [p for p in sources if f'"{declared}"' in p.read_text()]  # no second copy
