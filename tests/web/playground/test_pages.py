"""Page and fragment endpoints over plain HTTP (no browser): validation, URL state, previews."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient

from app.settings import Settings
from app.web.playground import pages

BASE_FORM = [
    ("ui.layers", "1"),
    ("data.dataset", "xor"),
    ("data.features", ""),
    ("data.features", "x1"),
    ("data.features", "x2"),
    ("model.layers.0.units", "5"),
    ("model.layers.0.activation", "relu"),
    ("train.optimizer.name", "adam"),
    ("train.optimizer.lr", "0.1"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Pages only need templates and settings; the full app is exercised in other tests.
    app = FastAPI()
    app.state.templates = Jinja2Templates(directory="templates")
    app.state.settings = Settings()
    app.mount("/static", StaticFiles(directory="static"), name="static")
    app.include_router(pages.router)
    with TestClient(app) as c:
        yield c


def form(*changes: tuple[str, str]) -> list[tuple[str, str]]:
    replaced = {k for k, _ in changes}
    return [(k, v) for k, v in BASE_FORM if k not in replaced] + list(changes)


def post(client: TestClient, items: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    body = "&".join(f"{k}={v}" for k, v in items)
    return client.post(
        "/ui/controls", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )


def test_page_restores_the_experiment_in_the_url(client: TestClient) -> None:
    html = client.get("/?d=spiral&l=8:relu,8:relu&o=adam&lr=0.005").text
    assert re.search(r'value="spiral"\s+checked', html)
    assert 'name="model.layers.1.units"' in html
    assert re.search(r'<option value="adam"[^>]*selected', html)
    assert 'value="0.005"' in html
    assert 'name="train.optimizer.beta1"' in html  # adam's own params are shown


def test_invalid_link_opens_defaults_with_a_message(client: TestClient) -> None:
    html = client.get("/?d=nope&zz=1").text
    assert "could not be opened" in html
    assert re.search(r'value="circle"\s+checked', html)


def test_bad_value_shows_message_next_to_control_and_keeps_input(client: TestClient) -> None:
    resp = post(client, form(("train.optimizer.lr", "100")))
    assert resp.status_code == 200
    assert "HX-Replace-Url" not in resp.headers
    assert 'data-field="train.optimizer.lr"' in resp.text
    assert "Learning rate must be between 1e-06 and 10.0 (it is 100.0)." in resp.text
    assert 'value="100"' in resp.text  # what the user typed is kept


def test_valid_change_updates_the_url(client: TestClient) -> None:
    resp = post(client, form(("data.dataset", "moons")))
    url = resp.headers["HX-Replace-Url"]
    assert "d=moons" in url and "o=adam" in url
    again = client.get(urlsplit(url).path + "?" + urlsplit(url).query).text
    assert re.search(r'value="moons"\s+checked', again)


def test_switching_optimizer_swaps_its_params(client: TestClient) -> None:
    html = post(
        client, form(("train.optimizer.name", "rmsprop"), ("train.optimizer.beta1", "0.9"))
    ).text
    assert 'name="train.optimizer.alpha"' in html
    assert 'name="train.optimizer.beta1"' not in html  # the stale adam input was dropped


@pytest.mark.parametrize(
    ("action", "expect"),
    [
        ("add_layer", 'name="model.layers.1.units"'),
        ("units_plus:0", 'name="model.layers.0.units" value="6"'),
        ("units_minus:0", 'name="model.layers.0.units" value="4"'),
    ],
)
def test_layer_buttons(client: TestClient, action: str, expect: str) -> None:
    html = post(client, [*form(), ("ui.action", action)]).text
    assert expect in html


def test_removing_the_last_layer_leaves_no_hidden_layer(client: TestClient) -> None:
    resp = post(client, [*form(), ("ui.action", "remove_layer:0")])
    assert "l=-" in resp.headers["HX-Replace-Url"]
    assert "0 hidden layers" in resp.text


def test_data_points_and_previews(client: TestClient) -> None:
    data = client.get("/ui/data?d=blobs&n=60").json()
    assert data["task"] == "multiclass" and data["units"] == [2, 4, 2, 3]
    assert len(data["points"]["train"]["x"]) == 30
    svg = client.get("/ui/preview/spiral.svg")
    assert (
        svg.headers["content-type"].startswith("image/svg+xml") and svg.text.count("<circle") > 100
    )
    assert client.get("/ui/preview/nope.svg").status_code == 404
