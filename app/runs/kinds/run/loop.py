"""A run inside a worker: the engine's generator driven under control messages.

Control messages (pause, resume, step N, stop, set live hyper-parameters) are read
between optimizer steps. The loop owns the run's sequence numbers while it holds the run,
starting at `job["seq"]`. Comparisons and races subclass it (app.runs.kinds).
"""

from __future__ import annotations

import time
from typing import Any

from app.nn.diagnose.panel import panel_frame
from app.nn.families.registry import FAMILIES, trainer_for
from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.runs.events.demand import Pacer
from app.runs.events.frames import FrameBuilder, compact
from app.runs.events.stream import make_event, status_fields
from app.runs.kinds.base import POLL_INTERVAL, JobChannel, ParentGone
from app.runs.kinds.run import artifacts as worker_ops

# Live changes of what a family's views look at (app.nn.training.cnn: a test image or a
# drawn one; app.nn.training.sequences: a test sequence): answered with a picture at once,
# also while paused.
VIEW_INPUTS = {"view_input", "view_pixels"}


def summary_of(end: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "step": end.get("step"),
        "epoch": end.get("epoch"),
        "best_epoch": end.get("best_epoch"),
        "final": end.get("final"),
        "seconds": end.get("seconds"),
    }


class Pace:
    """At most `epochs_per_second` epochs a second (0: as fast as the engine), so a page can
    watch a run that would otherwise end before its first frame. Falling behind (a slow
    step, a loaded machine) does not make the run sprint to catch up."""

    SLACK = 0.1  # seconds behind schedule forgiven before the schedule restarts

    def __init__(self, epochs_per_second: float = 0.0, steps_per_epoch: int = 1) -> None:
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.epochs_per_second = 0.0
        self.set(epochs_per_second, 0)

    def set(self, epochs_per_second: float, step: int) -> None:
        self.epochs_per_second = max(0.0, epochs_per_second)
        self.restart(step)

    def restart(self, step: int) -> None:
        self.restart_at_epoch(step / self.steps_per_epoch)

    def restart_at_epoch(self, epoch: float) -> None:
        self.origin_epoch, self.origin_time = epoch, time.monotonic()

    def wait(self, step: int, now: float) -> float:
        """Seconds to wait before training past `step` (0: go on)."""
        return self.wait_for_epoch(step / self.steps_per_epoch, now)

    def wait_for_epoch(self, epoch: float, now: float) -> float:
        """Seconds to wait before training past `epoch` (0: go on)."""
        if self.epochs_per_second <= 0:
            return 0.0
        due = self.origin_time + (epoch - self.origin_epoch) / self.epochs_per_second
        if now - due > self.SLACK:
            self.restart_at_epoch(epoch)
            return 0.0
        return max(0.0, due - now)


class RunLoop:
    """One run inside a worker: the engine's generator driven under control messages."""

    def __init__(self, job: dict[str, Any], chan: JobChannel) -> None:
        self.job = job
        self.run_id: str = job["run_id"]
        self.seq: int = job["seq"]
        self.chan = chan
        opts = job["options"]
        self.max_seconds: float = opts["max_seconds"]
        self.max_paused: float = opts["max_paused_seconds"]
        self.frames = FrameBuilder(
            opts["frame_rate"], opts["snapshot_rate"], opts.get("frame_rate_max")
        )
        # Pictures as fast as the quickest viewer draws them, else rarely (app.runs.events.demand).
        self.pacer = Pacer(opts["snapshot_rate"], opts.get("snapshot_idle_rate", 1.0))
        # The diagnostics panel (histograms, flags, logits) rides on a snapshot at most
        # diagnostics_rate times a second: a probe costs ~2-12 ms, a snapshot ~1 ms.
        self.diagnostics_interval = 1.0 / max(opts.get("diagnostics_rate", 2.0), 0.01)
        self.diagnostics_at = float("-inf")
        self.paused = bool(job.get("paused"))
        self.budget = 0  # steps still allowed while paused (the "step N" button)
        self.stop_reason: str | None = None
        self.active = 0.0  # seconds spent training (paused time excluded)
        self.trainer: Any = None
        self.trajectory: worker_ops.Trajectory | None = None  # for landscapes
        self.ended = False
        self.pace = Pace()

    # ---- output ---------------------------------------------------------------------
    def emit(self, type_: str, fields: dict[str, Any], **meta: Any) -> None:
        event = make_event(self.run_id, self.seq, type_, fields)
        self.chan.send({"kind": "event", "run_id": self.run_id, **event.meta, **meta}, event.data)
        self.seq += 1

    def emit_status(self, status: str, reason: str | None = None, summary: Any = None) -> None:
        self.emit("status", status_fields(status, reason, None, summary))

    def emit_frame(self, now: float) -> None:
        frame = self.frames.take(now)
        if frame is None:
            return
        ev = frame.get("eval") or {}
        val = (ev.get("val") or {}).get("loss")
        self.emit(
            "metrics",
            frame,
            step=frame["step"],
            epoch=frame["epoch"],
            loss=frame.get("loss_mean"),
            val_loss=val,
        )

    def emit_snapshot(self, now: float, diagnostics: bool = False, full: bool = False) -> None:
        """A picture: live ones at the view's resolution, pause/step/end ones (diagnostics
        on, or `full`) at the spec's; neuron pictures while a viewer shows them, and on
        those."""
        stream, family = self.trainer.spec.stream, FAMILIES[self.trainer.spec.family]
        full = full or diagnostics
        size = stream.grid_size if full else min(stream.grid_size, family.live_grid)
        neurons = stream.neuron_grids and (full or self.pacer.neurons)
        assert family.live_snapshot is not None
        snap = compact(family.live_snapshot(self.trainer, size, neurons))
        due = diagnostics or (not full and now - self.diagnostics_at >= self.diagnostics_interval)
        # Only a family that shows the panel is probed: no frame nobody draws (or one that
        # would say its model cannot be probed), every interval.
        if due and "diagnostics" in family.views:
            self.diagnostics_at = now
            snap["diagnostics"] = panel_frame(self.trainer)  # significant digits, not decimals
        self.pacer.taken_at(now)
        self.emit("snapshot", snap, step=snap["step"])

    def flush(self) -> None:
        """Frame + picture now: the user paused or stepped and wants the exact state."""
        now = time.monotonic()
        self.emit_frame(now)
        self.emit_snapshot(now, diagnostics=True)

    def first_picture(self) -> None:
        """The untrained net at once (Play's first visible update), then the same state
        with the diagnostics panel, whose probe costs ~5-20 ms more."""
        now = time.monotonic()
        self.emit_frame(now)
        self.emit_snapshot(now, full=True)
        if "diagnostics" in FAMILIES[self.trainer.spec.family].views:
            self.emit_snapshot(time.monotonic(), diagnostics=True)

    # ---- control --------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.trainer.stop()

    def handle(self, messages: list[dict[str, Any]]) -> None:
        for msg in messages:
            op = msg.get("op")
            if msg.get("run_id") != self.run_id:
                continue  # meant for a run this worker already finished
            if op == "pause" and not self.paused:
                self.paused, self.budget = True, 0
                self.emit_status("paused")
                self.flush()
            elif op == "resume" and self.paused:
                self.paused, self.budget = False, 0
                self.emit_status("running")
            elif op == "step" and self.paused:
                self.budget += max(1, int(msg.get("n", 1)))
            elif op == "stop":
                self.request_stop(str(msg.get("reason") or "stopped by the user"))
            elif op == "set":
                self.set_hparams(msg)
            elif op == "want":  # a viewer is ready for the next picture
                self.pacer.want(msg.get("neurons"), msg.get("rate"))
                self.frames.follow(self.pacer.min_interval)
            elif op in worker_ops.OPS:  # weights or landscape of the current weights
                worker_ops.answer(self.trainer, self.trajectory, msg, self.chan)

    def set_hparams(self, msg: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"kind": "ack", "run_id": self.run_id, "id": msg.get("id")}
        changes = dict(msg.get("changes", {}))
        pace = changes.pop("pace", None)
        try:
            applied = self.trainer.set_hparams(**changes) if changes else {}
        except (ValueError, TypeError) as exc:
            self.chan.send({**reply, "ok": False, "error": str(exc)})
            return
        if pace is not None:  # the loop's, not the engine's: how fast it lets training go
            self.pace.set(float(pace), self.trainer.step)
            applied["pace"] = self.pace.epochs_per_second
        self.chan.send({**reply, "ok": True, "applied": applied})
        self.emit("hparams", {"changes": applied, "step": self.trainer.step})
        if applied.keys() & VIEW_INPUTS:  # what the views look at: show it now, paused or not
            self.emit_snapshot(time.monotonic(), full=True)

    def holding(self) -> bool:
        return self.paused and self.budget == 0 and self.stop_reason is None

    def wait_while_paused(self) -> None:
        since = time.monotonic()
        while self.holding():
            left = self.max_paused - (time.monotonic() - since)
            if left <= 0:
                self.request_stop(f"stopped after {self.max_paused:g} s paused")
                break
            self.handle(self.chan.poll(left))

    # ---- the loop -------------------------------------------------------------------
    def run(self) -> None:
        try:
            spec = validate_spec(self.job["spec"], Limits(**self.job["limits"]))
            self.trainer = trainer_for(spec)
            self.pace = Pace(spec.stream.pace, spec.steps_per_epoch())
            self.trajectory = worker_ops.trajectory_for(self.trainer, self.job["options"])
            self.emit_status("paused" if self.paused else "running")
            self.train()
        except ParentGone:
            raise
        except Exception as exc:  # an engine error fails this run, not the worker
            if not self.ended:
                reason = f"training error: {type(exc).__name__}: {exc}"
                step = getattr(self.trainer, "step", 0)
                self.emit_status("failed", reason, summary_of({"step": step}, "failed", reason))

    def train(self) -> None:
        records = self.trainer.records()
        end: dict[str, Any] | None = None
        next_poll = 0.0
        resumed = time.monotonic()
        primed = False  # a run started paused still shows its start state first
        while True:
            now = time.monotonic()
            if now >= next_poll:
                self.handle(self.chan.poll(0))
                next_poll = now + POLL_INTERVAL
            if primed and self.holding():
                self.active += now - resumed
                self.wait_while_paused()
                resumed = time.monotonic()
                self.pace.restart(self.trainer.step)
            rec = next(records, None)
            if rec is None:
                break
            kind = rec["kind"]
            if kind == "start":
                self.emit("start", {k: v for k, v in rec.items() if k != "kind"})
                continue
            if kind == "end":
                end = rec
                break
            self.frames.add(rec)
            if kind == "step" and self.trajectory is not None:
                self.trajectory.record(rec["step"])
            if not primed:  # the initial evaluation: show the untrained net, then obey
                primed = True
                self.first_picture()
                continue
            now = time.monotonic()
            if kind == "step" and self.paused and self.budget > 0:
                self.budget -= 1
                if self.budget == 0:
                    self.flush()
                    continue
            if self.frames.frame_due(now):
                self.emit_frame(now)
            if self.pacer.due(now):
                self.emit_snapshot(now)
            if self.active + (now - resumed) > self.max_seconds:
                self.request_stop(f"stopped: a run may train for at most {self.max_seconds:g} s")
            if kind == "step" and not self.paused:
                self.keep_pace(rec["step"])
        self.finish(end or {})

    def keep_pace(self, step: int) -> None:
        """Hold training back to the run's pace, answering control messages meanwhile
        (a pause, a stop or a new pace takes effect at once, not after the wait)."""
        while (wait := self.pace.wait(step, time.monotonic())) > 0:
            self.handle(self.chan.poll(wait))
            if self.paused or self.stop_reason is not None:
                return

    def finish(self, end: dict[str, Any]) -> None:
        self.flush()
        status = end.get("status", "finished")
        reason = end.get("reason", "")
        if status == "stopped" and self.stop_reason:
            reason = self.stop_reason
        self.ended = True
        # Weights and trajectory first: when a client sees the end, they are stored.
        worker_ops.send_final(self.trainer, self.trajectory, self.run_id, self.chan)
        self.emit_status(status, reason, summary_of(end, status, reason))
