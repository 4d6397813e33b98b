"""The comparison and race loops of a worker, in-process with a scripted channel, and the
comparison's event log."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import torch

from app.nn.spec.base import Limits
from app.runs.events.members import as_member_run, member_event
from app.runs.events.stream import Event, make_event, status_fields
from app.runs.kinds.comparison.log import ComparisonLog
from app.runs.kinds.table import loop_for
from tests.runs.kinds.test_run_loop import ScriptedChannel

torch.set_num_threads(1)  # as in a worker: tiny nets only lose from a second thread

BASE = {"data": {"samples": 100, "val_fraction": 0.2}, "train": {"epochs": 10}}  # 50 steps
MEMBERS = [
    {"optimizer": {"name": "sgd", "lr": 0.1}},
    {"optimizer": {"name": "momentum", "lr": 0.1}},
    {"optimizer": {"name": "adam", "lr": 0.01}},
]


def job(spec: dict[str, Any], kind: str = "comparison", **extra: Any) -> dict[str, Any]:
    return {
        "run_id": "c1",
        "kind": kind,
        "seq": 2,
        "spec": spec,
        "limits": Limits().as_dict(),
        "options": {
            "frame_rate": 1000.0,
            "snapshot_rate": 50.0,
            "max_seconds": 60.0,
            "max_paused_seconds": 60.0,
        },
        **extra,
    }


def test_members_stream_tagged_contiguous_events_accounting_for_every_step() -> None:
    chan = ScriptedChannel([])
    loop_for(job({"base": BASE, "members": MEMBERS}), chan).run()
    events = chan.events()
    assert [e["seq"] for e in events] == list(range(2, 2 + len(events)))
    assert events[0] == {**events[0], "type": "status", "status": "running"}
    kinds = Counter((e["type"], e.get("member")) for e in events)
    for m in range(3):
        assert kinds[("start", m)] == 1 and kinds[("end", m)] == 1
        frames = [e for e in events if e["type"] == "metrics" and e["member"] == m]
        assert sum(f["steps"] for f in frames) == 50  # every optimizer step is in a frame
        assert frames[0]["step"] == 0 and "eval" in frames[0]
        assert any(e["type"] == "snapshot" and e["member"] == m for e in events)
    assert "points" in next(e for e in events if e["type"] == "start" and e["member"] == 0)
    last = events[-1]
    assert last["type"] == "status" and last["status"] == "finished"
    assert last["summary"]["mode"] == "batched" and len(last["summary"]["members"]) == 3
    assert sum(r["leader"] for r in last["summary"]["members"]) == 1
    ends = [e for e in events if e["type"] == "end"]
    assert all(e["summary"]["step"] == 50 and e["summary"]["final"] for e in ends)


def test_paused_step_n_moves_every_member_n_steps_then_stop_member_then_all() -> None:
    script = [
        [{"op": "step", "n": 3, "run_id": "c1"}],
        [
            {"op": "stop", "member": 1, "run_id": "c1", "reason": "enough"},
            {"op": "step", "n": 2, "run_id": "c1"},
        ],
        [{"op": "set", "id": 5, "member": 0, "changes": {"lr": 0.5}, "run_id": "c1"}],
        [{"op": "stop", "run_id": "c1"}],
    ]
    chan = ScriptedChannel(script)
    loop_for(job({"base": BASE, "members": MEMBERS}, paused=True), chan).run()
    events = chan.events()
    assert events[0]["status"] == "paused"
    steps = {
        m: [e["step"] for e in events if e["type"] == "metrics" and e["member"] == m]
        for m in range(3)
    }
    assert max(steps[1]) == 3  # stopped after the first "step 3"
    assert max(steps[0]) == max(steps[2]) == 5  # then 2 more for those still training
    ends = {e["member"]: e for e in events if e["type"] == "end"}
    assert ends[1]["status"] == "stopped" and ends[1]["reason"] == "enough"
    assert ends[0]["summary"]["step"] == 5 and ends[0]["reason"] == "stopped by the user"
    acks = [meta for meta, _ in chan.sent if meta["kind"] == "ack"]
    assert acks == [
        {"kind": "ack", "run_id": "c1", "id": 5, "member": 0, "ok": True, "applied": {"lr": 0.5}}
    ]
    assert any(e["type"] == "hparams" and e["member"] == 0 for e in events)
    assert events[-1]["status"] == "stopped"
    rows = events[-1]["summary"]["members"]
    assert [r["reason"] for r in rows] == ["stopped by the user", "enough", "stopped by the user"]


def test_a_member_event_becomes_its_run_event_by_splicing_bytes() -> None:
    fields = {"step": 3, "loss": 0.5, "grad_w": [1.0, 2.0], "eval": None}
    data, tail = member_event("c1", 9, "metrics", 2, fields)
    assert json.loads(data) == {"run_id": "c1", "seq": 9, "type": "metrics", "member": 2, **fields}
    meta = {"kind": "event", "seq": 9, "type": "metrics", "member": 2, "tail": tail, "step": 3}
    copy = as_member_run("r7", 4, meta, data)
    assert json.loads(copy.data) == {"run_id": "r7", "seq": 4, "type": "metrics", **fields}
    assert copy.seq == 4 and copy.meta["step"] == 3 and "member" not in copy.meta
    empty, tail = member_event("c1", 10, "hparams", 0, {})
    assert json.loads(as_member_run("r7", 5, {"type": "hparams", "tail": tail}, empty).data) == {
        "run_id": "r7",
        "seq": 5,
        "type": "hparams",
    }


def _ev(seq: int, type_: str, member: int | None = None) -> Event:
    data, _ = member_event("c1", seq, type_, member if member is not None else -1, {"x": seq})
    return Event(seq, type_, data, {"seq": seq, "type": type_, "member": member})


def test_the_comparison_log_keeps_member_ends_and_each_members_latest_picture() -> None:
    log = ComparisonLog("c1", buffer_size=16, history_points=8)
    log.append(make_event("c1", 1, "status", status_fields("running")))
    seq = 2
    for member in (0, 1):
        log.append(_ev(seq, "start", member))
        seq += 1
    for _ in range(40):  # far more than the buffer: metrics are decimated, pictures replaced
        for member in (0, 1):
            log.append(_ev(seq, "metrics", member))
            log.append(_ev(seq + 1, "snapshot", member))
            seq += 2
    log.append(_ev(seq, "end", 1))
    log.append(_ev(seq + 1, "summary"))
    replay = log.after(0)
    assert [e.seq for e in replay] == sorted({e.seq for e in replay})
    pictures = [e for e in replay if e.type == "snapshot"]
    assert sorted(e.meta["member"] for e in pictures) == [0, 1]  # the latest of each member
    assert [e.type for e in replay].count("end") == 1 and replay[-1].type == "summary"
    assert [e.type for e in replay][:3] == ["status", "start", "start"]
    assert log.after(seq + 1) == [] and log.after(seq)[0].type == "summary"
    assert {e.type for e in log.persistable()} == {
        "status",
        "start",
        "metrics",
        "snapshot",
        "end",
        "summary",
    }


@pytest.mark.parametrize("lr", [0.02])
def test_a_race_streams_every_step_and_momentum_arrives_before_sgd(lr: float) -> None:
    spec = {
        "function": "bowl",
        "racers": [{"name": "sgd", "lr": lr}, {"name": "momentum", "lr": lr}],
    }
    chan = ScriptedChannel([])
    loop_for(job({**spec, "steps": 400}, kind="race"), chan).run()
    events = chan.events()
    assert events[1]["type"] == "start" and events[1]["racers"][1]["label"] == f"momentum lr={lr:g}"
    steps = [s for e in events if e["type"] == "steps" for s in e["steps"]]
    assert steps == list(range(401))  # step 0 (the start point) and every step after it
    end = events[-1]
    assert end["status"] == "finished"
    sgd, momentum = end["summary"]["racers"]
    assert momentum["steps_to_target"] < sgd["steps_to_target"]


def test_step_keeps_sequential_members_in_step() -> None:
    # BatchNorm: no stacked network, the members' Trainers take turns.
    base = {**BASE, "model": {"layers": [{"units": 4, "norm": "batch"}]}}
    script = [
        [{"op": "step", "n": 3, "run_id": "c1"}],
        [{"op": "step", "n": 2, "run_id": "c1"}],
        [{"op": "stop", "run_id": "c1"}],
    ]
    chan = ScriptedChannel(script)
    loop_for(job({"base": base, "members": MEMBERS[:2]}, paused=True), chan).run()
    events = chan.events()
    assert events[-1]["summary"]["mode"] == "sequential"
    ends = [e["summary"]["step"] for e in events if e["type"] == "end"]
    assert ends[0] == ends[1] and 5 <= ends[0] <= 6  # (member 0 may have stepped once at start)


def test_the_summary_rows_say_why_members_stopped() -> None:
    """The time cap is the reason in the final table too, not the engine's "stopped by the
    user" (a member's own stop: see the paused test)."""
    spec = job({"base": BASE, "members": MEMBERS})
    spec["options"]["max_seconds"] = 0.0  # the first check ends it
    chan = ScriptedChannel([])
    loop_for(spec, chan).run()
    last = chan.events()[-1]
    cap = "stopped: a comparison may train for at most 0 s"
    assert last["status"] == "stopped" and last["reason"] == cap
    assert [r["reason"] for r in last["summary"]["members"]] == [cap] * 3
