"""Controlling runs: pause, resume, step, stop, live changes, delete; idle runs stopped.

A component of the run service (app.runs.service.front_door): it acts on the manager's runs
through the manager, which routes a message for a comparison member to its comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from app.runs.errors import Conflict, Invalid, NotFound, Unavailable
from app.runs.service.live_changes import validate_changes
from app.runs.service.manager import RunManager
from app.runs.service.state import refusal

log = logging.getLogger("app.runs")
ACK_TIMEOUT = 5.0  # seconds a worker has to confirm a live hyper-parameter change
MAX_STEP_REQUEST = 100_000


class RunControl:
    def __init__(self, core: RunManager) -> None:
        self.core = core
        self._reaper: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.core.settings.idle_run_seconds > 0:
            self._reaper = asyncio.get_running_loop().create_task(self._idle_loop())

    def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()

    async def pause(self, run_id: str) -> dict[str, Any]:
        run = await self.core.known(run_id)
        if run.status != "running":
            raise refusal(run, "pause")
        self.core.send(run, {"op": "pause"})
        run.status = "paused"
        return {"id": run.id, "status": run.status}

    async def resume(self, run_id: str) -> dict[str, Any]:
        run = await self.core.known(run_id)
        if run.status != "paused":
            raise refusal(run, "resume")
        self.core.send(run, {"op": "resume"})
        run.status = "running"
        return {"id": run.id, "status": run.status}

    async def step(self, run_id: str, n: int = 1) -> dict[str, Any]:
        if not 1 <= n <= MAX_STEP_REQUEST:
            raise Invalid(
                [{"field": "n", "message": f"{n} is out of range [1, {MAX_STEP_REQUEST}]"}]
            )
        run = await self.core.known(run_id)
        if run.status != "paused":
            raise refusal(run, "step (pause it first)")
        self.core.send(run, {"op": "step", "n": n})
        return {"id": run.id, "status": run.status, "steps": n}

    async def stop(self, run_id: str, reason: str | None = None) -> dict[str, Any]:
        run = await self.core.known(run_id)
        self.core.router.check_stop(run)
        if run.terminal:
            raise refusal(run, "stop")
        if run.status == "queued":
            if run.observed:
                raise Conflict("cannot stop: the run waits in another web server's queue")
            self.core.end(run, "stopped", reason or "stopped before it started")
        else:
            self.core.send(run, {"op": "stop", **({"reason": reason} if reason else {})})
        return {"id": run.id, "status": run.status}

    async def _idle_loop(self) -> None:
        """Stop active runs nobody has watched for idle_run_seconds (a closed tab)."""
        limit = self.core.settings.idle_run_seconds
        reason = f"stopped: nobody watched it for {limit:g} s"
        while True:
            await asyncio.sleep(min(limit / 4, 15.0))
            active = {r.id: r.created_at for r in self.core.runs.values() if r.active}
            for run_id in self.core.viewers.idle(active, active, limit):
                log.info("stopping idle run", extra={"run_id": run_id})
                with contextlib.suppress(Conflict, NotFound):
                    await self.stop(run_id, reason)

    async def set_params(self, run_id: str, data: Any) -> dict[str, Any]:
        changes = validate_changes(data, self.core.limits)
        run = await self.core.known(run_id)
        if run.status not in ("running", "paused"):
            raise refusal(run, "change live parameters")
        ack_id = next(self.core.ack_ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        run.acks[ack_id] = future
        self.core.send(run, {"op": "set", "id": ack_id, "changes": changes})
        try:
            reply = await asyncio.wait_for(future, ACK_TIMEOUT)
        except TimeoutError:
            raise Unavailable("the worker did not confirm the change in time") from None
        finally:
            run.acks.pop(ack_id, None)
        if not reply.get("ok"):
            field = next(iter(changes)) if len(changes) == 1 else "body"
            raise Invalid([{"field": field, "message": str(reply.get("error"))}])
        return {"id": run.id, "status": run.status, "applied": reply.get("applied", {})}

    async def delete(self, run_id: str) -> None:
        run = await self.core.lookup(run_id)
        if await self.core.router.delete(run, run_id):
            return
        if run is None or run.deleted:
            if (
                run is None
                and await self.core.store.call(self.core.store.get_run, run_id) is not None
            ):
                self.core.tombstone(run_id)
                self.core.store.submit(self.core.store.delete_run, run_id)
                return
            raise NotFound(f"no run {run_id!r}")
        if run.observed and run.status == "queued":
            raise Conflict("cannot delete: the run waits in another web server's queue")
        run.deleted = True
        self.core.tombstone(run.id)
        if run.status == "queued":
            self.core.end(run, "stopped", "deleted before it started")
        elif run.active:
            self.core.send(run, {"op": "stop", "reason": "deleted"})
        else:
            self.core.forget(run.id)
            with contextlib.suppress(ValueError):
                self.core.finished.remove(run.id)
            self.core.store.submit(self.core.store.delete_run, run.id)
