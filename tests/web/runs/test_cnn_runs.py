"""A convolutional run over the API: created from a cnn spec, trained by a worker through
trainer_for, its records and image pictures in the event log, the view's input changed
live, its script exported; a bad cnn spec is a field-level 422."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.nn.spec.experiment import validate_spec
from app.nn.training.cnn import CnnTrainer
from tests.web.service import (
    app_client,
    events,
    make_settings,
    start_paused,
    wait_for,
    wait_status,
)

SPEC: dict[str, Any] = {
    "family": "cnn",
    "seed": 3,
    "cnn": {"dataset": "shapes", "classes": 3, "samples": 120, "conv": [{"channels": 4}]},
    "train": {"epochs": 2, "batch_size": 16},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("cnn"))) as c:
        yield c


def test_a_cnn_run_trains_in_a_worker_and_reports_the_apps_numbers(client: TestClient) -> None:
    response = client.post("/api/runs", json=SPEC)
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    run = wait_status(client, run_id, {"finished", "failed"})
    assert run["status"] == "finished", run
    want = CnnTrainer(validate_spec(SPEC)).run()["final"]
    assert run["summary"]["final"] == pytest.approx(want, rel=1e-5)
    log = events(client, run_id)
    start = next(e for e in log if e["type"] == "start")
    assert start["layers"] == ["conv1", "out"] and start["class_names"][:3] == [
        "bar",
        "cross",
        "ring",
    ]
    snap = next(e for e in reversed(log) if e["type"] == "snapshot")
    assert len(base64.b64decode(snap["filters"][0]["q"])) == 4 * 1 * 3 * 3
    assert sum(map(sum, snap["confusion"])) == start["sizes"]["test"]
    assert snap["diagnostics"]["layers"][0]["name"] == "conv1"
    script = client.get(f"/api/runs/{run_id}/export.py")
    assert script.status_code == 200 and "nn.Conv2d" in script.text


def test_the_viewed_image_changes_live(client: TestClient) -> None:
    run_id = start_paused(client, {**SPEC, "train": {"epochs": 500, "batch_size": 16}})
    changed = client.patch(f"/api/runs/{run_id}", json={"view_input": 5})
    assert changed.status_code == 200, changed.text  # paused: the new picture comes at once

    def viewed() -> int | None:
        snaps = [e for e in events(client, run_id) if e["type"] == "snapshot"]
        return snaps[-1]["input"]["index"] if snaps and snaps[-1]["input"]["index"] == 5 else None

    assert wait_for(viewed) == 5
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    assert wait_status(client, run_id, {"stopped"})["status"] == "stopped"


def test_a_kernel_too_large_is_a_field_level_422(client: TestClient) -> None:
    bad = {"family": "cnn", "cnn": {"conv": [{"kernel": 5, "padding": 0}] * 3}}
    response = client.post("/api/runs", json=bad)
    assert response.status_code == 422
    # 8x8 -> 4x4 -> pooled 2x2: the second layer's 5x5 kernel does not fit.
    assert response.json()["detail"] == [
        {
            "field": "cnn.conv.1.kernel",
            "message": "conv layer 2: a 5x5 kernel is larger than its 2x2 input "
            "(with padding 0: 2x2)",
        }
    ]
