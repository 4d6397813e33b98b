"""A comparison of recurrent cells (what the recurrent lessons open): each member trains its
own family trainer, one by one, even when only the optimizer differs; the numbers are the
engine's."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec
from tests.web.compare.test_api import comparison_events, wait_comparison
from tests.web.service import TERMINAL, app_client, make_settings

BASE = {
    "family": "rnn",
    "seed": 5,
    "rnn": {"dataset": "parity", "length": 8, "samples": 80, "hidden": 6},
    "train": {"epochs": 2},
}


def test_cells_and_optimizers_compare_with_their_own_trainers(tmp_path: Path) -> None:
    cells = [{"label": c, "overrides": {"rnn": {"cell": c}}} for c in ("rnn_tanh", "lstm")]
    optimizers = [{"optimizer": {"name": "sgd", "lr": 0.1}}, {"optimizer": {"name": "adam"}}]
    with app_client(make_settings(tmp_path)) as client:
        for members in (cells, optimizers):
            created = client.post("/api/comparisons", json={"base": BASE, "members": members})
            assert created.status_code in (200, 201), created.text
            view = wait_comparison(client, created.json()["id"], TERMINAL)
            assert view["status"] == "finished" and view["mode"] == "independent", view
            events = comparison_events(client, view["id"])
            assert any(e["type"] == "snapshot" and "sequence" in e for e in events)
        run = client.get(f"/api/runs/{view['members'][1]['run_id']}").json()
        want = trainer_for(validate_spec(run["spec"])).run()["final"]
        assert run["summary"]["final"] == pytest.approx(want, rel=1e-5)
