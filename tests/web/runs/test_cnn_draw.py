"""A drawn digit through the real control path: PATCH /api/runs/{id} (and the run socket's
"set") carry 64 grey levels to the worker, whose next picture looks at the drawing: its
probabilities equal softmax(model(x)) of the run's own weights (weights.pt) computed here
with torch, paused or training, until a test image is chosen again. Bad drawings (63
values, NaN, out of range, huge lists, wrong types, a non-digits run) get a 4xx naming
`view_pixels`, and the run goes on."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from app.nn.measure.images import decode_picture
from app.nn.models.cnn import build_cnn
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import derived_seeds
from tests.web.service import app_client, events, make_settings, start_paused, wait_for

SPEC: dict[str, Any] = {
    "family": "cnn",
    "seed": 11,
    "cnn": {"dataset": "digits", "conv": [{"channels": 4, "pool": "max"}]},
    "model": {"layers": [{"units": 8}]},
    "train": {"epochs": 500, "batch_size": 32},
}
# A "7": a bar along the top and a stroke down to the bottom left, in the digits' levels.
SEVEN = [0.0] * 64
for col in range(1, 7):
    SEVEN[8 + col] = 16.0
for row in range(2, 8):
    SEVEN[8 * row + 7 - row] = 12.0


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("draw"))) as c:
        yield c


def latest_snapshot(client: TestClient, run_id: str, pred: Any) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        snaps = [e for e in events(client, run_id) if e["type"] == "snapshot"]
        return snaps[-1] if snaps and pred(snaps[-1]) else None

    return wait_for(check, what="a snapshot of the drawing")


def oracle_probs(client: TestClient, run_id: str, pixels: list[float]) -> list[float]:
    """softmax(model(x)) on the run's current weights, the model rebuilt here."""
    response = client.get(f"/api/runs/{run_id}/weights.pt")
    assert response.status_code == 200, response.text
    spec = validate_spec(SPEC)
    assert spec.cnn is not None
    model = build_cnn(spec.cnn, 10, spec.model, derived_seeds(spec.seed)["init"])
    model.load_state_dict(torch.load(io.BytesIO(response.content)))
    model.eval()
    x = torch.tensor(pixels, dtype=torch.float32).reshape(1, 1, 8, 8) / 16.0
    with torch.no_grad():
        return torch.softmax(model(x)[0].double(), 0).tolist()


def test_a_drawn_digit_is_classified_by_the_runs_own_weights(client: TestClient) -> None:
    run_id = start_paused(client, SPEC)
    assert client.post(f"/api/runs/{run_id}/step", json={"n": 6}).status_code == 200
    latest_snapshot(client, run_id, lambda s: s["step"] == 6)
    changed = client.patch(f"/api/runs/{run_id}", json={"view_pixels": SEVEN})
    assert changed.status_code == 200, changed.text
    assert changed.json()["applied"]["view_pixels"] == SEVEN
    # Paused: the worker answers with a picture of the drawing at once.
    snap = latest_snapshot(client, run_id, lambda s: s["input"]["drawn"])
    assert snap["step"] == 6 and snap["input"]["index"] is None
    drawn = decode_picture(snap["input"]).reshape(-1)
    assert torch.allclose(drawn, torch.tensor(SEVEN).double() / 16, atol=1 / 255)
    assert snap["probs"] == pytest.approx(oracle_probs(client, run_id, SEVEN), abs=1e-4)

    # Training: later pictures keep looking at the drawing; a new one replaces it.
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
    blot = [8.0 if 18 <= i < 46 else 0.0 for i in range(64)]
    assert client.patch(f"/api/runs/{run_id}", json={"view_pixels": blot}).status_code == 200
    snap = latest_snapshot(
        client, run_id, lambda s: s["input"]["drawn"] and s["step"] > 6 and s["maps"]
    )
    got = decode_picture(snap["input"]).reshape(-1)
    assert torch.allclose(got, torch.tensor(blot).double() / 16, atol=1 / 255)

    # Clicking a test image again ends the drawing's turn.
    assert client.patch(f"/api/runs/{run_id}", json={"view_input": 4}).status_code == 200
    latest_snapshot(client, run_id, lambda s: not s["input"]["drawn"] and s["input"]["index"] == 4)
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200


BAD: list[tuple[Any, str]] = [
    (SEVEN[:63], "expected exactly 64 numbers, got 63"),
    ([*SEVEN, 0], "expected exactly 64 numbers, got 65"),
    ([16.5, *SEVEN[1:]], "item 0: 16.5 is not a number in [0, 16]"),
    ([*SEVEN[:5], -1, *SEVEN[6:]], "item 5: -1 is not a number in [0, 16]"),
    ([*SEVEN[:9], "16", *SEVEN[10:]], "item 9: a str is not a number in [0, 16]"),
    ([*SEVEN[:3], [1], *SEVEN[4:]], "item 3: a list is not a number in [0, 16]"),
    ([*SEVEN[:3], True, *SEVEN[4:]], "item 3: a bool is not a number in [0, 16]"),
    ([10**400, *SEVEN[1:]], "item 0: a huge integer is not a number in [0, 16]"),
    ("0" * 64, "expected a list of 64 numbers, got str"),
]


def answer(ws: Any) -> dict[str, Any]:
    """The socket's answer to a control message (events and heartbeats skipped)."""
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] in ("reply", "error"):
            return message


@pytest.mark.parametrize(("pixels", "message"), BAD)
def test_bad_drawings_are_refused_naming_the_field(
    client: TestClient, pixels: Any, message: str
) -> None:
    # Refused before any run is looked at: the same answer for any run id.
    response = client.patch("/api/runs/nope", json={"view_pixels": pixels})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"field": "view_pixels", "message": message}]


def test_nan_huge_lists_and_non_digit_runs_over_http_and_the_socket(client: TestClient) -> None:
    run_id = start_paused(client, SPEC)
    nan = '{"view_pixels": [NaN' + ", 0" * 63 + "]}"  # JSON's NaN, as Python's json writes it
    response = client.patch(
        f"/api/runs/{run_id}", content=nan, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["message"] == "item 0: nan is not a number in [0, 16]"
    huge = json.dumps({"view_pixels": [0] * 100_000})  # over the PATCH body cap (4 KB)
    response = client.patch(
        f"/api/runs/{run_id}", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    with client.websocket_connect(f"/ws/runs/{run_id}") as ws:
        ws.send_text(json.dumps({"action": "set", "view_pixels": [0] * 200_000}))
        reply = answer(ws)
        assert reply["type"] == "error" and reply["status"] == 422
        assert reply["detail"] == [
            {"field": "view_pixels", "message": "expected exactly 64 numbers, got 200000"}
        ]
        ws.send_text(json.dumps({"action": "set", "view_pixels": SEVEN}))  # the socket is open
        reply = answer(ws)
        assert reply["type"] == "reply" and reply["ok"] and reply["applied"]["view_pixels"] == SEVEN
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200

    # A run on shapes has no drawing pad: its worker refuses, the run goes on.
    shapes = {**SPEC, "cnn": {"dataset": "shapes", "classes": 3, "samples": 60}}
    other = start_paused(client, shapes)
    start = next(e for e in events(client, other) if e["type"] == "start")
    assert start["draw"] is None
    response = client.patch(f"/api/runs/{other}", json={"view_pixels": SEVEN})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "view_pixels",
            "message": "view_pixels: only runs on the 8x8 digits take a drawn input; "
            "this run uses shapes",
        }
    ]
    assert client.get(f"/api/runs/{other}").json()["status"] == "paused"
    assert client.post(f"/api/runs/{other}/stop").status_code == 200
