"""Nothing a client sends can crash the server: random bodies, params and messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.nn.spec.experiment import validate_spec
from tests.web.service import app_client, make_settings, start_paused

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # A pool of one: a valid fuzzed spec is queued (201) and deleted at once.
    with app_client(make_settings(tmp_path_factory.mktemp("fuzz"), workers=1)) as c:
        yield c


def paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in paths(v, (*prefix, k))] + [prefix]
    if isinstance(tree, list):
        return [p for i, v in enumerate(tree) for p in paths(v, (*prefix, i))] + [prefix]
    return [prefix]


def replaced(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(tree))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def cleanup(client: TestClient, response: Any) -> None:
    if response.status_code == 201:
        run_id = response.json()["id"]
        assert client.delete(f"/api/runs/{run_id}").status_code == 204


@FUZZ
@given(body=JSON)
def test_random_json_bodies(client: TestClient, body: Any) -> None:
    try:
        content = json.dumps(body)
    except ValueError:
        content = "{}"
    response = client.post("/api/runs", content=content)
    assert response.status_code in {201, 413, 422, 429}, response.text
    cleanup(client, response)


DEFAULT = validate_spec({}).model_dump(mode="json")


@FUZZ
@given(data=st.data())
def test_one_field_of_a_valid_spec_replaced_by_junk(client: TestClient, data: Any) -> None:
    path = data.draw(st.sampled_from(paths(DEFAULT)))
    body = replaced(DEFAULT, path, data.draw(JSON))
    response = client.post("/api/runs", content=json.dumps(body, allow_nan=True))
    assert response.status_code in {201, 422, 429}, response.text
    if response.status_code == 422:
        assert all({"field", "message"} <= set(e) for e in response.json()["detail"])
    cleanup(client, response)


def test_random_controls_and_socket_messages(client: TestClient) -> None:
    run_id = start_paused(client)

    @FUZZ
    @given(body=JSON, action=st.sampled_from(["pause", "resume", "step", "stop", "x"]))
    def poke(body: Any, action: str) -> None:
        patch = client.patch(f"/api/runs/{run_id}", content=json.dumps(body))
        assert patch.status_code in {200, 409, 422}, patch.text
        if action != "stop":
            post = client.post(f"/api/runs/{run_id}/{action}", content=json.dumps(body))
            assert post.status_code in {200, 404, 405, 409, 422}, post.text

    poke()
    with client.websocket_connect(f"/ws/runs/{run_id}?after=99999999") as ws:
        for message in [
            "",
            "null",
            "[]",
            '{"action": 1}',
            '{"action":"step","n":1e999}',
            "{" * 5000,
        ]:
            ws.send_text(message)
            reply = next(m for m in iter(ws.receive_json, None) if m["type"] != "heartbeat")
            assert reply["type"] in {"error", "reply"}, reply
    assert client.get("/healthz").json()["status"] == "ok"
    client.post(f"/api/runs/{run_id}/stop")
