"""Play until paused at a watchable pace: the run loop holds training to the run's pace
(epochs a second), answers control messages while it waits, and takes a new pace live."""

from __future__ import annotations

import time
from typing import Any

from app.nn.spec.base import Limits
from app.runs.kinds.run.loop import Pace, RunLoop
from tests.runs.kinds.test_run_loop import SMALL, ScriptedChannel, job


class SleepingChannel(ScriptedChannel):
    """A scripted channel whose waits take real time, as a worker's pipe does."""

    def poll(self, timeout: float | None) -> list[dict[str, Any]]:
        if timeout and not self.script:
            time.sleep(timeout)
        return super().poll(timeout)


def test_the_pace_schedules_steps_and_forgives_falling_behind() -> None:
    pace = Pace(10.0, steps_per_epoch=5)  # 50 steps a second
    start = pace.origin_time
    assert abs(pace.wait(5, start) - 0.1) < 1e-9  # step 5 is due 0.1 s after the origin
    assert pace.wait(5, start + 0.1) == 0.0
    assert pace.wait(10, start + 0.5) == 0.0  # 0.3 s behind: restart, no sprint
    assert pace.origin_epoch == 2 and abs(pace.wait(11, pace.origin_time) - 0.02) < 1e-9
    assert Pace(0.0, 5).wait(10**6, start) == 0.0  # unpaced


def test_a_paced_run_takes_at_least_its_epochs_over_its_pace() -> None:
    spec = {**SMALL, "stream": {"pace": 40.0}}  # 20 epochs at 40 a second: >= 0.5 s
    chan = SleepingChannel([])
    began = time.monotonic()
    RunLoop(job(spec), chan).run()  # type: ignore[arg-type]
    took = time.monotonic() - began
    events = chan.events()
    assert events[-1]["status"] == "finished" and events[-1]["summary"]["step"] == 100
    assert took >= 0.5 - Pace.SLACK, took


def test_a_new_pace_applies_live_and_is_acknowledged() -> None:
    set_pace = {"op": "set", "id": 3, "run_id": "r1", "changes": {"pace": 0}}
    chan = ScriptedChannel([[set_pace]])
    spec = {**SMALL, "stream": {"pace": 0.001}}  # would take hours; the first wait gets 0
    RunLoop(job(spec), chan).run()  # type: ignore[arg-type]
    acks = [meta for meta, _ in chan.sent if meta["kind"] == "ack"]
    assert acks == [{"kind": "ack", "run_id": "r1", "id": 3, "ok": True, "applied": {"pace": 0.0}}]
    assert chan.events()[-1]["status"] == "finished"
    assert next(e for e in chan.events() if e["type"] == "hparams")["changes"] == {"pace": 0.0}


def test_a_run_until_paused_trains_to_the_cap_unless_stopped() -> None:
    limits = Limits(max_epochs=50, max_steps=200)  # the cap: 200 steps = 40 epochs of 5
    spec = {"data": {"samples": 100}, "train": {"until_paused": True}}
    chan = ScriptedChannel([])
    RunLoop({**job(spec), "limits": limits.as_dict()}, chan).run()  # type: ignore[arg-type]
    events = chan.events()
    assert events[1]["total_steps"] == 200
    assert events[-1]["status"] == "finished" and events[-1]["summary"]["step"] == 200
    stop = {"op": "stop", "run_id": "r1"}
    chan = ScriptedChannel([[], [], [stop]])
    paced = {**spec, "stream": {"pace": 10.0}}  # 20 ms a step: waits, in which the stop arrives
    RunLoop({**job(paced), "limits": limits.as_dict()}, chan).run()  # type: ignore[arg-type]
    end = chan.events()[-1]
    assert end["status"] == "stopped" and 0 < end["summary"]["step"] < 200


def test_a_paced_comparison_holds_its_members_to_the_pace_and_stops_at_once() -> None:
    from app.runs.kinds.table import loop_for
    from tests.runs.kinds.test_comparison_loop import BASE, MEMBERS
    from tests.runs.kinds.test_comparison_loop import job as comparison_job

    base = {**BASE, "stream": {"pace": 20.0}}  # 10 epochs at 20 a second: >= 0.5 s
    chan = SleepingChannel([])
    began = time.monotonic()
    loop_for(comparison_job({"base": base, "members": MEMBERS}), chan).run()
    took = time.monotonic() - began
    events = chan.events()
    assert events[-1]["status"] == "finished", events[-1]
    assert took >= 0.5 - Pace.SLACK, took
    # The stream keeps going while the members wait: frames all along the way.
    epochs = sorted({e["epoch"] for e in events if e["type"] == "metrics" and e["member"] == 0})
    assert len(epochs) >= 5 and epochs[-1] == 10
    stop = {"op": "stop", "run_id": "c1"}
    slow = {**BASE, "stream": {"pace": 0.5}}  # 20 s: the stop comes in the first wait
    chan = SleepingChannel([[], [stop]])
    began = time.monotonic()
    loop_for(comparison_job({"base": slow, "members": MEMBERS}), chan).run()
    assert time.monotonic() - began < 5
    assert chan.events()[-1]["status"] == "stopped"


def test_a_member_that_ended_no_longer_sets_the_comparisons_pace() -> None:
    """The pace follows the training member furthest ahead: an ended member's last epoch
    would freeze the schedule, and the others would then train as fast as the engine goes."""
    from app.runs.events.frames import FrameBuilder
    from app.runs.kinds.table import loop_for
    from tests.runs.kinds.test_comparison_loop import BASE, MEMBERS
    from tests.runs.kinds.test_comparison_loop import job as comparison_job

    loop = loop_for(comparison_job({"base": BASE, "members": MEMBERS}), ScriptedChannel([]))
    loop.builders = [FrameBuilder(1e9, 1e9) for _ in MEMBERS]  # type: ignore[attr-defined]
    loop.last_epoch = {0: 10.0, 1: 2.5, 2: 3.0}  # type: ignore[attr-defined]
    assert loop.furthest_epoch() == 10.0  # type: ignore[attr-defined]
    loop.finished_members = {0}  # type: ignore[attr-defined]
    assert loop.furthest_epoch() == 3.0  # type: ignore[attr-defined]
