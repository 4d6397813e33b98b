"""Shape-preserving decimation of a run's metric frames.

A run may produce tens of thousands of frames; memory and the database keep at most
about `capacity` of them. Regular frames are kept at a power-of-two stride that doubles
whenever the list overflows, so the kept points stay evenly spaced over the whole run;
the first frame, the latest frame and the frames with the lowest training loss and the
lowest validation loss are always kept, so a curve is never silently truncated and its
extremes survive.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

T = TypeVar("T")


class History(Generic[T]):
    def __init__(self, capacity: int) -> None:
        self.capacity = max(8, capacity)
        self.stride = 1
        self.count = 0  # frames offered so far
        self._regular: list[tuple[int, int, T]] = []  # (ordinal, seq, item)
        self._last: tuple[int, T] | None = None
        self._best: dict[str, tuple[float, int, T]] = {}  # key -> (value, seq, item)

    def add(self, seq: int, item: T, scores: dict[str, float | None] | None = None) -> None:
        """Offer a frame; `scores` like {"loss": 0.3, "val_loss": 0.4} (lower is better)."""
        ordinal = self.count
        self.count += 1
        self._last = (seq, item)
        for key, value in (scores or {}).items():
            if value is None or not math.isfinite(value):
                continue
            best = self._best.get(key)
            if best is None or value < best[0]:
                self._best[key] = (value, seq, item)
        if ordinal % self.stride:
            return
        self._regular.append((ordinal, seq, item))
        if len(self._regular) > self.capacity:
            self.stride *= 2
            self._regular = [r for r in self._regular if r[0] % self.stride == 0]

    def points(self) -> list[tuple[int, T]]:
        """(seq, item) in seq order, without duplicates."""
        kept = {seq: item for _, seq, item in self._regular}
        for _, seq, item in self._best.values():
            kept[seq] = item
        if self._last is not None:
            kept[self._last[0]] = self._last[1]
        return sorted(kept.items(), key=lambda kv: kv[0])

    def __len__(self) -> int:
        return len(self.points())
