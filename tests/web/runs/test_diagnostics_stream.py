"""Diagnostics through the real service: worker processes, the event log, the store."""

from __future__ import annotations

import math
from pathlib import Path

from tests.web.service import (
    app_client,
    events,
    make_settings,
    start_paused,
    wait_for,
    wait_status,
)

ZERO_INIT = {
    "data": {"samples": 100},
    "model": {
        "init": "zeros",
        "layers": [{"units": 8, "activation": "sigmoid"}, {"units": 8, "activation": "sigmoid"}],
    },
    "train": {"optimizer": {"name": "momentum", "lr": 0.3}, "epochs": 20},
}


def test_snapshots_carry_diagnostics_live_after_a_step_and_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    with app_client(settings) as client:
        # A paused start already shows the untrained net's diagnostics (step 0).
        paused = start_paused(client, {**ZERO_INIT, "train": {**ZERO_INIT["train"], "epochs": 500}})
        snap = next(e for e in events(client, paused) if e["type"] == "snapshot")
        first = snap["diagnostics"]
        assert first["step"] == 0 and [x["symmetry"] for x in first["layers"]] == [1.0, 1.0]
        assert math.isclose(first["loss_at_init"]["expected"], math.log(2), rel_tol=1e-3)
        # One step: the picture taken after it carries a fresh diagnostics frame.
        assert client.post(f"/api/runs/{paused}/step", json={"n": 3}).status_code == 200

        def stepped() -> dict | None:  # type: ignore[type-arg]
            snaps = [e for e in events(client, paused) if e["type"] == "snapshot"]
            return snaps[-1] if snaps and snaps[-1]["step"] == 3 else None

        after = wait_for(stepped, what="the snapshot after 3 steps")["diagnostics"]
        assert after["step"] == 3 and [x["symmetry"] for x in after["layers"]] == [1.0, 1.0]
        client.post(f"/api/runs/{paused}/stop")

        done = client.post("/api/runs", json=ZERO_INIT).json()["id"]
        wait_status(client, done, {"finished"})
        final = [e for e in events(client, done) if e["type"] == "snapshot"][-1]
        assert final["diagnostics"]["step"] == final["step"] == 100
    # The store keeps the final snapshot with its diagnostics: a replay after a restart
    # fills the panel too.
    with app_client(settings) as client:
        replayed = [e for e in events(client, done) if e["type"] == "snapshot"][-1]
        assert replayed["diagnostics"] == final["diagnostics"]
