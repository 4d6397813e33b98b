"""Length-prefixed frames over pipes between the web process and workers.

A frame is (meta, data): `meta` is a small JSON object the receiver parses (kind, seq,
status...), `data` is opaque bytes (an event's finished JSON) that the web process
forwards to clients without decoding it again. Framing is ours, not pickle, so the
reading side can decode incrementally on a non-blocking pipe and never stall the loop.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

_HEAD = struct.Struct("!II")  # len(meta), len(data)
MAX_FRAME = 64 * 1024 * 1024  # a corrupt header must not make us allocate gigabytes


class WireError(Exception):
    """The byte stream is not a sequence of frames (a bug or a dying peer)."""


def encode(meta: dict[str, Any], data: bytes = b"") -> bytes:
    head = json.dumps(meta, separators=(",", ":")).encode()
    return _HEAD.pack(len(head), len(data)) + head + data


def write_all(fd: int, payload: bytes) -> None:
    """Blocking write of a whole frame (worker side)."""
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Decoder:
    """Feed it chunks as they arrive; it returns the complete frames."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[tuple[dict[str, Any], bytes]]:
        self._buf += chunk
        out: list[tuple[dict[str, Any], bytes]] = []
        while len(self._buf) >= _HEAD.size:
            n_meta, n_data = _HEAD.unpack_from(self._buf)
            if n_meta + n_data > MAX_FRAME:
                raise WireError(f"frame of {n_meta + n_data} bytes")
            end = _HEAD.size + n_meta + n_data
            if len(self._buf) < end:
                break
            meta = json.loads(bytes(self._buf[_HEAD.size : _HEAD.size + n_meta]))
            out.append((meta, bytes(self._buf[_HEAD.size + n_meta : end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)
