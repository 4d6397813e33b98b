"""Comparisons and races through the real app: worker processes, the queue, the API and
the WebSockets; member runs in the run list; a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.service import TERMINAL, app_client, make_settings, wait_for

BASE = {"data": {"samples": 100, "val_fraction": 0.2}, "train": {"epochs": 8}}  # 40 steps
LONG_BASE = {"data": {"samples": 100}, "train": {"epochs": 10000}}  # always stopped
MEMBERS = [
    {"optimizer": {"name": "sgd", "lr": 0.1}},
    {"optimizer": {"name": "momentum", "lr": 0.1}, "label": "heavy ball"},
    {"optimizer": {"name": "adam", "lr": 0.01}},
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("compare"))) as c:
        yield c


def wait_comparison(client: TestClient, cid: str, statuses: set[str]) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        view: dict[str, Any] = client.get(f"/api/comparisons/{cid}").json()
        return view if view["status"] in statuses else None

    return wait_for(check, what=f"comparison {cid} to be {statuses}")


def comparison_events(client: TestClient, cid: str, after: int = 0) -> list[dict[str, Any]]:
    response = client.get(f"/api/comparisons/{cid}/events", params={"after": after})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base": BASE, "members": [{}, {"optimizer": {"lr": 100}}]}, "members.1.optimizer.lr"),
        (
            {"base": BASE, "members": [{}, {}, {"optimizer": {"name": "sgdd"}}]},
            "members.2.optimizer.name",
        ),
        ({"base": {"data": {"samples": 1}}, "members": [{}, {}]}, "base.data.samples"),
        ({"base": BASE, "members": [{}]}, "members"),
        (
            {"base": BASE, "members": [{}, {"overrides": {"model": {"init": "nope"}}}]},
            "members.1.model.init",
        ),
        ([1, 2], "body"),
    ],
)
def test_bad_comparisons_are_422_naming_the_field(
    client: TestClient, body: object, field: str
) -> None:
    response = client.post("/api/comparisons", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["detail"]]


def test_a_comparison_trains_its_members_and_each_member_is_a_run(client: TestClient) -> None:
    created = client.post("/api/comparisons", json={"base": BASE, "members": MEMBERS})
    assert created.status_code == 201, created.text
    cid, members = created.json()["id"], created.json()["members"]
    assert len(members) == 3 and created.json()["status"] in ("queued", "running")
    view = wait_comparison(client, cid, TERMINAL)
    assert view["status"] == "finished" and view["mode"] == "batched"
    assert [m["label"] for m in view["members"]] == ["sgd lr=0.1", "heavy ball", "adam lr=0.01"]
    table = view["summary"]["members"]
    assert [r["step"] for r in table] == [40, 40, 40] and sum(r["leader"] for r in table) == 1

    # Members are ordinary runs: listed, linked to the comparison, with their own summary.
    listed = {r["id"]: r for r in client.get("/api/runs", params={"limit": 500}).json()["runs"]}
    for index, run_id in enumerate(members):
        assert listed[run_id]["comparison"] == {
            "id": cid,
            "member": index,
            "label": view["members"][index]["label"],
        }
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "finished" and run["summary"]["step"] == 40
        assert run["spec"]["train"]["optimizer"]["name"] == MEMBERS[index]["optimizer"]["name"]
        assert run["summary"]["final"]["val_loss"] == pytest.approx(table[index]["val_loss"])
        own = client.get(f"/api/runs/{run_id}/events").json()["events"]
        assert [e["seq"] for e in own] == sorted({e["seq"] for e in own})
        assert own[-1]["type"] == "status" and own[-1]["status"] == "finished"
        start = next(e for e in own if e["type"] == "start")
        assert start["points"]["train"]["x"]  # every member run shows the data
        assert start["engine"]["path"] in ("stacked", "fused") and start["engine"]["reason"]
    assert client.get(f"/api/runs/{cid}").status_code == 404  # the comparison is no run

    # The comparison's own stream: tagged, strictly increasing, ending with its status.
    events = comparison_events(client, cid)
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert events[-1]["type"] == "status" and events[-1]["status"] == "finished"
    assert {e["member"] for e in events if e["type"] == "metrics"} == {0, 1, 2}
    assert sorted(e["member"] for e in events if e["type"] == "end") == [0, 1, 2]
    middle = events[len(events) // 2]["seq"]
    assert comparison_events(client, cid, middle) == [e for e in events if e["seq"] > middle]


def test_the_socket_replays_then_closes_and_unknown_ids_get_4404(client: TestClient) -> None:
    cid = client.post("/api/comparisons", json={"base": BASE, "members": MEMBERS[:2]}).json()["id"]
    wait_comparison(client, cid, TERMINAL)
    stored = comparison_events(client, cid)
    seen: list[dict[str, Any]] = []
    with client.websocket_connect(f"/ws/comparisons/{cid}?after=3") as ws:
        while not (seen and seen[-1].get("type") == "status" and seen[-1]["status"] in TERMINAL):
            seen.append(json.loads(ws.receive_text()))
    assert seen == [e for e in stored if e["seq"] > 3]
    for path in ("/ws/comparisons/nope", f"/ws/races/{cid}"):
        with client.websocket_connect(path) as ws:
            message = ws.receive()
            assert message["type"] == "websocket.close" and message["code"] == 4404


def test_pause_step_resume_stop_act_on_all_members(client: TestClient) -> None:
    body = {"base": LONG_BASE, "members": MEMBERS[:2]}
    created = client.post("/api/comparisons", params={"paused": "true"}, json=body).json()
    cid, members = created["id"], created["members"]

    def steps(after: int = 0) -> dict[int, int]:
        out: dict[int, int] = {}
        for e in comparison_events(client, cid, after):
            if e["type"] == "metrics":
                out[e["member"]] = e["step"]
        return out

    wait_for(lambda: steps() == {0: 0, 1: 0}, what="the untrained members' first frames")
    assert client.get(f"/api/comparisons/{cid}").json()["status"] == "paused"
    assert client.post(f"/api/comparisons/{cid}/step", json={"n": 5}).status_code == 200
    wait_for(lambda: steps() == {0: 5, 1: 5}, what="5 steps of each member")
    # A live change on a member run reaches that member inside the comparison.
    patched = client.patch(f"/api/runs/{members[0]}", json={"lr": 0.05})
    assert patched.status_code == 200 and patched.json()["applied"] == {"lr": 0.05}
    refused = client.patch(f"/api/runs/{members[0]}", json={"beta2": 0.9})  # SGD has no beta2
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "beta2"
    bad = client.post(f"/api/comparisons/{cid}/step", json={"n": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "n"
    assert client.post(f"/api/comparisons/{cid}/resume").json()["status"] == "running"
    wait_for(lambda: min(steps().values()) > 5, what="training to go on")
    # A member's own controls reach its comparison: stop = that member only.
    assert client.post(f"/api/runs/{members[1]}/stop").status_code == 200
    wait_for(lambda: client.get(f"/api/runs/{members[1]}").json()["status"] == "stopped")
    assert client.get(f"/api/comparisons/{cid}").json()["status"] == "running"
    assert client.post(f"/api/comparisons/{cid}/stop").status_code == 200
    view = wait_comparison(client, cid, TERMINAL)
    assert view["status"] == "stopped" and [m["status"] for m in view["members"]] == [
        "stopped",
        "stopped",
    ]
    refused = client.post(f"/api/comparisons/{cid}/pause")
    assert refused.status_code == 409 and "comparison" in refused.json()["detail"]
    assert client.post(f"/api/comparisons/{cid}/fly").status_code == 404
    assert client.get("/api/comparisons/nope").status_code == 404


def test_a_lesson_style_comparison_of_architectures_trains_independently(
    client: TestClient,
) -> None:
    relu = {"overrides": {"model": {"layers": [{"activation": "relu"}, {"activation": "relu"}]}}}
    body = {"base": BASE, "members": [{"label": "tanh"}, {**relu, "label": "relu"}]}
    cid = client.post("/api/comparisons", json=body).json()["id"]
    view = wait_comparison(client, cid, TERMINAL)
    assert view["status"] == "finished" and view["mode"] == "independent"
    assert "activation" in view["mode_reason"]
    run = client.get(f"/api/runs/{view['members'][1]['run_id']}").json()
    assert [layer["activation"] for layer in run["spec"]["model"]["layers"]] == ["relu", "relu"]


def test_race_api_validates_streams_and_momentum_beats_sgd_on_the_bowl(client: TestClient) -> None:
    functions = client.get("/api/races/functions").json()
    assert {"bowl", "rosenbrock", "beale", "himmelblau", "saddle"} <= {f["key"] for f in functions}
    one = client.get("/api/races/functions/bowl", params={"size": 20}).json()
    assert len(one["grid"]["z"]) == 20 and one["minima"] == [[0.0, 0.0]]
    assert client.get("/api/races/functions/nope").status_code == 404
    bad = client.post("/api/races", json={"racers": [{"name": "sgd"}, {"name": "adam", "lr": -1}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "racers.1.lr"

    lr = 0.02
    body = {
        "function": "bowl",
        "racers": [{"name": "sgd", "lr": lr}, {"name": "momentum", "lr": lr}],
        "steps": 400,
    }
    rid = client.post("/api/races", json=body).json()["id"]
    received: list[dict[str, Any]] = []
    with client.websocket_connect(f"/ws/races/{rid}") as ws:
        while not (received and received[-1].get("status") in TERMINAL):
            received.append(json.loads(ws.receive_text()))
    # From the streamed positions: the first step each racer is within the target.
    target = next(e for e in received if e["type"] == "start")["target"]
    reached: dict[int, int] = {}
    for e in received:
        if e["type"] != "steps":
            continue
        for step, losses in zip(e["steps"], e["loss"], strict=True):
            for racer, loss in enumerate(losses):
                if loss is not None and loss <= target:
                    reached.setdefault(racer, step)
    assert set(reached) == {0, 1} and reached[1] < reached[0], reached
    summary = received[-1]["summary"]["racers"]
    assert [r["steps_to_target"] for r in summary] == [reached[0], reached[1]]
    race = client.get(f"/api/races/{rid}").json()
    assert race["status"] == "finished" and race["step"] == race["total_steps"] == 400
    assert client.get(f"/api/runs/{rid}").status_code == 404


def test_comparisons_survive_a_restart_and_active_ones_are_interrupted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with app_client(settings) as first:
        done = first.post("/api/comparisons", json={"base": BASE, "members": MEMBERS[:2]}).json()
        wait_comparison(first, done["id"], TERMINAL)
        paused = first.post(
            "/api/comparisons",
            params={"paused": "true"},
            json={"base": LONG_BASE, "members": MEMBERS[:2]},
        ).json()

        def pictures() -> set[Any]:
            events = comparison_events(first, paused["id"])
            return {e.get("member") for e in events if e["type"] == "snapshot"}

        wait_for(lambda: pictures() == {0, 1}, what="the paused members' first pictures")
    with app_client(settings) as second:
        view = second.get(f"/api/comparisons/{done['id']}").json()
        assert (
            view["status"] == "finished"
            and [m["status"] for m in view["members"]] == ["finished"] * 2
        )
        assert comparison_events(second, done["id"])[-1]["status"] == "finished"
        again = second.get(f"/api/comparisons/{paused['id']}").json()
        assert again["status"] == "interrupted"
        assert [m["status"] for m in again["members"]] == ["interrupted", "interrupted"]
        stored = comparison_events(second, paused["id"])  # checkpointed while it was paused
        assert [e["member"] for e in stored if e["type"] == "start"] == [0, 1]
        assert {e["member"] for e in stored if e["type"] == "snapshot"} == {0, 1}
        assert stored[-1]["type"] == "status" and stored[-1]["status"] == "interrupted"
        refused = second.post(f"/api/comparisons/{paused['id']}/resume")
        assert refused.status_code == 409 and "interrupted" in refused.json()["detail"]
