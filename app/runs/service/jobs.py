"""Comparisons and optimizer races: the service side of two job kinds, beside the manager.

A comparison or a race is a *job*: it waits in the same queue as runs, holds one worker
(all members of a comparison train together in it, batched), counts once against the
per-client limit and obeys pause / resume / step / stop like a run. Its events form one log
(members' events are tagged with the member index) that WS /ws/comparisons/{id} replays
with the same no-gap rules as a run's. Jobs are invisible to the runs API.

Each member of a comparison is also an ordinary run (a row in the runs list with its own
resolved spec, status history, metrics, pictures and summary), fed from the comparison's
events as they arrive (app.runs.events.members). Controlling a member controls its
comparison: pause / resume / step act on all members, stop / live changes on that member
only. Comparisons are stored in their own tables (app.runs.kinds.comparison.store); races live
in memory only.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import ValidationError

from app.nn.compare.plan import PlanInvalid, validate_plan
from app.nn.race.race import validate_race
from app.nn.spec.base import error_list
from app.runs.errors import Busy, Conflict, Invalid, NotFound, Unavailable
from app.runs.events.members import as_member_run, member_status
from app.runs.events.stream import TERMINAL, Event, make_event, status_fields
from app.runs.kinds.comparison import store as cstore
from app.runs.kinds.comparison.log import ComparisonLog
from app.runs.service.control import RunControl
from app.runs.service.job_queries import Job, MemberState
from app.runs.service.manager import RunManager
from app.runs.service.state import RunState, ended_summary


class Jobs:
    """The job kinds' side of the run service, and the manager's JobRouter."""

    def __init__(self, core: RunManager, control: RunControl) -> None:
        self.core, self.control = core, control
        core.router = self
        self.jobs: dict[str, Job] = {}
        self.member_of: dict[str, tuple[str, int]] = {}  # member run id -> (comparison, index)

    async def start(self) -> None:
        """After the manager started (the store is open)."""
        await self.core.store.call(cstore.create_tables, self.core.store)
        await self.core.store.call(cstore.interrupt_unfinished, self.core.store)

    def complete_job(self, job: dict[str, Any]) -> dict[str, Any]:
        info = self.jobs.get(job["run_id"])
        if info is None:
            return job
        options = {
            **job["options"],
            "frame_rate": self.core.settings.comparison_frame_rate,
            "comparison_snapshot_rate": self.core.settings.comparison_snapshot_rate,
            "comparison_summary_rate": self.core.settings.comparison_summary_rate,
        }
        return {**job, "kind": info.kind, "options": options}

    # ---- creating jobs -------------------------------------------------------------------
    def _admit(self, client: str) -> None:
        """The limits POST /api/runs applies, for a job."""
        if self.core.closing:
            raise Unavailable("the server is shutting down")
        mine = sum(1 for r in self.core.runs.values() if r.active and r.client == client)
        if mine >= self.core.settings.max_runs_per_client:
            raise Busy(
                f"you already have {mine} runs, comparisons or races queued or training "
                f"(the limit is {self.core.settings.max_runs_per_client}); stop one first"
            )
        if not (self.core.can_dispatch() and not self.core.queue) and (
            len(self.core.queue) >= self.core.settings.max_queued
        ):
            raise Busy("queue full, try again in a moment")

    def _enqueue(self, job: Job, paused: bool) -> None:
        state = job.state
        state.start_paused = paused
        state.position = len(self.core.queue) + 1
        self.core.runs[state.id] = state
        self.jobs[state.id] = job
        self.core.queue.append(state.id)
        first = make_event(state.id, 1, "status", status_fields("queued", None, state.position))
        state.log.append(first)
        if job.kind == "comparison":
            self.core.store.submit(cstore.insert, self.core.store, self._row(job), [first])
            state.checkpointed_seq = first.seq

    async def create_comparison(
        self, data: Any, client: str, paused: bool = False
    ) -> dict[str, Any]:
        try:
            plan = validate_plan(data, self.core.limits)
        except PlanInvalid as exc:
            raise Invalid(exc.errors) from None
        self._admit(client)
        now, k = time.time(), len(plan.specs)
        cid = uuid.uuid4().hex[:12]
        s = self.core.settings
        log = ComparisonLog(cid, s.event_buffer * k, s.history_points * k)
        steps = max(spec.total_steps() for spec in plan.specs)
        state = RunState(cid, client, plan.to_json(), now, steps, log)
        job = Job("comparison", state, labels=plan.labels)
        job.mode, job.mode_reason = (
            ("independent", plan.mode_reason())
            if plan.independent
            else (
                "batched",
                "",
            )
        )
        for i, spec in enumerate(plan.specs):
            mid = uuid.uuid4().hex[:12]
            resolved = spec.model_dump(mode="json")
            member = MemberState(
                mid, client, resolved, now, spec.total_steps(), self.core.bus.open(mid)
            )
            first = make_event(mid, 1, "status", status_fields("queued", None, None))
            member.log.append(first)
            self.core.runs[mid] = member
            self.member_of[mid] = (cid, i)
            job.members.append(mid)
            self.core.store.submit(self.core.store.insert_run, member.row(), [first])
        self._enqueue(job, paused)
        self.core.dispatch()
        return {"id": cid, "status": state.status, "members": list(job.members)}

    async def create_race(self, data: Any, client: str, paused: bool = False) -> dict[str, Any]:
        try:
            spec = validate_race(data, self.core.limits)
        except ValidationError as exc:
            raise Invalid(error_list(exc)) from None
        self._admit(client)
        rid = uuid.uuid4().hex[:12]
        state = RunState(
            rid,
            client,
            spec.model_dump(mode="json"),
            time.time(),
            spec.steps,
            self.core.bus.open(rid),
        )
        self._enqueue(Job("race", state), paused)
        self.core.dispatch()
        return {"id": rid, "status": state.status}

    # ---- events from the executor ----------------------------------------------------------
    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> bool:
        job = self.jobs.get(run_id)
        if job is None:
            return False
        log = job.state.log
        if meta.get("type") == "status":
            before = log.last_seq
            self.core.apply_event(run_id, meta, data)  # the manager's status bookkeeping
            if log.last_seq != before:
                self._job_status(job, meta)
            return True
        meta["received"] = time.monotonic()  # event lag, as the manager measures it
        event = Event(int(meta["seq"]), str(meta["type"]), data, meta)
        if event.type in ("metrics", "steps"):  # the furthest member's or the race's step
            job.state.step = max(job.state.step, int(meta.get("step") or 0))
        if log.append(event) and job.kind == "comparison" and meta.get("member") is not None:
            self._to_member(job, int(meta["member"]), event)
        return True

    def _to_member(self, job: Job, index: int, event: Event) -> None:
        """A member's event, also as its member run's own event."""
        if not 0 <= index < len(job.members):
            return
        mid = job.members[index]
        member = self.core.runs.get(mid)
        if member is None or member.terminal:
            return
        seq, meta = member.log.last_seq + 1, event.meta
        if event.type == "end":
            copy = member_status(mid, seq, meta["status"], meta.get("reason"), meta.get("summary"))
        elif event.type == "start":
            body = {k: v for k, v in event.payload().items() if k not in ("run_id", "seq", "type")}
            body.pop("member", None)
            if index == 0:
                job.points = body.get("points")
            elif "points" not in body:
                body["points"] = job.points
            copy = make_event(mid, seq, "start", body)
        elif event.type in ("metrics", "snapshot", "hparams"):
            copy = as_member_run(mid, seq, meta, event.data)
        else:
            return
        self.core.apply_event(mid, copy.meta, copy.data)

    def _job_status(self, job: Job, meta: dict[str, Any]) -> None:
        state, status = job.state, meta["status"]
        if job.kind == "comparison":
            self._persist(job, terminal=status in TERMINAL)
            for mid in job.members:
                member = self.core.runs.get(mid)
                if member is None or member.terminal or status == "queued":
                    continue
                if status in TERMINAL:
                    reason = str(meta.get("reason") or f"the comparison has {status}")
                    summary = ended_summary(member, status, reason)
                    copy = member_status(mid, member.log.last_seq + 1, status, reason, summary)
                else:
                    copy = member_status(mid, member.log.last_seq + 1, status, None, None)
                self.core.apply_event(mid, copy.meta, copy.data)
        del state  # (races keep no rows)

    def ack_target(self, run_id: str, meta: dict[str, Any]) -> str:
        job = self.jobs.get(run_id)
        member = meta.get("member")
        if job is not None and isinstance(member, int) and 0 <= member < len(job.members):
            return job.members[member]  # the member run awaits the reply
        return run_id

    # ---- persistence (comparisons) ---------------------------------------------------------
    def _row(self, job: Job) -> dict[str, Any]:
        s = job.state
        return {
            "id": s.id,
            "client": s.client,
            "status": s.status,
            "reason": s.reason,
            "spec": s.spec,
            "members": [
                {"run_id": m, "label": lab} for m, lab in zip(job.members, job.labels, strict=True)
            ],
            "mode": job.mode,
            "mode_reason": job.mode_reason,
            "summary": s.summary,
            "created_at": s.created_at,
            "started_at": s.started_at,
            "finished_at": s.finished_at,
            "last_seq": s.log.last_seq,
        }

    def _persist(self, job: Job, terminal: bool = False) -> None:
        """At the end the exact (decimated) log replaces the stored one; before that, what
        is new since the last write is added and the latest pictures and table swapped,
        which stays cheap however long a comparison trains."""
        state = job.state
        row = self._row(job)
        keys = ("status", "reason", "summary", "started_at", "finished_at", "last_seq")
        updates = {k: row[k] for k in keys}
        events = state.log.persistable()
        if terminal:
            self.core.store.submit(
                cstore.replace_events, self.core.store, state.id, events, updates
            )
        else:
            done = state.checkpointed_seq
            new = [e for e in events if e.seq > done and e.type not in cstore.LATEST]
            latest = [e for e in events if e.type in cstore.LATEST]
            self.core.store.submit(
                cstore.checkpoint, self.core.store, state.id, new, latest, updates
            )
        state.checkpointed_seq = state.log.last_seq

    def checkpoint(self, run: RunState) -> bool:
        job = self.jobs.get(run.id)
        if job is None:
            return False
        if job.kind == "comparison":
            self._persist(job)
        return True

    def forget(self, run_id: str) -> None:
        self.jobs.pop(run_id, None)
        self.member_of.pop(run_id, None)

    # ---- control ------------------------------------------------------------------------
    def member_link(self, run_id: str) -> tuple[str, int] | None:
        return self.member_of.get(run_id)

    def route(self, run: RunState, message: dict[str, Any]) -> tuple[RunState, dict[str, Any]]:
        link = self.member_of.get(run.id)
        if link is None:
            return run, message
        comparison = self.core.runs.get(link[0])
        if comparison is None or comparison.terminal:
            raise Conflict("the comparison this run belongs to has ended")
        if message.get("op") in ("stop", "set"):  # these act on this member only
            message = {**message, "member": link[1]}
        return comparison, message

    def check_stop(self, run: RunState) -> None:
        if run.id in self.member_of and run.status == "queued":
            raise Conflict(
                "cannot stop one member before its comparison starts; stop the comparison"
            )

    async def delete(self, run: RunState | None, run_id: str) -> bool:
        if run_id in self.jobs:
            raise NotFound(f"no run {run_id!r}")
        if run is None or run_id not in self.member_of or run.terminal or run.deleted:
            return False
        if run.status == "queued":
            raise Conflict("cannot delete one member before its comparison starts")
        run.deleted = True  # forgotten once its member has stopped (as a training run)
        self.core.tombstone(run.id)
        self.core.send(run, {"op": "stop", "reason": "deleted"})
        return True

    async def control_job(self, kind: str, job_id: str, action: str, n: int = 1) -> dict[str, Any]:
        """pause | resume | step | stop of a comparison or race (known to exist: the front
        door asked JobQueries.job_row first)."""
        try:
            if action == "pause":
                return await self.control.pause(job_id)
            if action == "resume":
                return await self.control.resume(job_id)
            if action == "step":
                return await self.control.step(job_id, n)
            return await self.control.stop(job_id)
        except Conflict as exc:
            raise Conflict(str(exc.detail).replace("the run", f"the {kind}")) from None
