"""Choose the executor the settings ask for: the local worker pool or the job queue."""

from __future__ import annotations

from app.runs.execution.base import Executor
from app.runs.execution.local import LocalExecutor
from app.settings import Settings


def make_executor(settings: Settings) -> Executor:
    if settings.executor == "local":
        return LocalExecutor(settings)
    if settings.executor == "queue":  # workers anywhere, through Redis (app.runs.execution.queue)
        try:
            from app.runs.execution.queue.executor import QueueExecutor
        except ImportError as exc:
            raise ValueError(
                f"PLAYGROUND_EXECUTOR=queue needs the queue extra "
                f"(pip install -e '.[queue]'): {exc}"
            ) from None
        return QueueExecutor(settings)
    raise ValueError(f"PLAYGROUND_EXECUTOR={settings.executor!r}: use 'local' or 'queue'")
