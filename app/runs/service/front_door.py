"""The run layer's one front door: everything the web layer and the CLI may ask of it.

Components, each with one job, share the manager's run table (composition, no mixins):

    RunManager    the runs' table, queue, dispatch, executor events, ends   manager.py
    RunControl    pause, resume, step, stop, live changes, delete, idle     control.py
    Jobs          comparisons and races (the manager's JobRouter)           jobs.py
    RunQueries    run views, lists, event replay and following              queries.py
    JobQueries    job views; run reads with jobs in mind                    job_queries.py
    RunArtifacts  weights, landscapes, metric history, custom datasets      artifacts.py

The service is also the executors' sink: their reports go to the component that owns them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.nn.spec.experiment import Spec
from app.runs.events.demand import Demand
from app.runs.events.stream import Event
from app.runs.execution.base import Executor
from app.runs.service.artifacts import RunArtifacts
from app.runs.service.control import RunControl
from app.runs.service.job_queries import Job, JobQueries
from app.runs.service.jobs import Jobs
from app.runs.service.manager import RunManager
from app.runs.service.queries import RunQueries
from app.runs.service.state import RunState
from app.runs.service.viewers import ServiceStats, Viewers
from app.runs.store.blobs import Artifact
from app.runs.store.runs import Store
from app.settings import Settings


class RunService:
    def __init__(self, settings: Settings, store: Store, executor: Executor) -> None:
        self.manager = RunManager(settings, store, executor)
        self.control = RunControl(self.manager)
        self.jobs = Jobs(self.manager, self.control)
        self.run_reads = RunQueries(self.manager)
        self.reads = JobQueries(self.manager, self.run_reads, self.jobs.jobs, self.jobs.member_of)
        self.artifacts = RunArtifacts(self.manager, self.reads)
        # Snapshots at the rate viewers consume them (pictures pace themselves per run).
        self.demand = Demand(
            executor.control,
            watched=lambda: len(self.manager.viewers.open),
            rate=settings.snapshot_rate,
            busy_rate=settings.snapshot_rate_busy,
            busy_runs=settings.snapshot_busy_runs,
        )

    # ---- shared state the web layer reads ------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.manager.settings

    @property
    def store(self) -> Store:
        return self.manager.store

    @property
    def executor(self) -> Executor:
        return self.manager.executor

    @property
    def runs(self) -> dict[str, RunState]:
        return self.manager.runs

    @property
    def viewers(self) -> Viewers:
        return self.manager.viewers

    @property
    def stats(self) -> ServiceStats:
        return self.manager.stats

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        await self.manager.start(self)
        await self.jobs.start()
        self.control.start()

    async def close(self) -> None:
        self.control.close()
        await self.manager.close()

    def health(self) -> dict[str, Any]:
        return self.manager.health()

    # ---- the executors' sink (ExecutorSink) --------------------------------------------------
    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> None:
        self.manager.on_event(run_id, meta, data)

    def on_ack(self, run_id: str, meta: dict[str, Any]) -> None:
        self.manager.on_ack(run_id, meta)

    def on_artifact(self, run_id: str, meta: dict[str, Any], data: bytes) -> None:
        self.artifacts.on_artifact(run_id, meta, data)

    def on_lost(self, run_id: str, reason: str) -> None:
        self.manager.on_lost(run_id, reason)

    def on_capacity(self) -> None:
        self.manager.on_capacity()

    async def take_over(self, take: list[str], gone: list[str]) -> list[str]:
        return await self.manager.take_over(take, gone)

    # ---- runs --------------------------------------------------------------------------
    def validate(self, data: Any) -> Spec:
        return self.manager.validate(data)

    async def create(self, data: Any, client: str, paused: bool = False) -> dict[str, Any]:
        return await self.manager.create(data, client, paused)

    async def pause(self, run_id: str) -> dict[str, Any]:
        return await self.control.pause(run_id)

    async def resume(self, run_id: str) -> dict[str, Any]:
        return await self.control.resume(run_id)

    async def step(self, run_id: str, n: int = 1) -> dict[str, Any]:
        return await self.control.step(run_id, n)

    async def stop(self, run_id: str, reason: str | None = None) -> dict[str, Any]:
        return await self.control.stop(run_id, reason)

    async def set_params(self, run_id: str, data: Any) -> dict[str, Any]:
        return await self.control.set_params(run_id, data)

    async def delete(self, run_id: str) -> None:
        await self.control.delete(run_id)

    async def get(self, run_id: str) -> dict[str, Any]:
        return await self.reads.get(run_id)

    async def owner(self, run_id: str) -> str:
        return await self.run_reads.owner(run_id)

    async def list_runs(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return await self.reads.list_runs(limit, offset)

    async def events(self, run_id: str, after: int) -> tuple[list[Event], str, int]:
        return await self.reads.events(run_id, after)

    def follow(self, run_id: str, after: int) -> AsyncIterator[list[Event]]:
        return self.reads.follow(run_id, after)

    # ---- artifacts and datasets -------------------------------------------------------------
    async def weights(self, run_id: str) -> Artifact:
        return await self.artifacts.weights(run_id)

    async def landscape(self, run_id: str, data: Any) -> dict[str, Any]:
        return await self.artifacts.landscape(run_id, data)

    async def metric_history(self, run_id: str) -> dict[str, Any]:
        return await self.artifacts.metric_history(run_id)

    def check_points(self, points: Any) -> list[list[float]]:
        return self.artifacts.check_points(points)

    async def save_points(self, points: list[list[float]]) -> dict[str, Any]:
        return await self.artifacts.save_points(points)

    async def load_points(self, key: str) -> list[list[float]]:
        return await self.artifacts.load_points(key)

    # ---- comparisons and races ------------------------------------------------------------
    async def create_comparison(
        self, data: Any, client: str, paused: bool = False
    ) -> dict[str, Any]:
        return await self.jobs.create_comparison(data, client, paused)

    async def create_race(self, data: Any, client: str, paused: bool = False) -> dict[str, Any]:
        return await self.jobs.create_race(data, client, paused)

    async def control_job(self, kind: str, job_id: str, action: str, n: int = 1) -> dict[str, Any]:
        await self.reads.job_row(kind, job_id)  # NotFound, or Conflict once it left memory
        return await self.jobs.control_job(kind, job_id, action, n)

    async def comparison(self, comparison_id: str) -> dict[str, Any]:
        return await self.reads.comparison(comparison_id)

    async def race(self, race_id: str) -> dict[str, Any]:
        return await self.reads.race(race_id)

    async def job_exists(self, kind: str, job_id: str) -> bool:
        return await self.reads.job_exists(kind, job_id)

    async def job_row(self, kind: str, job_id: str) -> Job | None:
        return await self.reads.job_row(kind, job_id)
