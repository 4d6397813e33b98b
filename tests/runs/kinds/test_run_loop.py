"""The worker's run loop, in-process with a scripted channel (no processes involved)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from app.nn.measure.pictures import decode
from app.nn.spec.base import Limits
from app.runs.events.frames import FrameBuilder, compact
from app.runs.kinds.run.loop import RunLoop

SMALL = {"data": {"samples": 100}, "train": {"epochs": 20}}  # 5 steps/epoch, 100 steps


class ScriptedChannel:
    """Hands out scripted control messages, one batch each time the loop waits (paused),
    as if a user acted while the run was paused; records everything sent."""

    def __init__(self, script: list[list[dict[str, Any]]]) -> None:
        self.script = deque(script)
        self.sent: list[tuple[dict[str, Any], bytes]] = []

    def poll(self, timeout: float | None) -> list[dict[str, Any]]:
        if timeout == 0 or not self.script:
            return []
        return self.script.popleft()

    def send(self, meta: dict[str, Any], data: bytes = b"") -> None:
        self.sent.append((meta, data))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(data) for meta, data in self.sent if meta["kind"] == "event"]


def job(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "run_id": "r1",
        "seq": 7,
        "spec": spec,
        "limits": Limits().as_dict(),
        "options": {
            "frame_rate": 1000.0,
            "snapshot_rate": 1.0,
            "max_seconds": 60.0,
            "max_paused_seconds": 60.0,
        },
        **extra,
    }


def test_a_run_streams_contiguous_events_that_account_for_every_step() -> None:
    chan = ScriptedChannel([])
    RunLoop(job(SMALL), chan).run()  # type: ignore[arg-type]
    events = chan.events()
    assert [e["seq"] for e in events] == list(range(7, 7 + len(events)))
    assert events[0]["type"] == "status" and events[0]["status"] == "running"
    assert events[1]["type"] == "start" and events[1]["total_steps"] == 100
    assert events[1]["engine"]["path"] == "fused"  # the start record's field reaches the stream
    frames = [e for e in events if e["type"] == "metrics"]
    assert sum(f["steps"] for f in frames) == 100  # every optimizer step is in some frame
    assert frames[0]["step"] == 0 and "eval" in frames[0]  # the initial evaluation
    assert frames[-1]["step"] == 100
    last = events[-1]
    assert last["type"] == "status" and last["status"] == "finished"
    assert last["summary"]["step"] == 100 and 0 <= last["summary"]["final"]["train_acc"] <= 1
    assert events[-2]["type"] == "snapshot"  # the final picture precedes the end
    assert len(decode(events[-2])["grid"]["values"]) == 64 * 64  # the spec's grid size


def test_paused_start_step_then_stop_is_obeyed_between_steps() -> None:
    script = [[{"op": "step", "n": 3, "run_id": "r1"}], [], [{"op": "stop", "run_id": "r1"}]]
    chan = ScriptedChannel(script)
    RunLoop(job(SMALL, paused=True), chan).run()  # type: ignore[arg-type]
    events = chan.events()
    assert events[0]["status"] == "paused"
    steps = [e["step"] for e in events if e["type"] == "metrics"]
    assert steps[-1] == 3 and max(steps) == 3
    assert events[-1]["status"] == "stopped" and events[-1]["summary"]["step"] == 3


def test_live_hparams_are_acknowledged_or_refused() -> None:
    script = [
        [{"op": "set", "id": 1, "changes": {"lr": 0.5}, "run_id": "r1"}],
        [{"op": "set", "id": 2, "changes": {"beta1": 0.5}, "run_id": "r1"}],
        [{"op": "step", "n": 1, "run_id": "r1"}],
        [{"op": "stop", "run_id": "r1"}],
    ]
    chan = ScriptedChannel(script)
    RunLoop(job(SMALL, paused=True), chan).run()  # type: ignore[arg-type]
    acks = {m["id"]: m for m, _ in chan.sent if m["kind"] == "ack"}
    assert acks[1]["ok"] and acks[1]["applied"] == {"lr": 0.5}
    assert not acks[2]["ok"] and "beta1" in acks[2]["error"]
    frame = next(e for e in chan.events() if e["type"] == "metrics" and e["step"] == 1)
    assert frame["lr"] == 0.5


def test_an_engine_error_fails_the_run_not_the_worker() -> None:
    chan = ScriptedChannel([])
    RunLoop(job({"model": {"layers": "nope"}}), chan).run()  # type: ignore[arg-type]
    (only,) = chan.events()
    assert only["status"] == "failed" and "training error" in only["reason"]


def test_frames_are_decimated_by_time() -> None:
    fb = FrameBuilder(frame_rate=10, snapshot_rate=2)
    rec = {"kind": "step", "step": 1, "epoch": 0.1, "loss": 2.0, "lr": 0.1}
    emitted = 0
    for i in range(1000):  # 1000 steps over 1 simulated second
        now = i / 1000
        fb.add({**rec, "step": i + 1, "loss": float(i)})
        if fb.frame_due(now):
            frame = fb.take(now)
            assert frame is not None
            emitted += frame["steps"] > 0
    assert 9 <= emitted <= 11
    last = fb.take(1.0)
    assert last is not None and last["step"] == 1000
    assert last["loss_mean"] == sum(range(last["step"] - last["steps"], 1000)) / last["steps"]


def frames_in_a_second(fb: FrameBuilder) -> int:
    emitted = 0
    for i in range(1000):  # 1000 steps over 1 simulated second
        fb.add({"kind": "step", "step": i + 1, "epoch": i / 10, "loss": 1.0, "lr": 0.1})
        if fb.frame_due(i / 1000) and fb.take(i / 1000):
            emitted += 1
    return emitted


def test_frames_follow_the_viewers_picture_rate_up_to_the_cap() -> None:
    assert 29 <= frames_in_a_second(FrameBuilder(30, 60, max_rate=60)) <= 31  # nobody asked
    fb = FrameBuilder(30, 60, max_rate=60)
    fb.follow(1 / 60)  # a viewer draws a picture every displayed frame
    assert 58 <= frames_in_a_second(fb) <= 61
    fb = FrameBuilder(30, 60, max_rate=60)
    fb.follow(1 / 1000)  # never beyond the cap
    assert 58 <= frames_in_a_second(fb) <= 61


def test_a_want_sets_the_frame_rate_of_the_run() -> None:
    opts = {"frame_rate": 30.0, "frame_rate_max": 60.0, "snapshot_rate": 60.0}
    loop = RunLoop(job(SMALL, options={**job(SMALL)["options"], **opts}), ScriptedChannel([]))  # type: ignore[arg-type]
    assert loop.frames.frame_interval == 1 / 30
    loop.handle([{"op": "want", "neurons": False, "rate": 60, "run_id": "r1"}])
    assert loop.frames.frame_interval == 1 / 60  # few watched runs: a point every frame
    loop.handle([{"op": "want", "neurons": False, "rate": 30, "run_id": "r1"}])
    assert loop.frames.frame_interval == 1 / 30  # a busy server


def test_compact_rounds_pictures_and_nulls_non_finite() -> None:
    assert compact({"v": [0.123456, float("nan")], "w": [[1.000049]]}) == {
        "v": [0.1235, None],
        "w": [[1.0]],
    }
