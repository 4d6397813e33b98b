"""Demo-mode limits against one visitor starving others (issue 14): another visitor's live
run gives no weights or landscape (its worker would compute them between its steps),
landscapes are rate limited per address, and WebSockets are capped per visitor."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from tests.web.hosting.test_ownership import as_visitor
from tests.web.service import app_client, make_settings, start_paused, wait_status

SMALL = {"steps": 3}
PAUSED = {"data": {"samples": 100}, "train": {"epochs": 1000}}  # within the demo caps


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("demo-hardening"),
        demo=True,
        max_runs_per_client=4,
        create_per_minute=0.0,
        landscape_per_minute=60.0,
        landscape_burst=4,
        max_sockets_per_visitor=3,
        max_sockets_per_address=5,
    )
    with app_client(settings) as c:
        yield c


def test_only_the_owner_may_ask_a_live_run_for_weights_or_landscape(client: TestClient) -> None:
    alice = as_visitor(client, None)
    run_id = start_paused(client, PAUSED)
    as_visitor(client, None)  # Bob, watching by link
    landscape = client.post(f"/api/runs/{run_id}/landscape", json=SMALL)
    assert landscape.status_code == 403, landscape.text
    assert "still training" in landscape.json()["detail"]
    assert client.get(f"/api/runs/{run_id}/weights.pt").status_code == 403
    assert client.get(f"/api/runs/{run_id}").status_code == 200  # watching stays open
    as_visitor(client, alice)
    assert client.post(f"/api/runs/{run_id}/landscape", json=SMALL).status_code == 200
    assert client.get(f"/api/runs/{run_id}/weights.pt").status_code == 200
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    wait_status(client, run_id, {"stopped"})
    as_visitor(client, None)  # anyone may ask an ended run (the landscape pool computes it)
    assert client.get(f"/api/runs/{run_id}/weights.pt").status_code == 200
    assert client.post(f"/api/runs/{run_id}/landscape", json=SMALL).status_code == 200
    assert client.post("/api/runs/nope/landscape", json=SMALL).status_code == 404


def test_landscapes_are_rate_limited_per_address(client: TestClient) -> None:
    as_visitor(client, None)
    run_id = start_paused(client, PAUSED)
    codes = [client.post(f"/api/runs/{run_id}/landscape", json=SMALL).status_code for _ in range(6)]
    assert codes[0] == 200 and codes[-1] == 429, codes
    refused = client.post(f"/api/runs/{run_id}/landscape", json=SMALL)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    client.post(f"/api/runs/{run_id}/stop")


def test_websockets_are_capped_per_visitor_and_per_address(client: TestClient) -> None:
    as_visitor(client, None)
    run_id = start_paused(client, PAUSED)
    url = f"/ws/runs/{run_id}"
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(client.websocket_connect(url))
        with pytest.raises(WebSocketDenialResponse) as refused:
            client.websocket_connect(url).__enter__()
        assert refused.value.status_code == 429
        assert int(refused.value.headers["retry-after"]) > 0
        as_visitor(client, None)  # a new cookie: its own 3, but the address has 5 in all
        for _ in range(2):
            stack.enter_context(client.websocket_connect(url))
        with pytest.raises(WebSocketDenialResponse):
            client.websocket_connect(url).__enter__()
    # Closed sockets free their places.
    with client.websocket_connect(url):
        pass
    client.post(f"/api/runs/{run_id}/stop")
