"""A landscape of a recurrent run, as the landscape pool computes it from the stored spec
and weights: the run's own family rebuilds the model (the head's Linear weights move)."""

from __future__ import annotations

import math

import pytest
import torch

from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.nn.training.sequences import SeqTrainer
from app.runs.execution.landscape_pool import compute
from app.runs.kinds.run.artifacts import save

SPEC = {"family": "rnn", "rnn": {"dataset": "parity", "length": 6, "samples": 60, "hidden": 5}}


def test_the_pool_rebuilds_a_recurrent_run_and_its_loss_at_the_centre_is_the_runs() -> None:
    torch.set_num_threads(1)
    trainer = SeqTrainer(validate_spec(SPEC))
    weights = save(trainer.model.state_dict())
    result = compute(SPEC, Limits().as_dict(), weights, None, {"steps": 5, "steps_1d": 5})
    centre = trainer.evaluation()["train"]["loss"]
    assert result["centre_loss"] == pytest.approx(centre, rel=1e-5)
    line = result["line"]["loss"]
    assert len(line) == 5 and all(math.isfinite(v) for v in line)
    assert line[2] == pytest.approx(centre, rel=1e-5) and len(set(line)) > 1  # the head moves
