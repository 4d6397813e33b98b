"""An ended run's landscape is computed from its spec and stored weights by the run's own
family's trainer (a CNN's weights load into a CNN, not into the MLP)."""

from __future__ import annotations

import pytest

from app.nn.families.registry import trainer_for
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.runs.execution.landscape_pool import compute
from app.runs.kinds.run.artifacts import landscape, save

SPEC = {
    "family": "cnn",
    "seed": 2,
    "cnn": {"dataset": "shapes", "classes": 2, "samples": 60, "conv": [{"channels": 2}]},
    "train": {"epochs": 1, "batch_size": 10},
}


def test_an_ended_cnn_runs_landscape_is_its_trainers() -> None:
    trained = trainer_for(validate_spec(SPEC))
    trained.run()
    options = {"steps": 3, "steps_1d": 3}
    got = compute(SPEC, Limits().as_dict(), save(trained.model.state_dict()), None, options)
    want = landscape(trained, [], None, options)
    assert got["centre_loss"] == pytest.approx(want["centre_loss"], rel=1e-6)
    flat = [v for row in got["surface"]["loss"] for v in row]
    assert flat == pytest.approx([v for row in want["surface"]["loss"] for v in row], rel=1e-5)
