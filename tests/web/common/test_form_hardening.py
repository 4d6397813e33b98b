"""Form posts from anyone (issue 14): field names with huge indices, names that contradict
each other, values that overflow, and button actions naming items that do not exist. Each
is a clear 4xx (or the form with the field's message), never a 500, and fast."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.web.service import make_settings

FORM = {"content-type": "application/x-www-form-urlencoded"}
FORM_ROUTES = ["/ui/controls", "/ui/play", "/ui/reset", "/ui/compare/form", "/ui/compare/play"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("forms"), workers=1, max_layers=16)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def post(client: TestClient, path: str, body: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    response = client.post(path, content=body, headers=FORM)
    return response.status_code, response.text, time.perf_counter() - start


@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize("index", ["99999999", "16", pytest.param("9" * 5000, id="5000-digits")])
def test_a_layer_index_beyond_the_limit_is_a_fast_422(
    client: TestClient, path: str, index: str
) -> None:
    status, text, seconds = post(client, path, f"model.layers.{index}.units=4")
    assert status == 422, text[:300]
    assert "at most 16 layers" in text
    assert seconds < 1.0
    assert len(text) < 200_000  # the answer is the form, not 10^8 layers of it


@pytest.mark.parametrize("path", ["/ui/compare/form", "/ui/compare/play"])
def test_a_member_index_beyond_the_limit_is_a_fast_422(client: TestClient, path: str) -> None:
    status, text, seconds = post(client, path, "ui.members=2&members.99999999.label=x")
    assert status == 422, text[:300]
    assert "at most 8 members" in text
    assert seconds < 1.0


def test_the_last_allowed_layer_index_is_accepted(client: TestClient) -> None:
    status, text, _ = post(client, "/ui/controls", "model.layers.15.units=4")
    assert status == 200, text[:300]


@pytest.mark.parametrize("path", ["/ui/controls", "/ui/play", "/ui/compare/form"])
@pytest.mark.parametrize(
    "body",
    [
        "model=1&model.layers.0.units=4",
        "model.layers.0.units=4&model=1",
        "ui.layers=2&model=1",
        "model.layers=3&model.layers.0.units=4",
        "model.layers.0=4",
        "data.features.99999999=x1",
        "train.optimizer.0.lr=1",
    ],
)
def test_contradicting_field_names_are_a_422(client: TestClient, path: str, body: str) -> None:
    status, text, _ = post(client, path, body)
    assert status == 422, text[:300]


def test_units_plus_on_an_infinite_value_names_the_field(client: TestClient) -> None:
    body = "model.layers.0.units=inf&ui.action=units_plus:0"
    status, text, _ = post(client, "/ui/controls", body)
    assert status == 200, text[:300]
    assert "model.layers.0.units" in text


@pytest.mark.parametrize("field", ["ui.layers", "ui.members", "ui.racers"])
def test_huge_counts_are_ignored(client: TestClient, field: str) -> None:
    for path in ("/ui/controls", "/ui/compare/form", "/ui/race/form"):
        status, text, _ = post(client, path, f"{field}={'9' * 6000}")
        assert status == 200, (path, text[:300])


def test_removing_a_racer_that_does_not_exist_removes_nothing(client: TestClient) -> None:
    body = "ui.racers=3&" + "&".join(f"racers.{i}.name=sgd&racers.{i}.lr=0.1" for i in range(3))
    for arg in ("99", "9" * 6000):
        status, text, _ = post(client, "/ui/race/form", body + f"&ui.action=remove_racer:{arg}")
        assert status == 200, text[:300]
        assert 'name="racers.2.name"' in text and 'name="racers.3.name"' not in text
    status, text, _ = post(client, "/ui/race/form", body + "&ui.action=remove_racer:1")
    assert 'name="racers.2.name"' not in text


def test_removing_a_member_that_does_not_exist_removes_nothing(client: TestClient) -> None:
    body = "ui.members=3&" + "&".join(
        f"members.{i}.optimizer.name=sgd&members.{i}.optimizer.lr=0.1" for i in range(3)
    )
    status, text, _ = post(client, "/ui/compare/form", body + "&ui.action=remove_member:99")
    assert status == 200, text[:300]
    assert 'name="members.2.optimizer.name"' in text
    status, text, _ = post(client, "/ui/compare/form", body + "&ui.action=remove_member:1")
    assert 'name="members.2.optimizer.name"' not in text
