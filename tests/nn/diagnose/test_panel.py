"""The diagnostics panel's payload on every experiment the lessons ship (all layer kinds,
tasks and datasets): complete, strict JSON, never an error."""

from __future__ import annotations

import json

import pytest

from app.lessons.registry import LESSONS, member_specs
from app.nn.diagnose.panel import panel_frame, significant
from app.nn.training.trainer import Trainer

SPECS = [
    pytest.param(spec, id=f"{slug}:{label}" if label else slug)
    for slug, lesson in LESSONS.items()
    for label, spec in member_specs(lesson)
]


@pytest.mark.parametrize("spec", SPECS)
def test_every_lesson_experiment_gets_a_full_panel_frame(spec: object) -> None:
    trainer = Trainer(spec)  # type: ignore[arg-type]
    records = trainer.records()
    for _ in range(4):  # start, the initial evaluation and two optimizer steps
        next(records)
    frame = panel_frame(trainer)
    assert "error" not in frame, frame.get("error")
    json.dumps(frame, allow_nan=False)
    assert len(frame["layers"]) == len(trainer.spec.model.layers)
    assert frame["step"] == trainer.step
    grid = frame["logits"]
    if trainer.task == "regression" or trainer.data.info.dims != 2:
        assert grid is None
    else:
        width = 1 if trainer.task == "binary" else trainer.data.info.classes
        assert len(grid["values"]) == grid["size"] ** 2 and len(grid["values"][0]) == width


def test_significant_digits_keep_tiny_numbers() -> None:
    assert significant([1.23456e-9, 123456.7, float("nan"), 3]) == [1.235e-09, 123500.0, None, 3]
    assert significant({"a": (0.000123456, float("inf"))}) == {"a": [0.0001235, None]}
