"""Downloads of a run (export script, spec, metrics, weights) and its loss landscape,
through the real app: worker processes, the store, the landscape process pool."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer
from tests.web.service import (
    LONG,
    app_client,
    events,
    make_settings,
    start_paused,
    wait_event,
    wait_status,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """One torch thread, as in a worker (the same summation order), for this module only."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


ROOT = Path(__file__).resolve().parents[3]
# 30 training points (under the landscape's sample cap), a validation split, 60 steps.
SPEC = {
    "seed": 3,
    "data": {"dataset": "xor", "samples": 60, "val_fraction": 0.2, "noise": 0.1},
    "model": {"layers": [{"units": 6, "activation": "tanh"}]},
    "train": {"optimizer": {"name": "adam", "lr": 0.03}, "epochs": 20},
}
MAX_SAMPLES = 40  # the landscape's sample cap in these tests
MAX_STEPS = 15


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("files"),
        landscape_max_steps=MAX_STEPS,
        landscape_max_samples=MAX_SAMPLES,
    )
    with app_client(settings) as c:
        yield c


@pytest.fixture(scope="module")
def finished(client: TestClient) -> dict[str, Any]:
    run_id = client.post("/api/runs", json=SPEC).json()["id"]
    return wait_status(client, run_id, {"finished", "failed"})


def load_into_trainer(spec: dict[str, Any], data: bytes) -> Trainer:
    trainer = Trainer(validate_spec(spec))
    trainer.model.load_state_dict(torch.load(io.BytesIO(data), weights_only=True))
    return trainer


def test_export_script_reproduces_the_runs_final_scores(
    client: TestClient, finished: dict[str, Any], tmp_path: Path
) -> None:
    assert finished["status"] == "finished"
    response = client.get(f"/api/runs/{finished['id']}/export.py")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/x-python")
    assert "attachment" in response.headers["content-disposition"]
    script = tmp_path / "run.py"
    script.write_text(response.text)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    for key, value in finished["summary"]["final"].items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


def test_spec_json_round_trips_through_post_runs(
    client: TestClient, finished: dict[str, Any]
) -> None:
    response = client.get(f"/api/runs/{finished['id']}/spec.json")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    spec = response.json()
    assert spec == finished["spec"] == validate_spec(SPEC).model_dump(mode="json")
    again = client.post("/api/runs", json=spec)
    assert again.status_code == 201
    rerun = wait_status(client, again.json()["id"], {"finished", "failed"})
    assert rerun["spec"] == spec
    assert rerun["summary"]["final"] == finished["summary"]["final"]  # same seed, same numbers


def test_metric_history_as_json_and_csv(client: TestClient, finished: dict[str, Any]) -> None:
    history = client.get(f"/api/runs/{finished['id']}/metrics.json").json()
    assert history["status"] == "finished" and history["task"] == "binary"
    assert history["layers"] == ["h1", "out"]
    frames = history["metrics"]
    assert frames == [
        {k: v for k, v in e.items() if k not in ("run_id", "seq", "type")}
        for e in events(client, finished["id"])
        if e["type"] == "metrics"
    ]
    assert sum(f["steps"] for f in frames) == finished["summary"]["step"] == 60
    text = client.get(f"/api/runs/{finished['id']}/metrics.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(frames)
    for column in ("step", "epoch", "lr", "grad_w_h1", "grad_w_out", "train_loss", "val_acc"):
        assert column in rows[0], column
    assert [int(r["step"]) for r in rows] == [f["step"] for f in frames]
    assert rows[0]["grad_w_h1"] == ""  # the untrained net's frame has no gradient
    assert float(rows[1]["grad_w_h1"]) == pytest.approx(frames[1]["grad_w"][0])
    last_eval = [r for r in rows if r["train_loss"]][-1]
    final = finished["summary"]["final"]
    assert float(last_eval["train_loss"]) == pytest.approx(final["train_loss"], rel=1e-6)
    assert float(last_eval["val_acc"]) == pytest.approx(final["val_acc"], rel=1e-6)


def test_weights_rebuild_the_model_and_its_final_loss(
    client: TestClient, finished: dict[str, Any]
) -> None:
    response = client.get(f"/api/runs/{finished['id']}/weights.pt")
    assert response.status_code == 200 and response.headers["x-step"] == "60"
    trainer = load_into_trainer(finished["spec"], response.content)
    ev = trainer.evaluation()
    final = finished["summary"]["final"]
    assert ev["train"]["loss"] == pytest.approx(final["train_loss"], abs=1e-6)
    assert ev["val"]["acc"] == pytest.approx(final["val_acc"], abs=1e-6)


def test_landscape_of_a_finished_run(client: TestClient, finished: dict[str, Any]) -> None:
    response = client.post(f"/api/runs/{finished['id']}/landscape", json={"steps": 9, "seed": 2})
    assert response.status_code == 200, response.text
    land = response.json()
    assert land["source"] == "stored" and land["step"] == 60 and land["samples"] == 30
    assert land["centre_loss"] == pytest.approx(finished["summary"]["final"]["train_loss"], 1e-6)
    surface = land["surface"]
    assert len(surface["alphas"]) == len(surface["betas"]) == len(surface["loss"]) == 9
    assert all(len(row) == 9 for row in surface["loss"])
    assert surface["loss"][4][4] == pytest.approx(land["centre_loss"], abs=1e-6)
    assert len(land["line"]["alphas"]) == MAX_STEPS  # 2 * 9 - 1, capped
    path = land["trajectory"]
    assert path["steps"][0] == 0 and path["steps"][-1] == 60
    assert len(path["alphas"]) == len(path["betas"]) == len(path["steps"]) <= 200
    assert path["alphas"][-1] == pytest.approx(0, abs=1e-9)  # the path ends at the centre
    # The largest grid the settings allow; beyond it, a clear 422.
    big = client.post(f"/api/runs/{finished['id']}/landscape", json={"steps": MAX_STEPS}).json()
    assert len(big["surface"]["alphas"]) == MAX_STEPS
    too_big = client.post(f"/api/runs/{finished['id']}/landscape", json={"steps": MAX_STEPS + 2})
    assert too_big.status_code == 422
    assert too_big.json()["detail"][0]["field"] == "steps"
    for body, field in (({"span": 0}, "span"), ({"seed": "x"}, "seed"), ({"grid": 3}, "grid")):
        bad = client.post(f"/api/runs/{finished['id']}/landscape", json=body)
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == field


def test_live_weights_and_landscape_of_a_paused_run(client: TestClient) -> None:
    run_id = start_paused(client, LONG)  # 50 training points: more than the sample cap
    assert client.post(f"/api/runs/{run_id}/step", json={"n": 7}).status_code == 200
    wait_event(client, run_id, lambda e: e["type"] == "snapshot" and e["step"] == 7)
    weights = client.get(f"/api/runs/{run_id}/weights.pt")
    assert weights.status_code == 200 and weights.headers["x-step"] == "7"
    land = client.post(f"/api/runs/{run_id}/landscape", json={"steps": 5}).json()
    assert land["source"] == "live" and land["step"] == 7 and land["samples"] == MAX_SAMPLES
    assert land["trajectory"]["steps"][-1] == 7
    # The centre is the loss of exactly those weights on the first 40 training points.
    trainer = load_into_trainer(client.get(f"/api/runs/{run_id}").json()["spec"], weights.content)
    train = trainer.data.train
    t = trainer.spec.train
    with torch.no_grad():
        out = trainer.model.eval()(train.x[:MAX_SAMPLES])
        loss = trainer.loss_fn(out, train.y[:MAX_SAMPLES], t.label_smoothing, t.huber_delta)
    assert land["centre_loss"] == pytest.approx(float(loss), abs=1e-6)
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "paused"  # still paused
    client.post(f"/api/runs/{run_id}/stop")
    stopped = wait_status(client, run_id, {"stopped"})
    stored = client.get(f"/api/runs/{run_id}/weights.pt")  # the stopped run's last weights
    assert stored.status_code == 200 and stored.content == weights.content
    assert stopped["step"] == 7


def test_refusals_are_clear(client: TestClient) -> None:
    paths = ["export.py", "spec.json", "metrics.csv", "metrics.json", "weights.pt"]
    for path in paths:
        missing = client.get(f"/api/runs/nope/{path}")
        assert missing.status_code == 404 and missing.json() == {"detail": "no run 'nope'"}
    assert client.post("/api/runs/nope/landscape", json={}).status_code == 404
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.landscape_queue, before = 0, settings.landscape_queue  # as if all were busy
    try:
        busy = client.post("/api/runs/nope/landscape", json={})
    finally:
        settings.landscape_queue = before
    assert busy.status_code == 429 and "try again" in busy.json()["detail"]
    # A run that failed before training left no weights: 409 saying why.
    bad = {
        "data": {"samples": 100},
        "model": {"layers": [{"units": 4, "activation": "tanh", "norm": "batch"}]},
        "train": {"batch_size": 1, "epochs": 1},
    }
    failed = wait_status(client, client.post("/api/runs", json=bad).json()["id"], {"failed"})
    refused = client.get(f"/api/runs/{failed['id']}/weights.pt")
    assert refused.status_code == 409
    assert "failed and left no weights" in refused.json()["detail"]
    assert "batch norm" in refused.json()["detail"]
    assert client.post(f"/api/runs/{failed['id']}/landscape", json={}).status_code == 409
    # A queued run has no weights yet: both workers are held by paused runs.
    held = [start_paused(client, LONG) for _ in range(2)]
    queued = client.post("/api/runs", json=LONG).json()
    assert queued["status"] == "queued"
    for response in (
        client.get(f"/api/runs/{queued['id']}/weights.pt"),
        client.post(f"/api/runs/{queued['id']}/landscape", json={}),
    ):
        assert response.status_code == 409
        assert "queued" in response.json()["detail"]
    for run_id in [*held, queued["id"]]:
        client.delete(f"/api/runs/{run_id}")
    assert client.get(f"/api/runs/{queued['id']}/weights.pt").status_code == 404


def test_weights_and_landscape_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with app_client(settings) as first:
        run_id = first.post("/api/runs", json=SPEC).json()["id"]
        done = wait_status(first, run_id, {"finished"})
        before = first.get(f"/api/runs/{run_id}/weights.pt").content
    with app_client(settings) as second:
        assert second.get(f"/api/runs/{run_id}/weights.pt").content == before
        land = second.post(f"/api/runs/{run_id}/landscape", json={"steps": 3}).json()
        assert land["centre_loss"] == pytest.approx(done["summary"]["final"]["train_loss"], 1e-6)
        second.delete(f"/api/runs/{run_id}")
        assert second.get(f"/api/runs/{run_id}/weights.pt").status_code == 404
