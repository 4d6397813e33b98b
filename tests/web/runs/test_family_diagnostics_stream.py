"""Diagnostics of recurrent and transformer runs through the real service (worker processes,
the event log, the socket, the store), mirroring test_diagnostics_stream.py for the MLP.

The oracle for the untrained net's frame is the same seed rebuilt here: torch autograd on
the family's own forward pass over the probe's examples gives each weight's gradient norm."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.data.tokens import IGNORE
from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec
from tests.web.service import app_client, events, make_settings, start_paused, wait_for, wait_status

RNN = {
    "family": "rnn",
    "seed": 4,
    "rnn": {"dataset": "copy", "length": 6, "samples": 80, "hidden": 8, "cell": "gru"},
    "train": {"epochs": 3, "batch_size": 16},
}
TRANSFORMER = {
    "family": "transformer",
    "seed": 4,
    "transformer": {"dataset": "reverse", "length": 4, "examples": 120, "d_model": 16},
    "train": {"epochs": 2},
}


def oracle_grad_norms(spec: dict[str, Any]) -> list[float]:
    """Per weight layer, ||dL/dW|| of the untrained net on the panel's probe examples."""
    trainer: Any = trainer_for(validate_spec(spec))
    n = trainer.probe_examples
    x, y = trainer.data.train.x[:n], trainer.data.train.y[:n]
    model = trainer.model.eval()
    out = model(x)
    if spec["family"] == "rnn":
        loss = F.cross_entropy(out, y.long())
    else:
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
    return [float(g.norm()) for g in torch.autograd.grad(loss, trainer.weights)]


def snapshots(client: Any, run_id: str) -> list[dict[str, Any]]:
    return [e for e in events(client, run_id) if e["type"] == "snapshot"]


@pytest.mark.parametrize("spec", [RNN, TRANSFORMER], ids=["rnn", "transformer"])
def test_family_runs_stream_diagnostics_paused_stepped_finished_and_replayed(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    settings = make_settings(tmp_path)
    want = oracle_grad_norms(spec)
    with app_client(settings) as client:
        paused = start_paused(client, {**spec, "train": {**spec["train"], "epochs": 200}})
        start = next(e for e in events(client, paused) if e["type"] == "start")
        first = wait_for(
            lambda: next((s for s in snapshots(client, paused) if "diagnostics" in s), None),
            what="the paused run's diagnostics",
        )["diagnostics"]
        assert "error" not in first, first.get("error")
        assert first["step"] == 0
        # Rows keyed by the family's own layer names, as its start record lists them.
        names = [layer["name"] for layer in first["layers"]] + [first["output"]["name"]]
        assert names == start["layers"]
        got = [layer["grad_norm"] for layer in first["layers"]] + [first["output"]["grad_norm"]]
        assert got == pytest.approx(want, rel=2e-3)  # 4 significant digits on the wire
        assert first["flags"]["vanishing"] == first["flags"]["exploding"] == []
        if spec["family"] == "rnn":
            assert [a["name"] for a in first["activations"]] == ["r1", "r1.r", "r1.z", "r1.n"]
        else:
            assert len(first["attention"]) == 2 * 2  # blocks x heads (the defaults)
            assert all(0 < h["entropy"] <= h["max_entropy"] for h in first["attention"])

        # Three steps over the socket: the picture taken after them carries a fresh frame.
        with client.websocket_connect(f"/ws/runs/{paused}") as ws:
            ws.send_json({"action": "step", "n": 3})

            def stepped() -> dict[str, Any] | None:
                msg = ws.receive_json()
                return msg if msg.get("type") == "snapshot" and msg.get("step") == 3 else None

            after = wait_for(stepped, what="the snapshot after 3 steps over the socket")
        assert after["diagnostics"]["step"] == 3
        client.post(f"/api/runs/{paused}/stop")

        done = client.post("/api/runs", json=spec).json()["id"]
        wait_status(client, done, {"finished"})
        final = snapshots(client, done)[-1]
        assert final["diagnostics"]["step"] == final["step"] > 0
        assert math.isfinite(final["diagnostics"]["loss"])
    with app_client(settings) as client:  # the store keeps the final frame: a replay fills
        assert snapshots(client, done)[-1]["diagnostics"] == final["diagnostics"]
