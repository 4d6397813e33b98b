"""Worker-side decimation: engine records in, at most ~frame_rate metrics frames out.

The engine yields one record per optimizer step (thousands per second for tiny nets);
a browser can draw ~20-30 frames per second. A frame carries the latest step record,
the mean loss over the steps it stands for, and the latest evaluation since the
previous frame. Snapshots (decision boundary, weights) are rarer still.
"""

from __future__ import annotations

import math
from typing import Any

from app.nn.records import LIVE_STEP_FIELDS, Record

STEP_FIELDS = LIVE_STEP_FIELDS  # from the record types: a new step field flows through


class FrameBuilder:
    def __init__(
        self, frame_rate: float, snapshot_rate: float, max_rate: float | None = None
    ) -> None:
        self.frame_interval = 1.0 / max(frame_rate, 0.1)
        self.fastest = 1.0 / max(max_rate or frame_rate, frame_rate, 0.1)
        self.snapshot_interval = 1.0 / max(snapshot_rate, 0.01)
        self.last_frame_at = -math.inf
        self.last_snapshot_at = -math.inf
        self._step: Record | None = None
        self._eval: Record | None = None
        self._loss_sum = 0.0
        self._steps = 0
        self.frames = 0

    def add(self, rec: Record) -> None:
        if rec["kind"] == "step":
            self._step = rec
            self._loss_sum += rec["loss"]
            self._steps += 1
        elif rec["kind"] == "eval":
            self._eval = rec

    def follow(self, interval: float) -> None:
        """Frames as often as the viewers' pictures come (a want's rate), never faster than
        max_rate: a chart point for every picture drawn."""
        self.frame_interval = max(self.fastest, interval)

    @property
    def pending(self) -> bool:
        return self._steps > 0 or self._eval is not None

    def frame_due(self, now: float) -> bool:
        return self.pending and now - self.last_frame_at >= self.frame_interval

    def snapshot_due(self, now: float) -> bool:
        return now - self.last_snapshot_at >= self.snapshot_interval

    def take(self, now: float) -> Record | None:
        """The metrics frame for the window that ends now (None if nothing happened)."""
        if not self.pending:
            return None
        frame: Record
        if self._steps and self._step is not None:
            frame = {k: self._step[k] for k in STEP_FIELDS if k in self._step}
            frame["loss_mean"] = self._loss_sum / self._steps
            frame["steps"] = self._steps  # optimizer steps this frame stands for
        else:  # an evaluation with no step since the last frame (step 0, epoch ends)
            ev = self._eval or {}
            train = ev.get("train") or {}
            frame = {
                "step": ev.get("step", 0),
                "epoch": ev.get("epoch", 0),
                "loss": train.get("loss"),
                "loss_mean": train.get("loss"),
                "lr": ev.get("lr"),
                "steps": 0,
            }
        if self._eval is not None:
            frame["eval"] = {k: v for k, v in self._eval.items() if k != "kind"}
        self._step, self._eval = None, None
        self._loss_sum, self._steps = 0.0, 0
        self.last_frame_at = now
        self.frames += 1
        return frame


def compact(obj: Any, digits: int = 4) -> Any:
    """Round the floats of a snapshot (pictures need 4 decimals, not 17 digits)."""
    if isinstance(obj, float):
        return round(obj, digits) if math.isfinite(obj) else None
    if isinstance(obj, list):
        if obj and isinstance(obj[0], float):
            return [round(v, digits) if math.isfinite(v) else None for v in obj]
        return [compact(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: compact(v, digits) for k, v in obj.items()}
    return obj
