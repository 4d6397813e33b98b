"""Structured logs: one JSON object per line (PLAYGROUND_LOG_FORMAT=json, as in the image).

Fields: ts, level, logger, msg, plus whatever a call passes in `extra` (the run service
logs `run_id`, `status`, `reason`, `step`). uvicorn's own loggers (server and access log)
get the same formatter, so a log shipper sees one format.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_extras(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """uvicorn-like text with the `extra` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{record.levelname}:{' ' * max(1, 9 - len(record.levelname))}{record.getMessage()}"
        return f"{line} {extras}".rstrip()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure(log_format: str) -> None:
    """Give the app's logger one stderr handler (idempotent); JSON also for uvicorn's."""
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    app_log = logging.getLogger("app")
    app_log.setLevel(logging.INFO)
    ours = [h for h in app_log.handlers if getattr(h, "_playground", False)]
    if not ours:
        stderr = _Stderr()
        stderr._playground = True  # type: ignore[attr-defined]
        app_log.addHandler(stderr)
        ours = [stderr]
    handlers = ours + [h for n in UVICORN for h in logging.getLogger(n).handlers]
    for handler in handlers if log_format == "json" else ours:
        handler.setFormatter(formatter)
