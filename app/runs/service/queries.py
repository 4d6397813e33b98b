"""The read side of the run manager: run views, lists, event replay and live following.

Live runs answer from memory; ended runs that left memory (or a previous server's runs)
answer from the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.runs.errors import NotFound
from app.runs.events.stream import Event
from app.runs.service.manager import RunManager
from app.runs.service.state import RunState, brief, status_history, view_of_row
from app.runs.store.runs import Store
from app.settings import Settings


class RunQueries:
    """A component of the run service: reads over the manager's runs and the store."""

    def __init__(self, core: RunManager) -> None:
        self.core = core
        self.settings: Settings = core.settings
        self.store: Store = core.store
        self.runs: dict[str, RunState] = core.runs
        self.deleted: dict[str, None] = core.deleted

    async def get(self, run_id: str) -> dict[str, Any]:
        run = await self.core.lookup(run_id)
        if run is not None and run.deleted:
            raise NotFound(f"no run {run_id!r}")
        if run is not None:
            view = run.view()
            history = [e for e in run.log.pinned if e.type == "status"]
        else:
            history = await self.store.call(self.store.status_history, run_id)
            row = await self.store.call(self.store.get_run, run_id)
            if row is None:
                raise NotFound(f"no run {run_id!r}")
            view = view_of_row(row)
        view["history"] = status_history(history)
        return view

    async def owner(self, run_id: str) -> str:
        """The client id the run was created with (for ownership checks), or NotFound."""
        run = self.runs.get(run_id)
        if run is not None and not run.deleted:
            return run.client
        row = await self.store.call(self.store.get_run, run_id)
        if row is None or run is not None:
            raise NotFound(f"no run {run_id!r}")
        return str(row["client"])

    async def list_runs(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        rows, total = await self.store.call(self.store.list_runs, limit, offset)
        items = []
        for row in rows:
            if row["id"] in self.deleted:  # deleted while this read was in flight
                continue
            run = self.runs.get(row["id"])
            items.append(brief(run.view() if run is not None else view_of_row(row)))
        return {"runs": items, "total": total, "limit": limit, "offset": offset}

    async def events(self, run_id: str, after: int) -> tuple[list[Event], str, int]:
        """(events after seq `after`, current status, last seq)."""
        run = await self.core.lookup(run_id)
        if run is not None and not run.deleted:
            return run.log.after(after), run.status, run.log.last_seq
        row = await self.store.call(self.store.get_run, run_id)
        if row is None or run is not None:
            raise NotFound(f"no run {run_id!r}")
        events = await self.store.call(self.store.get_events, run_id, after)
        return events, row["status"], row["last_seq"]

    async def follow(self, run_id: str, after: int) -> AsyncIterator[list[Event]]:
        """Batches of events after `after`, live, until the run ends; [] = idle tick."""
        run = await self.core.lookup(run_id)
        if run is None or run.deleted:
            events, _, _ = await self.events(run_id, after)  # ended: replay the store
            if events:
                yield events
            return
        log, cursor = run.log, after
        while True:
            batch = log.after(cursor)
            if batch:
                cursor = batch[-1].seq
                yield batch
                continue
            if log.done:
                return
            if not await log.wait(cursor, self.settings.heartbeat_seconds):
                yield []
