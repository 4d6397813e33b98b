"""The run log: replay after any seq without gaps or duplicates, bounded memory."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.runs.events.stream import RunLog, make_event, status_fields, to_json
from app.runs.execution import wire


def metrics(seq: int, loss: float = 1.0) -> object:
    ev = make_event("r", seq, "metrics", {"step": seq, "loss": loss})
    ev.meta["loss"] = loss
    return ev


def fill(log: RunLog, n: int, snapshot_every: int = 0) -> list[int]:
    """status, start, then metrics (and snapshots); returns the seqs appended."""
    log.append(make_event("r", 1, "status", status_fields("running")))
    log.append(make_event("r", 2, "start", {"task": "binary"}))
    for seq in range(3, n + 1):
        if snapshot_every and seq % snapshot_every == 0:
            log.append(make_event("r", seq, "snapshot", {"step": seq}))
        else:
            log.append(metrics(seq, 1.0 / seq))  # type: ignore[arg-type]
    return list(range(1, n + 1))


def test_replay_without_eviction_is_exact_except_superseded_snapshots() -> None:
    log = RunLog("r", buffer_size=1000, history_points=100)
    fill(log, 300, snapshot_every=10)
    for after in (0, 1, 2, 57, 299):
        got = [e.seq for e in log.after(after)]
        want = [s for s in range(after + 1, 301) if s % 10 or s == 300]
        assert got == want
    assert log.after(300) == []


def test_replay_past_the_buffer_uses_the_decimated_history() -> None:
    log = RunLog("r", buffer_size=50, history_points=40)
    fill(log, 5000)
    events = log.after(0)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert seqs[:3] == [1, 2, 3]  # pinned status + start, then the first frame
    assert seqs[-50:] == list(range(4951, 5001))  # the exact tail
    assert len(events) <= 2 + 50 + 40 + 3  # bounded however long the run
    # A client in the middle of the buffer gets exactly the rest.
    assert [e.seq for e in log.after(4980)] == list(range(4981, 5001))


def test_terminal_status_ends_the_log_and_later_events_are_ignored() -> None:
    log = RunLog("r", 100, 100)
    fill(log, 10)
    summary = {"status": "finished"}
    assert log.append(make_event("r", 11, "status", status_fields("finished", "ok", None, summary)))
    assert log.done
    assert not log.append(metrics(12))  # type: ignore[arg-type]
    assert not log.append(metrics(5))  # type: ignore[arg-type]
    assert log.last_seq == 11
    persisted = [e.type for e in log.persistable()]
    assert persisted[0] == "status" and persisted[-1] == "status" and "start" in persisted


def test_waiters_wake_on_new_events() -> None:
    async def scenario() -> tuple[bool, bool]:
        log = RunLog("r", 100, 100)
        fill(log, 3)
        idle = await log.wait(3, 0.05)
        asyncio.get_running_loop().call_later(0.01, log.append, metrics(4))
        woke = await log.wait(3, 5.0)
        return idle, woke

    assert asyncio.run(scenario()) == (False, True)


def test_to_json_turns_non_finite_numbers_into_null() -> None:
    out = json.loads(to_json({"loss": float("nan"), "w": [1.0, float("inf")]}))
    assert out == {"loss": None, "w": [1.0, None]}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=20)),
            st.binary(max_size=300),
        ),
        max_size=20,
    ),
    st.integers(1, 50),
)
def test_wire_frames_survive_any_chunking(frames: list, chunk: int) -> None:  # type: ignore[type-arg]
    stream = b"".join(wire.encode(meta, data) for meta, data in frames)
    decoder = wire.Decoder()
    out = []
    for i in range(0, len(stream), chunk):
        out += decoder.feed(stream[i : i + chunk])
    assert out == frames and decoder.pending == 0
