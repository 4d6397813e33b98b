"""Shape-preserving decimation: bounded, evenly spaced, never losing first/last/minima."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from app.runs.events.history import History


def test_small_history_is_kept_whole() -> None:
    h: History[int] = History(100)
    for i in range(50):
        h.add(i + 1, i, {"loss": 1.0 / (i + 1)})
    assert [seq for seq, _ in h.points()] == list(range(1, 51))


def test_long_history_is_bounded_evenly_spaced_and_keeps_extremes() -> None:
    h: History[int] = History(64)
    n = 10_000
    losses = [math.cos(i / 300) + 2 for i in range(n)]
    losses[7_777] = -5.0  # a sharp dip between regular points must survive
    for i, loss in enumerate(losses):
        h.add(i + 1, i, {"loss": loss, "val": None})
    pts = [item for _, item in h.points()]
    assert len(pts) <= 64 + 3
    assert len(pts) >= 32  # decimation halves at most once past capacity
    assert pts[0] == 0 and pts[-1] == n - 1 and 7_777 in pts
    regular = [p for p in pts if p not in (7_777, n - 1)]
    gaps = {b - a for a, b in itertools.pairwise(regular)}
    assert len(gaps) == 1  # one stride: evenly spaced over the whole run


def test_validation_minimum_is_kept_and_non_finite_ignored() -> None:
    h: History[int] = History(8)
    for i in range(1000):
        h.add(i + 1, i, {"loss": float("nan") if i == 3 else 1.0, "val": 5.0 - (i == 501)})
    pts = [item for _, item in h.points()]
    assert 501 in pts and 3 not in pts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3000), st.integers(8, 200))
def test_points_are_sorted_unique_and_bounded(losses: list[float], capacity: int) -> None:
    h: History[int] = History(capacity)
    for i, loss in enumerate(losses):
        h.add(i + 1, i, {"loss": loss})
    seqs = [seq for seq, _ in h.points()]
    assert seqs == sorted(set(seqs))
    assert len(seqs) <= capacity + 2
    assert seqs[0] == 1 and seqs[-1] == len(losses)
    best = min(range(len(losses)), key=lambda i: (losses[i], i))
    assert any(losses[s - 1] == losses[best] for s in seqs)
