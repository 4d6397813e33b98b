"""A worker's two pipes to the web process: framed control messages in, framed events out."""

from __future__ import annotations

import os
import select
from collections import deque
from typing import Any

from app.runs.execution import wire
from app.runs.kinds.base import ParentGone


class Channel:
    """Both pipes of a worker: framed control messages in, framed events out."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.decoder = wire.Decoder()
        self.inbox: deque[dict[str, Any]] = deque()

    def poll(self, timeout: float | None) -> list[dict[str, Any]]:
        if not self.inbox:
            ready, _, _ = select.select([self.rfd], [], [], timeout)
            if ready:
                chunk = os.read(self.rfd, 1 << 16)
                if not chunk:
                    raise ParentGone
                self.inbox.extend(meta for meta, _ in self.decoder.feed(chunk))
        out = list(self.inbox)
        self.inbox.clear()
        return out

    def send(self, meta: dict[str, Any], data: bytes = b"") -> None:
        wire.write_all(self.wfd, wire.encode(meta, data))
