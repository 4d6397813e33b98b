"""A recurrent run over the API: through the worker pool via trainer_for, its pictures are
the sequence views, its numbers the engine's, and bad sequence specs get a field-level 422."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec
from tests.web.service import TERMINAL, app_client, events, make_settings, wait_status

RNN: dict[str, Any] = {
    "family": "rnn",
    "seed": 3,
    "rnn": {"dataset": "adding", "length": 15, "samples": 100, "cell": "lstm", "hidden": 8},
    "train": {"epochs": 3, "optimizer": {"name": "adam", "lr": 0.01}},
}


def check_run(client: Any, spec: dict[str, Any]) -> None:
    response = client.post("/api/runs", json=spec)
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    run = wait_status(client, run_id, TERMINAL)
    assert run["status"] == "finished", run
    evs = events(client, run_id)
    start = next(e for e in evs if e["type"] == "start")
    assert (
        start["layers"] == ["r1.in", "r1.rec", "out"]
        and start["sequence"]["cell"] == spec["rnn"]["cell"]
    )
    pictures = [e for e in evs if e["type"] == "snapshot"]
    assert pictures, "a finished run has at least its last picture"
    view = pictures[-1]["sequence"]
    gates = {"lstm": {"i", "f", "o"}, "gru": {"r", "z"}}[spec["rnn"]["cell"]]
    assert len(view["grad_t"]) == 15 and set(view["gates"]) == gates
    assert len(base64.b64decode(view["hidden"]["q"])) == 8 * 15
    frames = [e for e in evs if e["type"] == "metrics" and e.get("grad_w")]
    assert frames and len(frames[-1]["grad_w"]) == 3
    final = run["summary"]["final"] if "summary" in run else evs[-1]["summary"]["final"]
    # The same numbers as in this process (to float rounding: thread counts may differ).
    assert final == pytest.approx(trainer_for(validate_spec(spec)).run()["final"], rel=1e-5)


def test_a_recurrent_run_trains_in_the_worker_pool(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        check_run(client, RNN)


def test_bad_recurrent_specs_get_field_level_422s(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path, demo=False)) as client:
        bad = {**RNN, "rnn": {**RNN["rnn"], "length": 500}}
        response = client.post("/api/runs", json=bad)
        assert response.status_code == 422
        assert "rnn.length" in response.text and "out of range [1, 200]" in response.text
        response = client.post("/api/runs", json={**RNN, "rnn": {"cell": "transformer"}})
        assert response.status_code == 422 and "rnn.cell" in response.text
