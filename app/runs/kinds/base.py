"""What every job kind's loop relies on, whatever executor carries it.

A loop talks to its executor through a `JobChannel`: control messages in (`poll`), framed
events out (`send`): pipes to the web process (app.runs.execution.pipes) or a run's Redis
streams (app.runs.execution.queue.channel). Imports nothing of the project.
"""

from __future__ import annotations

from typing import Any, Protocol

POLL_INTERVAL = 0.005  # seconds between control checks while training (~1-2 us each)


class ParentGone(Exception):
    """The web process closed our control pipe: nobody is listening any more."""


class JobChannel(Protocol):
    def poll(self, timeout: float | None) -> list[dict[str, Any]]: ...
    def send(self, meta: dict[str, Any], data: bytes = b"") -> None: ...
