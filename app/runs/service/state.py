"""A run as the manager tracks it in memory, and the JSON views the API returns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.runs.errors import Conflict
from app.runs.events.stream import ACTIVE, TERMINAL, Event, RunLog
from app.settings import Settings


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(eq=False)
class RunState:
    id: str
    client: str
    spec: dict[str, Any]
    created_at: float
    total_steps: int
    log: RunLog
    status: str = "queued"
    reason: str | None = None
    summary: dict[str, Any] | None = None
    started_at: float | None = None
    finished_at: float | None = None
    step: int = 0
    epoch: float = 0.0
    start_paused: bool = False
    deleted: bool = False  # hidden at once; removed from the store when it has ended
    position: int | None = None
    checkpointed_seq: int = 0
    acks: dict[int, Any] = field(default_factory=dict)
    observed: bool = False  # another web server owns (persists) it; see app.runs.service.adoption

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def row(self) -> dict[str, Any]:
        """The columns of the store's runs table."""
        return {
            "id": self.id,
            "client": self.client,
            "status": self.status,
            "reason": self.reason,
            "spec": self.spec,
            "summary": self.summary,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "total_steps": self.total_steps,
            "step": self.step,
            "last_seq": self.log.last_seq,
        }

    def view(self) -> dict[str, Any]:
        return view_of_row(self.row(), self.position)


def view_of_row(row: dict[str, Any], position: int | None = None) -> dict[str, Any]:
    """What GET /api/runs/{id} answers (the list items are the same objects)."""
    return {
        "id": row["id"],
        "status": row["status"],
        "reason": row["reason"],
        "queue_position": position if row["status"] == "queued" else None,
        "spec": row["spec"],
        "summary": row["summary"],
        "created_at": iso(row["created_at"]),
        "started_at": iso(row["started_at"]),
        "finished_at": iso(row["finished_at"]),
        "step": row["step"],
        "total_steps": row["total_steps"],
        "last_seq": row["last_seq"],
    }


def job_for(run: RunState, settings: Settings) -> dict[str, Any]:
    """What an executor needs to train a run; it numbers events from `seq` on."""
    return {
        "run_id": run.id,
        "spec": run.spec,
        "seq": run.log.last_seq + 1,
        "paused": run.start_paused,
        "limits": settings.limits().as_dict(),
        "options": {
            "frame_rate": settings.frame_rate,
            "frame_rate_max": settings.frame_rate_max,
            "snapshot_rate": settings.snapshot_rate,
            "snapshot_idle_rate": settings.snapshot_idle_rate,
            "diagnostics_rate": settings.diagnostics_rate,
            "max_seconds": settings.max_run_seconds,
            "max_paused_seconds": settings.max_paused_seconds,
            "trajectory_points": settings.landscape_max_trajectory,
            "trajectory_bytes": settings.landscape_trajectory_bytes,
        },
    }


def ended_summary(run: RunState, status: str, reason: str) -> dict[str, Any]:
    """The summary of a run ended by the service rather than by its engine."""
    return {
        "status": status,
        "reason": reason,
        "step": run.step,
        "epoch": run.epoch,
        "best_epoch": None,
        "final": None,
        "seconds": None,
    }


def refusal(run: RunState, action: str) -> Conflict:
    if run.terminal:
        return Conflict(f"cannot {action}: the run has {run.status}")
    if run.status == "queued":
        return Conflict(f"cannot {action}: the run is queued and has not started")
    return Conflict(f"cannot {action}: the run is {run.status}")


def brief(view: dict[str, Any]) -> dict[str, Any]:
    """A list item: custom data points (up to thousands of rows) stay out of lists."""
    data = view["spec"].get("data") or {}
    if data.get("points") is not None:
        spec = {**view["spec"], "data": {**data, "points": None}}
        return {**view, "spec": spec, "spec_truncated": True}
    return view


def status_history(events: list[Event]) -> list[dict[str, Any]]:
    """[{seq, status, reason, at}] from status events (position updates collapsed)."""
    out: list[dict[str, Any]] = []
    for event in events:
        body = json.loads(event.data)
        if out and out[-1]["status"] == body["status"]:
            continue
        out.append(
            {
                "seq": event.seq,
                "status": body["status"],
                "reason": body.get("reason"),
                "at": iso(body.get("at")),
            }
        )
    return out
