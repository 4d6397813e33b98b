"""Snapshots follow what viewers consume: the pacer, and a worker driven by a viewer."""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from app.nn.measure.pictures import decode
from app.runs.events.demand import Demand, Pacer
from app.runs.kinds.run.loop import RunLoop
from tests.runs.kinds.test_run_loop import job

SPEC = {"data": {"samples": 100}, "train": {"epochs": 300}}  # 1,500 steps


def test_pacer_waits_for_a_want_and_never_exceeds_its_rate() -> None:
    pacer = Pacer(max_rate=50, idle_rate=1)
    assert pacer.due(0.0)  # the first picture is always wanted
    pacer.taken_at(0.0)
    assert not pacer.due(0.5)  # nobody asked: the idle rate (1/s) holds
    assert pacer.due(1.0)
    pacer.taken_at(1.0)
    pacer.want(neurons=True)
    assert not pacer.due(1.01)  # asked, but 1/50 s has not passed
    assert pacer.due(1.02) and pacer.neurons
    pacer.taken_at(1.02)
    assert not pacer.due(1.5)  # taken: the want is spent


def test_the_want_sets_the_rate_but_never_beyond_the_workers_cap() -> None:
    pacer = Pacer(max_rate=60, idle_rate=1)
    pacer.taken_at(0.0)
    pacer.want(rate=30)
    assert not pacer.due(0.02) and pacer.due(1 / 30)  # the want's rate
    pacer.taken_at(1.0)
    pacer.want(rate=1000)  # never faster than max_rate
    assert not pacer.due(1.01) and pacer.due(1 + 1 / 60 + 1e-9)
    pacer.taken_at(2.0)
    for junk in (None, 0, -5, "60", True, float("nan")):
        pacer.want(rate=junk)  # ignored: the last good rate holds
    assert not pacer.due(2.01) and pacer.due(2 + 1 / 60 + 1e-9)


def test_demand_asks_for_every_frame_while_few_runs_are_watched() -> None:
    sent: list[dict[str, Any]] = []
    watched = [1]
    demand = Demand(
        lambda run_id, msg: sent.append(msg) is None,
        watched=lambda: watched[0],
        rate=60.0,
        busy_rate=30.0,
        busy_runs=2,
    )
    demand.consumed("a", 1, newest=1)
    watched[0] = 3  # a third watched run: the machine is shared, pictures slow down
    demand.consumed("a", 2, newest=2)
    watched[0] = 2
    demand.consumed("a", 3, newest=3)
    assert [m["rate"] for m in sent] == [60.0, 30.0, 60.0]


def test_demand_asks_once_per_snapshot_and_only_for_the_newest() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    demand = Demand(lambda run_id, msg: sent.append((run_id, msg)) is None)
    assert demand.consumed("r", 5, newest=5)  # the first viewer done with #5 asks
    assert not demand.consumed("r", 5, newest=5)  # the second finds it asked
    assert not demand.consumed("r", 4, newest=5)  # a slow viewer on an old one never asks
    demand.view("r", True, before=False)  # a viewer shows neurons: asked at once, with them
    assert demand.consumed("r", 9, newest=9)
    assert [m["neurons"] for _, m in sent] == [False, True, True]
    demand.view("r", False, before=True)
    demand.consumed("r", 10, newest=10)
    assert sent[-1][1] == {"op": "want", "neurons": False}


class ViewerChannel:
    """A worker's channel with one viewer that asks for the next picture as soon as it has
    one (`eager`), or none at all; records what the worker sends."""

    def __init__(self, eager: bool, neurons: bool = False) -> None:
        self.eager, self.neurons = eager, neurons
        self.inbox: deque[dict[str, Any]] = deque()
        self.sent: list[dict[str, Any]] = []

    def poll(self, timeout: float | None) -> list[dict[str, Any]]:
        out = list(self.inbox)
        self.inbox.clear()
        return out

    def send(self, meta: dict[str, Any], data: bytes = b"") -> None:
        if meta["kind"] != "event":
            return
        event = json.loads(data)
        self.sent.append(event)
        if self.eager and event["type"] == "snapshot":
            self.inbox.append({"op": "want", "run_id": "r1", "neurons": self.neurons})


def run(chan: ViewerChannel) -> tuple[list[dict[str, Any]], float]:
    j = job(SPEC)
    j["options"].update(snapshot_rate=200.0, snapshot_idle_rate=1.0)
    started = time.perf_counter()
    RunLoop(j, chan).run()  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return [e for e in chan.sent if e["type"] == "snapshot"], seconds


def test_pictures_follow_a_viewer_and_stop_without_one() -> None:
    watched, seconds = run(ViewerChannel(eager=True))
    alone, alone_seconds = run(ViewerChannel(eager=False))
    # Nobody asking: the first and final pictures, plus one a second at most.
    assert len(alone) <= alone_seconds * 1.0 + 3, (len(alone), alone_seconds)
    # A viewer that keeps up gets far more (bounded by 200/s), every one newer than the last.
    assert len(watched) > 3 * (seconds * 1.0 + 3), (len(watched), seconds)
    assert len(watched) <= 200 * seconds + 3
    steps = [s["step"] for s in watched]
    assert steps == sorted(steps)
    # Live pictures at the view's resolution; the first two (the picture, then with the
    # diagnostics panel) and the last at the spec's (64).
    sizes = [s["grid"]["size"] for s in watched]
    assert sizes[:2] == [64, 64] and sizes[-1] == 64 and set(sizes[2:-1]) == {48}
    assert "diagnostics" not in watched[0] and "diagnostics" in watched[1]


def test_neuron_pictures_only_while_a_viewer_shows_them() -> None:
    plain, _ = run(ViewerChannel(eager=True, neurons=False))
    shown, _ = run(ViewerChannel(eager=True, neurons=True))
    assert not any("neurons" in s for s in plain[2:-1])  # live pictures: none asked for
    assert "neurons" in plain[0] and "neurons" in plain[-1]  # first and final: always
    assert all("neurons" in s for s in shown[1:])
    # The bytes: one per pixel, decoded back to per-unit values in [-1, 1].
    cells = decode(shown[-1])["neurons"]
    assert cells["size"] == 10 and [len(layer) for layer in cells["values"]] == [4, 2]
    assert all(-1 <= v <= 1 for layer in cells["values"] for unit in layer for v in unit)
