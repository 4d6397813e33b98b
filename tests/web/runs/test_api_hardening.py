"""What an outside probe turned into 500s (issue 14), each now a clear 4xx: integer query
parameters beyond 64 bits, a 401-digit learning rate (PATCH and the socket), a CSV field
over csv's limit, `true` as a number; plus Retry-After on every 429 and OPTIONS / Allow."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.web.service import LONG, make_settings, start_paused

HUGE = "9" * 401
BEYOND_INT64 = str(2**63)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("api-hardening"), workers=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        f"/api/runs?offset={BEYOND_INT64}",
        f"/runs?offset={BEYOND_INT64}",
        f"/api/runs/x/events?after={BEYOND_INT64}",
        f"/api/comparisons/x/events?after={BEYOND_INT64}",
        f"/api/races/x/events?after={BEYOND_INT64}",
        "/api/runs?offset=-1",
    ],
)
def test_integer_query_parameters_are_bounded(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["field"] in ("offset", "after")


def test_a_large_but_bounded_offset_is_an_empty_page(client: TestClient) -> None:
    response = client.get("/api/runs", params={"offset": 1_000_000_000})
    assert response.status_code == 200
    assert response.json()["runs"] == []
    assert client.get("/runs", params={"offset": 1_000_000_000}).status_code == 200


def test_a_huge_integer_learning_rate_is_refused_by_patch_and_socket(client: TestClient) -> None:
    run_id = start_paused(client, LONG)
    response = client.patch(
        f"/api/runs/{run_id}",
        content='{"lr": ' + HUGE + "}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["field"] == "lr"
    with client.websocket_connect(f"/ws/runs/{run_id}?after=1000000") as ws:
        ws.send_text('{"action": "set", "lr": ' + HUGE + "}")
        reply = next_reply(ws)
        assert reply["type"] == "error" and reply["status"] == 422, reply
        ws.send_text('{"action": "set", "lr": 0.5}')  # the socket is still open and serving
        assert next_reply(ws) == {"type": "reply", "ok": True, **reply_tail(client, run_id)}
    client.post(f"/api/runs/{run_id}/stop")


def next_reply(ws: object) -> dict:  # type: ignore[type-arg]
    while True:
        message = json.loads(ws.receive_text())  # type: ignore[attr-defined]
        if message.get("type") in ("reply", "error"):
            return message  # type: ignore[no-any-return]


def reply_tail(client: TestClient, run_id: str) -> dict:  # type: ignore[type-arg]
    run = client.get(f"/api/runs/{run_id}").json()
    return {"id": run_id, "status": run["status"], "applied": {"lr": 0.5}}


@pytest.mark.parametrize(
    "body",
    [
        {"train": {"optimizer": {"lr": True}}},
        {"train": {"optimizer": {"name": "adam", "beta1": True}}},
        {"train": {"l2": True}},
        {"model": {"layers": [{"units": True}]}},
        {"train": {"optimizer": {"lr": 10**400}}},
        {"train": {"optimizer": {"name": "momentum", "momentum": 10**400}}},
    ],
)
def test_true_and_huge_integers_are_not_numbers_in_a_spec(client: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422, response.text[:300]
    assert "expected a number" in response.text


def test_a_csv_field_over_the_csv_limit_is_a_422(client: TestClient) -> None:
    content = b"x1,x2,label\n" + b"1" * 140_000 + b",2,1\n"
    response = client.post("/api/import/csv", files={"file": ("a.csv", content, "text/csv")})
    assert response.status_code == 422, response.text[:300]
    assert "line 2" in response.text
    assert len(response.text) < 2000


def test_every_429_carries_retry_after(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = make_settings(
        tmp_path_factory.mktemp("retry"), workers=1, max_runs_per_client=1, max_queued=1
    )
    with TestClient(create_app(settings)) as client:
        first = client.post("/api/runs", params={"paused": "true"}, json=LONG)
        assert first.status_code == 201
        refused = client.post("/api/runs", json=LONG)  # this visitor's cap
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        panel = client.post("/ui/play", data={"data.samples": "100"})  # the page's Play
        assert panel.status_code == 429
        assert int(panel.headers["retry-after"]) > 0


def test_options_answers_with_allow(client: TestClient) -> None:
    cases = {
        "/api/runs": {"GET", "POST", "OPTIONS"},
        "/api/runs/abc": {"GET", "PATCH", "DELETE", "OPTIONS"},
        "/api/runs/abc/pause": {"POST", "OPTIONS"},
        "/static/app.css": {"GET", "HEAD", "OPTIONS"},
    }
    for path, methods in cases.items():
        response = client.options(path)
        assert response.status_code == 204, (path, response.status_code)
        assert set(response.headers["allow"].split(", ")) == methods, path
    assert client.options("/no/such/path").status_code == 404


def test_method_not_allowed_names_every_allowed_method(client: TestClient) -> None:
    response = client.put("/api/runs")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


def test_a_bad_live_value_or_key_is_named_not_echoed_back(client: TestClient) -> None:
    run_id = start_paused(client, LONG)
    long_text, long_key = "x" * 3000, "k" * 3000
    for body, field in (
        ({"lr": long_text}, "lr"),
        ({"lr": [0.1] * 500}, "lr"),
        ({"momentum": {"a": [1] * 300}}, "momentum"),
        ({long_key: 0.1}, None),
    ):
        response = client.patch(f"/api/runs/{run_id}", json=body)
        assert response.status_code == 422, response.text[:300]
        (error,) = response.json()["detail"]
        assert field is None or error["field"] == field
        assert len(response.text) < 600, response.text[:300]  # a hint, not the body back
        assert "expected a number" in error["message"] or "not live-tunable" in error["message"]
    client.post(f"/api/runs/{run_id}/stop")
