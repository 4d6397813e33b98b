"""Frames carry every step field the record types declare, and the engine yields no step
field the types do not declare (so none is dropped on its way to the page unnoticed)."""

from __future__ import annotations

from app.nn.records import LIVE_STEP_FIELDS, StepRecord, field_names
from app.runs.events.frames import FrameBuilder
from tests.nn.util import make_spec, of_kind, run


def test_engine_step_records_use_only_declared_fields() -> None:
    spec = make_spec(train={"l2": 1e-3, "grad_clip": {"mode": "norm", "max": 0.5}, "epochs": 2})
    steps = of_kind(run(spec), "step")
    declared = set(field_names(StepRecord))
    for rec in steps:
        assert set(rec) <= declared, set(rec) - declared
    assert {"penalty", "grad_norm_clipped"} <= set(steps[-1])  # the optional ones too


def test_a_frame_carries_every_declared_field_of_the_latest_step() -> None:
    spec = make_spec(train={"l1": 1e-3, "grad_clip": {"mode": "value", "max": 1.0}})
    steps = of_kind(run(spec), "step")[:5]
    frames = FrameBuilder(frame_rate=30, snapshot_rate=2)
    for rec in steps:
        frames.add(rec)
    frame = frames.take(now=0.0)
    assert frame is not None and frame["steps"] == 5
    for key in LIVE_STEP_FIELDS:
        assert frame[key] == steps[-1][key], key
    assert frame["loss_mean"] == sum(s["loss"] for s in steps) / 5
