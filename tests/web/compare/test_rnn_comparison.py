"""A comparison of recurrent cells (what the recurrent lessons open): each member trains its
own family trainer, one by one, even when only the optimizer differs; the numbers are the
engine's."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.nn.compare.plan import validate_plan
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


def test_optimizers_alone_compare_recurrent_members_one_by_one() -> None:
    """Batched members are dense nets: a recurrent base trains its members independently
    even when only their optimizers differ."""
    members = [{"optimizer": {"name": "sgd"}}, {"optimizer": {"name": "adam"}}]
    plan = validate_plan({"base": BASE, "members": members})
    assert plan.independent and "rnn members" in plan.mode_reason()
    assert not validate_plan({"base": {}, "members": members}).independent


def test_cells_and_optimizers_compare_with_their_own_trainers(tmp_path: Path) -> None:
    members = [
        {"label": "RNN", "overrides": {"rnn": {"cell": "rnn_tanh"}}, "optimizer": {"name": "sgd"}},
        {"label": "LSTM", "overrides": {"rnn": {"cell": "lstm"}}, "optimizer": {"name": "adam"}},
    ]
    with app_client(make_settings(tmp_path)) as client:
        created = client.post("/api/comparisons", json={"base": BASE, "members": members})
        assert created.status_code in (200, 201), created.text
        view = wait_comparison(client, created.json()["id"], TERMINAL)
        assert view["status"] == "finished" and view["mode"] == "independent", view
        events = comparison_events(client, view["id"])
        assert any(e["type"] == "snapshot" and "sequence" in e for e in events)
        run = client.get(f"/api/runs/{view['members'][1]['run_id']}").json()
        want = trainer_for(validate_spec(run["spec"])).run()["final"]
        assert run["summary"]["final"] == pytest.approx(want, rel=1e-5)
