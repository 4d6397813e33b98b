"""The read side of the service's jobs (comparisons and races): views, stored logs, and
the links from member runs to their comparison."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.runs.errors import Conflict, NotFound
from app.runs.events.stream import Event
from app.runs.kinds.comparison import store as cstore
from app.runs.kinds.comparison.log import ComparisonLog
from app.runs.service.manager import RunManager
from app.runs.service.queries import RunQueries
from app.runs.service.state import RunState, iso


class MemberState(RunState):
    """A comparison member. Not `active` for the manager's own bookkeeping (per-client
    limit, idle runs, shutdown): its comparison is, and ends it when it ends."""

    @property
    def active(self) -> bool:
        return False


@dataclass(eq=False)
class Job:
    kind: str  # comparison | race
    state: RunState
    members: list[str] = field(default_factory=list)  # member run ids, by member index
    labels: list[str] = field(default_factory=list)
    mode: str = ""
    mode_reason: str = ""
    points: Any = None  # member 0's data points, for the other members' start events


class JobQueries:
    """A component of the run service: job views, and the run reads with jobs in mind
    (a job id is not a run; a member run links to its comparison)."""

    def __init__(
        self,
        core: RunManager,
        reads: RunQueries,
        jobs: dict[str, Job],
        member_of: dict[str, tuple[str, int]],  # member run id -> (comparison id, index)
    ) -> None:
        self.core, self.reads, self.jobs, self.member_of = core, reads, jobs, member_of
        self.runs, self.store = core.runs, core.store

    # ---- reading jobs -------------------------------------------------------------------
    async def job_row(self, kind: str, job_id: str) -> Job | None:
        """The live job, or None for a stored comparison; NotFound / Conflict otherwise."""
        job = self.jobs.get(job_id)
        if job is not None and job.kind == kind:
            return job
        if job is None and kind == "comparison":
            row = await self.store.call(cstore.get, self.store, job_id)
            if row is not None:
                raise Conflict(f"the comparison has {row['status']}")
        raise NotFound(f"no {kind} {job_id!r}")

    def job_view(self, job: Job) -> dict[str, Any]:
        s = job.state
        view = {
            "id": s.id,
            "kind": job.kind,
            "status": s.status,
            "reason": s.reason,
            "queue_position": s.position if s.status == "queued" else None,
            "spec": s.spec,
            "summary": s.summary,
            "created_at": iso(s.created_at),
            "started_at": iso(s.started_at),
            "finished_at": iso(s.finished_at),
            "last_seq": s.log.last_seq,
        }
        if job.kind == "race":
            return {**view, "step": s.step, "total_steps": s.total_steps}
        live = s.log.summary if isinstance(s.log, ComparisonLog) else None
        if s.summary is None and live is not None:
            body = live.payload()
            view["summary"] = {"status": s.status, "members": body["members"], "mode": body["mode"]}
        members = []
        for i, (mid, label) in enumerate(zip(job.members, job.labels, strict=True)):
            run = self.runs.get(mid)
            members.append(
                {
                    "index": i,
                    "run_id": mid,
                    "label": label,
                    "status": run.status if run else None,
                    "step": run.step if run else None,
                    "summary": run.summary if run else None,
                }
            )
        return {**view, "mode": job.mode, "mode_reason": job.mode_reason, "members": members}

    async def comparison(self, comparison_id: str) -> dict[str, Any]:
        job = self.jobs.get(comparison_id)
        if job is not None and job.kind == "comparison":
            return self.job_view(job)
        row = await self.store.call(cstore.get, self.store, comparison_id)
        if row is None or job is not None:
            raise NotFound(f"no comparison {comparison_id!r}")
        members = []
        for i, m in enumerate(row["members"]):
            run = await self.store.call(self.store.get_run, m["run_id"])
            members.append(
                {
                    "index": i,
                    "run_id": m["run_id"],
                    "label": m["label"],
                    "status": run["status"] if run else None,
                    "step": run["step"] if run else None,
                    "summary": run["summary"] if run else None,
                }
            )
        view = {
            k: row[k]
            for k in (
                "id",
                "status",
                "reason",
                "spec",
                "summary",
                "mode",
                "mode_reason",
                "last_seq",
            )
        }
        times = {k: iso(row[k]) for k in ("created_at", "started_at", "finished_at")}
        return {**view, "kind": "comparison", "queue_position": None, **times, "members": members}

    async def race(self, race_id: str) -> dict[str, Any]:
        job = self.jobs.get(race_id)
        if job is None or job.kind != "race":
            raise NotFound(f"no race {race_id!r} (races are kept in memory for a while)")
        return self.job_view(job)

    async def job_exists(self, kind: str, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        if job is not None:
            return job.kind == kind
        if kind != "comparison" or job_id in self.runs:
            return False
        return await self.store.call(cstore.get, self.store, job_id) is not None

    async def events(self, run_id: str, after: int) -> tuple[list[Event], str, int]:
        if run_id not in self.runs:
            row = await self.store.call(cstore.get, self.store, run_id)
            if row is not None:  # a comparison that left memory: its stored log
                events = await self.store.call(cstore.get_events, self.store, run_id, after)
                return events, row["status"], row["last_seq"]
        return await self.reads.events(run_id, after)

    async def follow(self, run_id: str, after: int) -> AsyncIterator[list[Event]]:
        """RunQueries.follow, where a comparison that left memory replays its stored log."""
        run = await self.core.lookup(run_id)
        if run is None or run.deleted:
            events, _, _ = await self.events(run_id, after)
            if events:
                yield events
            return
        async for batch in self.reads.follow(run_id, after):
            yield batch

    async def get(self, run_id: str) -> dict[str, Any]:
        if run_id in self.jobs:
            raise NotFound(f"no run {run_id!r}")
        view = await self.reads.get(run_id)
        link = await self._links([run_id])
        if run_id in link:
            view["comparison"] = link[run_id]
        return view

    async def list_runs(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        page = await self.reads.list_runs(limit, offset)
        links = await self._links([r["id"] for r in page["runs"]])
        for item in page["runs"]:
            if item["id"] in links:
                item["comparison"] = links[item["id"]]
        return page

    async def _links(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for rid in run_ids:
            link = self.member_of.get(rid)
            job = self.jobs.get(link[0]) if link else None
            if link and job:
                out[rid] = {"id": link[0], "member": link[1], "label": job.labels[link[1]]}
        rest = [rid for rid in run_ids if rid not in out]
        if rest:
            out.update(await self.store.call(cstore.links, self.store, rest))
        return out
