"""What the run service can refuse; the web layer maps each to an HTTP status."""

from __future__ import annotations


class RunError(Exception):
    """Base class; `detail` is what a client is shown."""

    def __init__(self, detail: object) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(RunError):
    """No such run (404)."""


class Conflict(RunError):
    """The run's state does not allow this (409), e.g. resuming a finished run."""


class Busy(RunError):
    """A limit was reached: queue full, too many runs for this client (429)."""


class Invalid(RunError):
    """Bad input (422); `detail` is a list of {"field", "message"}."""


class Unavailable(RunError):
    """The worker did not answer in time (503)."""


class Forbidden(RunError):
    """The run belongs to another visitor: watch it, but do not control it (403)."""
