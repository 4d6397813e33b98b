"""An optimizer race inside a worker (app.nn.race.race), streamed like a run.

The job is {"kind": "race", "run_id": <race id>, "spec": <RaceSpec JSON>, ...}. Events:
`status`, `start` (the function, racers, start point, target), `steps` (every step since the
previous frame, at most `frame_rate` frames a second: {"steps": [s...], "x": [[x per racer]
per step], "y", "loss", "events": [{"step", "racer", "event"}]}), and the terminal status
whose summary is {"step", "racers": Race.summary()}. No step is ever dropped: a trajectory
needs every point. Pause, resume, step n and stop work as for runs.
"""

from __future__ import annotations

import math
import time
from typing import Any

from app.nn.race.race import Race, validate_race
from app.nn.spec.base import Limits
from app.runs.kinds.base import POLL_INTERVAL, ParentGone
from app.runs.kinds.run.loop import RunLoop


class RaceLoop(RunLoop):
    def __init__(self, job: dict[str, Any], chan: Any) -> None:
        super().__init__(job, chan)
        self.frame_interval = 1.0 / max(job["options"]["frame_rate"], 0.1)
        self.frame_at = -math.inf
        self.pending: list[dict[str, Any]] = []

    def flush(self) -> None:
        if not self.pending:
            return
        recs, self.pending = self.pending, []
        self.frame_at = time.monotonic()
        events = [{"step": r["step"], **e} for r in recs for e in r.get("events", ())]
        fields = {
            "steps": [r["step"] for r in recs],
            "x": [r["x"] for r in recs],
            "y": [r["y"] for r in recs],
            "loss": [r["loss"] for r in recs],
            "events": events,
        }
        self.emit("steps", fields, step=recs[-1]["step"])

    def set_hparams(self, msg: dict[str, Any]) -> None:
        reply = {"kind": "ack", "run_id": self.run_id, "id": msg.get("id"), "ok": False}
        self.chan.send({**reply, "error": "a race has no live parameters"})

    def run(self) -> None:
        try:
            spec = validate_race(self.job["spec"], Limits(**self.job["limits"]))
            self.trainer = Race.from_spec(spec)
            self.emit_status("paused" if self.paused else "running")
            self.train()
        except ParentGone:
            raise
        except Exception as exc:
            if not self.ended:
                reason = f"race error: {type(exc).__name__}: {exc}"
                self.emit_status("failed", reason, {"status": "failed", "reason": reason})

    def train(self) -> None:
        records = self.trainer.records()
        end: dict[str, Any] = {}
        next_poll, resumed, primed = 0.0, time.monotonic(), False
        while True:
            now = time.monotonic()
            if now >= next_poll:
                self.handle(self.chan.poll(0))
                next_poll = now + POLL_INTERVAL
            if primed and self.holding():
                self.active += now - resumed
                self.wait_while_paused()
                resumed = time.monotonic()
            rec = next(records, None)
            if rec is None:
                break
            if rec["kind"] == "start":
                self.emit("start", {k: v for k, v in rec.items() if k != "kind"})
                continue
            if rec["kind"] == "end":
                end = rec
                break
            self.pending.append(rec)
            if not primed:  # step 0: everyone at the start point
                primed = True
                self.flush()
                continue
            now = time.monotonic()
            if self.paused and self.budget > 0:
                self.budget -= 1
                if self.budget == 0:
                    self.flush()
                    continue
            if now - self.frame_at >= self.frame_interval:
                self.flush()
            if self.active + (now - resumed) > self.max_seconds:
                self.request_stop(f"stopped: a race may run for at most {self.max_seconds:g} s")
        self.flush()
        status = end.get("status", "finished")
        reason = self.stop_reason if status == "stopped" and self.stop_reason else ""
        reason = reason or ("every racer has run its steps" if status == "finished" else "stopped")
        summary = {"status": status, "reason": reason, "step": end.get("step")}
        summary["racers"] = end.get("racers", [])
        self.ended = True
        self.emit_status(status, reason, summary)
