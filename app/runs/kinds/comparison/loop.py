"""A comparison inside a worker: all members trained together, streamed as one event log.

The job is {"kind": "comparison", "run_id": <comparison id>, "spec": <plan JSON>, ...} (see
app.nn.compare.plan). Events are tagged with the member index (app.runs.events.members):
`start`, `metrics` (each member's frames decimated like a run's: one frame per member per
tick, at most `frame_rate` ticks a second), `snapshot` (one member at a time, round-robin,
`comparison_snapshot_rate` pictures a second in all), `hparams`, `end` (a member finished,
diverged or was stopped); untagged: `status` and `summary` (the live table, a few times a
second, and the final one). Control applies to all members: pause, resume, stop, and
"step n" = n more optimizer steps for every member still training; "stop" and "set" may
name a member.
"""

from __future__ import annotations

import math
import time
from typing import Any

from app.nn.compare.plan import validate_plan
from app.nn.families.registry import trainer_for
from app.nn.spec.base import Limits
from app.runs.events.frames import FrameBuilder, compact
from app.runs.events.members import member_event
from app.runs.kinds.base import POLL_INTERVAL, ParentGone
from app.runs.kinds.run.loop import Pace, RunLoop, summary_of

SMALL_MULTIPLE_GRID = 48  # member pictures are small: a coarser grid is plenty


def engine_steps(engine: Any, ended: set[int]) -> dict[int, int]:
    """Each training member's step count inside the engine (batched groups or trainers)."""
    if engine.groups:
        return {m.index: g.step for g in engine.groups for m in g.active if m.index not in ended}
    return {i: t.step for i, t in enumerate(engine.trainers) if i not in ended}


class ComparisonLoop(RunLoop):
    def __init__(self, job: dict[str, Any], chan: Any) -> None:
        super().__init__(job, chan)
        opts = job["options"]
        self.frame_interval = 1.0 / max(opts["frame_rate"], 0.1)
        rate = opts.get("comparison_snapshot_rate", opts["snapshot_rate"])
        self.snapshot_interval = 1.0 / max(rate, 0.01)
        self.summary_interval = 1.0 / max(opts.get("comparison_summary_rate", 2.0), 0.01)
        self.builders: list[FrameBuilder] = []
        self.last_step: dict[int, int] = {}
        self.last_epoch: dict[int, float] = {}  # the pace follows the member furthest ahead
        self.targets: dict[int, int] | None = None  # "step n": where each member stops
        self.finished_members: set[int] = set()
        self.evaluated: set[int] = set()
        self.reasons: dict[int, str] = {}  # why a member was stopped from outside
        self.hold_flush = False  # show the exact state once the hold begins
        self.turn = 0
        self.tick_at = self.snap_at = self.summary_at = -math.inf
        self.started = time.monotonic()

    # ---- output ---------------------------------------------------------------------
    def emit_member(self, type_: str, member: int, fields: dict[str, Any], **meta: Any) -> None:
        data, tail = member_event(self.run_id, self.seq, type_, member, fields)
        head = {"kind": "event", "run_id": self.run_id, "seq": self.seq, "type": type_}
        self.chan.send({**head, "member": member, "tail": tail, **meta}, data)
        self.seq += 1

    def emit_frames(self, now: float, members: list[int] | None = None) -> None:
        for m in range(len(self.builders)) if members is None else members:
            frame = self.builders[m].take(now)
            if frame is None:
                continue
            val = ((frame.get("eval") or {}).get("val") or {}).get("loss")
            meta = {"step": frame["step"], "epoch": frame["epoch"], "val_loss": val}
            self.emit_member("metrics", m, frame, loss=frame.get("loss_mean"), **meta)

    def emit_picture(self, member: int) -> None:
        size = min(self.trainer.specs[member].stream.grid_size, SMALL_MULTIPLE_GRID)
        snap = self.trainer.snapshot(member, size, False)
        for key in ("kind", "member"):
            snap.pop(key, None)
        self.emit_member("snapshot", member, compact(snap), step=snap["step"])

    def emit_summary(self, now: float) -> None:
        self.summary_at = now
        fields = {"mode": self.trainer.mode, "members": self.trainer.summary()}
        self.emit("summary", {**fields, "seconds": now - self.started})

    def training(self) -> list[int]:
        return [m for m in range(len(self.builders)) if m not in self.finished_members]

    def flush(self) -> None:
        now = time.monotonic()
        self.emit_frames(now)
        for m in self.training():
            self.emit_picture(m)
        self.snap_at = now
        self.emit_summary(now)

    # ---- control --------------------------------------------------------------------
    def handle(self, messages: list[dict[str, Any]]) -> None:
        for msg in messages:
            if msg.get("run_id") != self.run_id:
                continue
            op, member = msg.get("op"), msg.get("member")
            if op == "pause" and not self.paused:
                self.paused, self.targets, self.hold_flush = True, None, True
                self.emit_status("paused")
            elif op == "resume" and self.paused:
                self.paused, self.targets = False, None
                self.emit_status("running")
            elif op == "step" and self.paused:
                self.step_targets(max(1, int(msg.get("n", 1))))
            elif op == "stop" and member is None:
                self.request_stop(str(msg.get("reason") or "stopped by the user"))
            elif op == "stop" and isinstance(member, int) and member in self.training():
                self.reasons[member] = str(msg.get("reason") or "stopped by the user")
                self.trainer.stop(member)
            elif op == "set":
                self.set_hparams(msg)

    def step_targets(self, n: int) -> None:
        """n more steps for every member still training, counted from where the furthest
        member with the same schedule of steps is: such members stay in step."""
        start = self.targets or self.last_step
        total = {m: self.trainer.specs[m].total_steps() for m in self.training()}
        ahead: dict[int, int] = {}
        for m, steps in total.items():
            ahead[steps] = max(ahead.get(steps, 0), start.get(m, 0))
        self.targets = {m: ahead[total[m]] + n for m in total}
        self.hold_flush = True

    def set_hparams(self, msg: dict[str, Any]) -> None:
        member = msg.get("member")
        reply: dict[str, Any] = {"kind": "ack", "run_id": self.run_id, "id": msg.get("id")}
        reply["member"] = member
        if not isinstance(member, int) or member not in self.training():
            error = f"member {member!r} is not training" if member is not None else "no member"
            self.chan.send({**reply, "ok": False, "error": error})
            return
        try:
            applied = self.trainer.set_hparams(member, **msg.get("changes", {}))
        except (ValueError, TypeError, StopIteration) as exc:
            self.chan.send({**reply, "ok": False, "error": str(exc)})
            return
        self.chan.send({**reply, "ok": True, "applied": applied})
        step = self.last_step.get(member, 0)
        self.emit_member("hparams", member, {"changes": applied, "step": step})

    def at_boundary(self) -> bool:
        """Every training member has reported the step the engine has computed for it."""
        steps = engine_steps(self.trainer, self.finished_members)
        return all(self.last_step.get(m, 0) >= s for m, s in steps.items())

    def holding(self) -> bool:
        if not self.paused or self.stop_reason is not None or not self.at_boundary():
            return False
        targets = self.targets or {}
        return all(
            self.last_step.get(m, 0) >= t for m, t in targets.items() if m in self.training()
        )

    # ---- the loop -------------------------------------------------------------------
    def run(self) -> None:
        try:
            plan = validate_plan(self.job["spec"], Limits(**self.job["limits"]))
            self.trainer = plan.engine(trainer_for)  # each member's family's trainer
            self.builders = [FrameBuilder(1e9, 1e9) for _ in plan.specs]
            self.pace = Pace(plan.specs[0].stream.pace)  # the base's: members share it
            self.emit_status("paused" if self.paused else "running")
            self.train()
        except ParentGone:
            raise
        except Exception as exc:  # an engine error fails this comparison, not the worker
            if not self.ended:
                reason = f"training error: {type(exc).__name__}: {exc}"
                self.emit_status("failed", reason, {"status": "failed", "reason": reason})

    def train(self) -> None:
        records = self.trainer.records()
        final: dict[str, Any] | None = None
        next_poll, resumed, primed = 0.0, time.monotonic(), False
        while True:
            now = time.monotonic()
            if now >= next_poll:
                self.handle(self.chan.poll(0))
                next_poll = now + POLL_INTERVAL
            if primed and self.holding():
                self.targets = None
                if self.hold_flush:
                    self.hold_flush = False
                    self.flush()
                self.active += now - resumed
                self.wait_while_paused()
                resumed = time.monotonic()
                self.pace.restart_at_epoch(self.furthest_epoch())
            rec = next(records, None)
            if rec is None:
                break
            kind, m = rec["kind"], rec.get("member", 0)
            if kind == "summary":
                final = rec
            elif kind == "start":
                self.emit_member("start", m, {k: v for k, v in rec.items() if k != "member"})
            elif kind == "end":
                self.member_end(rec)
            else:
                self.builders[m].add(rec)
                if kind == "step":
                    self.last_step[m] = rec["step"]
                    self.last_epoch[m] = rec["epoch"]
                else:
                    self.evaluated.add(m)
                if not primed:  # show the untrained members first, then obey
                    primed = len(self.evaluated | self.finished_members) == len(self.builders)
                    if primed:
                        self.flush()
                    continue
                self.periodic(time.monotonic())
                if kind == "step" and not self.paused:
                    self.keep_pace_of_members()
            if self.active + (time.monotonic() - resumed) > self.max_seconds:
                self.request_stop(
                    f"stopped: a comparison may train for at most {self.max_seconds:g} s"
                )
        self.finish_all(final)

    def periodic(self, now: float) -> None:
        if now - self.tick_at >= self.frame_interval:
            self.tick_at = now
            self.emit_frames(now)
        training = self.training()
        if training and now - self.snap_at >= self.snapshot_interval:
            self.snap_at = now
            self.turn = (self.turn + 1) % len(training)
            self.emit_picture(training[self.turn])
        if now - self.summary_at >= self.summary_interval:
            self.emit_summary(now)

    def furthest_epoch(self) -> float:
        """The epoch of the training member furthest ahead (an ended member no longer
        sets the pace: its last epoch would stop the schedule from moving)."""
        return max((self.last_epoch.get(m, 0.0) for m in self.training()), default=0.0)

    def keep_pace_of_members(self) -> None:
        """Hold the members back to the comparison's pace (epochs a second of the member
        furthest ahead), answering control messages and keeping the stream going meanwhile."""
        epoch = self.furthest_epoch()
        while (wait := self.pace.wait_for_epoch(epoch, time.monotonic())) > 0:
            self.handle(self.chan.poll(min(wait, self.frame_interval)))
            self.periodic(time.monotonic())
            if self.paused or self.stop_reason is not None:
                return

    def member_end(self, rec: dict[str, Any]) -> None:
        m = rec["member"]
        self.emit_frames(time.monotonic(), [m])
        self.emit_picture(m)
        self.finished_members.add(m)
        status, reason = rec["status"], rec["reason"]
        if status == "stopped":
            reason = self.reasons.get(m) or self.stop_reason or reason
            self.trainer.tracker.set_reason(m, reason)  # the summary table says it too
        summary = summary_of(rec, status, reason)
        fields = {"status": status, "reason": reason, "summary": summary}
        self.emit_member("end", m, fields, **fields)

    def finish_all(self, final: dict[str, Any] | None) -> None:
        now = time.monotonic()
        self.emit_frames(now)
        rows = final["members"] if final else self.trainer.summary()
        if self.stop_reason:
            status, reason = "stopped", self.stop_reason
        elif rows and all(r["diverged"] for r in rows):
            status, reason = "diverged", "every member diverged"
        else:
            status, reason = "finished", "every member has ended"
        self.emit_summary(now)
        summary = {
            "status": status,
            "reason": reason,
            "mode": self.trainer.mode,
            "mode_reason": self.trainer.mode_reason,
            "members": rows,
            "seconds": final["seconds"] if final else now - self.started,
        }
        self.ended = True
        self.emit_status(status, reason, summary)
