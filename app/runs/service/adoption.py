"""Runs that another web server started, when several share one job queue.

A run belongs to the web server that created it: that one persists it. Another server
asked about a live run it does not hold in memory `observe`s it: it loads the run's row
and stored events from the shared database, marks it `observed` (it never writes it to
the store) and asks the executor to stream the run's events (from the queue's Redis
stream) into its own event log. From then on reads, replays, WebSockets and controls
(sent to the worker through the queue) work there as on the owner. Events the owner's
manager makes itself (a stop before the start, a shutdown) reach observers through the
store, which the executor rereads while the run is not on the queue.
"""

from __future__ import annotations

from typing import Any, Protocol

from app.runs.events.stream import ACTIVE, Event, EventBus, make_event, status_fields
from app.runs.execution.base import Executor, SharedExecutor
from app.runs.service.state import RunState, ended_summary
from app.runs.store.runs import Store


class RunTable(Protocol):
    """What adoption needs of the run manager (which passes itself)."""

    executor: Executor
    store: Store
    bus: EventBus
    runs: dict[str, RunState]
    assigned: set[str]

    def on_event(self, run_id: str, meta: dict[str, Any], data: bytes) -> None: ...


def meta_of(event: Event) -> dict[str, Any]:
    """The facts the manager keeps from an event, rebuilt from its stored JSON."""
    body = event.payload()
    meta: dict[str, Any] = {"seq": event.seq, "type": event.type}
    if event.type == "status":
        meta.update({k: body.get(k) for k in ("status", "reason", "summary", "position")})
    elif event.type == "metrics":
        val = ((body.get("eval") or {}).get("val") or {}).get("loss")
        meta.update(step=body.get("step"), epoch=body.get("epoch"), val_loss=val)
        meta["loss"] = body.get("loss_mean")
    elif "step" in body:
        meta["step"] = body["step"]
    return meta


async def adopt(manager: RunTable, run_id: str) -> RunState | None:
    """The live run `run_id` from the shared store, now followed here; None if it is
    unknown, has ended, or the executor is not shared."""
    executor = manager.executor
    if not isinstance(executor, SharedExecutor):
        return None
    row = await manager.store.call(manager.store.get_run, run_id)
    if row is None or row["status"] not in ACTIVE:
        return None
    stored = await manager.store.call(manager.store.get_events, run_id, 0)
    known = manager.runs.get(run_id)  # adopted (or created) while we read
    if known is not None:
        return known
    run = RunState(
        row["id"],
        row["client"],
        row["spec"],
        row["created_at"],
        row["total_steps"],
        manager.bus.open(run_id),
        status=row["status"],
        reason=row["reason"],
        started_at=row["started_at"],
        step=row["step"],
    )
    run.observed = True
    for event in stored:
        run.log.append(Event(event.seq, event.type, event.data, meta_of(event)))
    run.checkpointed_seq = run.log.last_seq
    manager.runs[run_id] = run

    async def resync() -> None:
        await catch_up(manager, run)

    if not executor.observe(run_id, run.log.last_seq, resync):
        del manager.runs[run_id]
        return None
    return run


async def take_over(manager: RunTable, take: list[str], gone: list[str]) -> list[str]:
    """Runs whose web server died. Those still on the queue become ours: we persist them
    from now on (their stored curve is kept; the end rewrites it exactly). The others
    (waiting in its own queue, or ended with nobody storing the end) are interrupted."""
    taken = []
    for run_id in take:
        run = manager.runs.get(run_id) or await adopt(manager, run_id)
        if run is not None and run.observed and not run.terminal:
            row = await manager.store.call(manager.store.get_run, run_id) or {}
            run.checkpointed_seq = max(run.checkpointed_seq, row.get("last_seq") or 0)
            run.observed = False
            manager.assigned.add(run_id)
            taken.append(run_id)
    if gone:
        await manager.store.call(manager.store.interrupt_unfinished, (), gone)
    return taken


async def catch_up(manager: RunTable, run: RunState) -> None:
    """Deliver what the owner stored after our last event (its own status changes)."""
    if run.terminal or manager.runs.get(run.id) is not run:
        return
    for event in await manager.store.call(manager.store.get_events, run.id, run.log.last_seq):
        manager.on_event(run.id, meta_of(event), event.data)
    if not run.terminal:
        row = await manager.store.call(manager.store.get_run, run.id)
        if row is None:  # deleted by its owner
            manager.on_event(run.id, *_ended(run, "stopped", "deleted"))


def _ended(run: RunState, status: str, reason: str) -> tuple[dict[str, Any], bytes]:
    fields = status_fields(status, reason, None, ended_summary(run, status, reason))
    event = make_event(run.id, run.log.last_seq + 1, "status", fields)
    return event.meta, event.data
