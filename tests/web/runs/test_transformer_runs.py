"""A transformer run through the real app (worker processes): the run loop asks the family
for its trainer and its live pictures, the run ends with its sequence accuracy, the
live controls reach the trainer, and its script downloads."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.service import (
    TERMINAL,
    app_client,
    events,
    make_settings,
    start_paused,
    wait_event,
    wait_status,
)

SPEC = {
    "family": "transformer",
    "data": {"train_fraction": 0.6, "val_fraction": 0.2},
    "transformer": {"dataset": "reverse", "length": 5, "examples": 600, "d_model": 16},
    "train": {"epochs": 8},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("attn"))) as c:
        yield c


def test_a_transformer_run_streams_its_maps_and_ends_with_sequence_accuracy(
    client: TestClient,
) -> None:
    created = client.post("/api/v1/runs", json=SPEC)
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "finished", run
    final = run["summary"]["final"]
    assert final["val_seq_acc"] is not None and 0.0 <= final["val_seq_acc"] <= 1.0
    evs = events(client, run_id)
    start = next(e for e in evs if e["type"] == "start")
    assert start["family"] == "transformer" and start["layers"][0] == "embed"
    snaps = [e for e in evs if e["type"] == "snapshot"]
    assert snaps, [e["type"] for e in evs]
    maps = snaps[-1]["maps"]
    assert maps["shape"] == [2, 2, 5, 5] and len(base64.b64decode(maps["b64"])) == 100
    metrics = [e for e in evs if e["type"] == "metrics" and e.get("eval")]
    assert "seq_acc" in metrics[-1]["eval"]["val"]
    script = client.get(f"/api/v1/runs/{run_id}/export.py")
    assert script.status_code == 200 and "class Transformer" in script.text


def test_live_controls_and_bad_parts(client: TestClient) -> None:
    run_id = start_paused(client, {**SPEC, "train": {"epochs": 2000}})
    changed = client.patch(f"/api/v1/runs/{run_id}", json={"example": 3, "lr": 0.001})
    assert changed.status_code == 200, changed.text
    client.post(f"/api/v1/runs/{run_id}/step", json={"n": 2})
    snap = wait_event(client, run_id, lambda e: e["type"] == "snapshot" and e["example"] == 3)
    assert snap["step"] >= 1
    assert client.patch(f"/api/v1/runs/{run_id}", json={"example": 9}).status_code == 422
    assert client.patch(f"/api/v1/runs/{run_id}", json={"input_noise": 0.1}).status_code == 422
    client.post(f"/api/v1/runs/{run_id}/stop")
    wait_status(client, run_id, TERMINAL)
    bad = client.post("/api/v1/runs", json={**SPEC, "transformer": {"d_model": 30, "heads": 4}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "transformer.heads"


def test_a_finished_runs_landscape_is_centred_on_its_answer_token_loss(client: TestClient) -> None:
    """The landscape scores weights with the family's data loss (the answer tokens'
    cross-entropy): at alpha = 0 it is the run's own final training loss. It used to be
    the dense loss on (B, T, V) logits: a 409 'Expected target size'."""
    run_id = client.post("/api/v1/runs", json=SPEC).json()["id"]
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "finished", run
    response = client.post(f"/api/runs/{run_id}/landscape", json={"steps": 3})
    assert response.status_code == 200, response.text[:300]
    final = run["summary"]["final"]["train_loss"]
    assert response.json()["centre_loss"] == pytest.approx(final, rel=1e-4)
