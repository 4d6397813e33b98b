"""`train.until_paused`: the run's epochs become the cap the limits allow."""

from __future__ import annotations

from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec


def test_until_paused_trains_to_the_epoch_or_step_cap_of_the_limits() -> None:
    spec = validate_spec({"train": {"until_paused": True, "epochs": 7}})
    assert spec.train.epochs == Limits().max_epochs  # 25 steps/epoch: the epoch cap binds
    demo = Limits(max_epochs=10_000, max_steps=1_000)
    spec = validate_spec({"train": {"until_paused": True}}, demo)
    assert spec.steps_per_epoch() == 25 and spec.train.epochs == 40  # the step cap binds
    assert spec.total_steps() <= demo.max_steps
    assert validate_spec({"train": {"epochs": 7}}).train.epochs == 7  # bounded by default
