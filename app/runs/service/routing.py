"""How the run manager hands runs that belong to a job (a comparison, a race) to the jobs.

The manager keeps every run and job in one table and one queue; where a job's behaviour
differs from a plain run's (its events fan out to member runs, a member is controlled
through its comparison, comparisons have their own tables), it asks its `JobRouter`.
`NoJobs` is the router of a manager without job kinds; app.runs.service.jobs.Jobs is the
real one.
"""

from __future__ import annotations

from typing import Any, Protocol

from app.runs.service.state import RunState


class JobRouter(Protocol):
    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> bool:
        """Handle an executor event of a job; False: not a job's, the manager's own."""
        ...

    def ack_target(self, run_id: str, meta: dict[str, Any]) -> str:
        """The run awaiting this acknowledgement (a member's, for a comparison's ack)."""
        ...

    def checkpoint(self, run: RunState) -> bool:
        """Persist a job's progress; False: a plain run, the manager checkpoints it."""
        ...

    def forget(self, run_id: str) -> None: ...

    def route(self, run: RunState, message: dict[str, Any]) -> tuple[RunState, dict[str, Any]]:
        """Where a control message for `run` goes (a member's goes to its comparison)."""
        ...

    def complete_job(self, job: dict[str, Any]) -> dict[str, Any]:
        """The executor job for a queued run or job, with its kind and options."""
        ...

    def member_link(self, run_id: str) -> tuple[str, int] | None:
        """(comparison id, member index) of a member run, else None."""
        ...

    def check_stop(self, run: RunState) -> None:
        """Raise Conflict when this run may not be stopped on its own."""
        ...

    async def delete(self, run: RunState | None, run_id: str) -> bool:
        """Delete a job's run (or refuse); False: a plain run, the manager deletes it."""
        ...


class NoJobs:
    """The router of a manager that runs plain runs only."""

    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> bool:
        return False

    def ack_target(self, run_id: str, meta: dict[str, Any]) -> str:
        return run_id

    def checkpoint(self, run: RunState) -> bool:
        return False

    def forget(self, run_id: str) -> None:
        return None

    def route(self, run: RunState, message: dict[str, Any]) -> tuple[RunState, dict[str, Any]]:
        return run, message

    def complete_job(self, job: dict[str, Any]) -> dict[str, Any]:
        return job

    def member_link(self, run_id: str) -> tuple[str, int] | None:
        return None

    def check_stop(self, run: RunState) -> None:
        return None

    async def delete(self, run: RunState | None, run_id: str) -> bool:
        return False
