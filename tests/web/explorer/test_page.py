"""The backprop explorer over HTTP: the page and its data, bad queries as a 422 naming the
field, and the lessons that link to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.service import app_client, make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("explore"))) as c:
        yield c


def test_the_page_carries_every_step_of_a_2_3_1_net(client: TestClient) -> None:
    page = client.get("/explore?hidden=3&activation=sigmoid&dataset=xor&batch=1")
    assert page.status_code == 200
    raw = re.search(
        r'<script type="application/json" id="explore-data">(.*?)</script>', page.text, re.S
    )
    assert raw
    data = json.loads(raw.group(1))
    assert data["sizes"] == [2, 3, 1]
    kinds = [s["kind"] for s in data["steps"]]
    # 2 forward layers, the loss, 3 hidden units (each: node, 2 edges, bias), the output unit
    # (3 edges, bias), the update.
    assert kinds[:3] == ["forward", "forward", "loss"] and kinds[-1] == "update"
    assert kinds.count("edge") == 9 and kinds.count("node") == 3 and kinds.count("bias") == 4
    assert json.loads(client.get("/explore/trace.json?hidden=3").text)["sizes"] == [2, 3, 1]
    assert client.get("/explore?hidden=4,4&step=9").status_code == 200  # a shared link's step


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("hidden=5", "hidden"),
        ("hidden=a", "hidden"),
        ("batch=9", "batch"),
        ("activation=nope", "activation"),
        ("optimizer=adagrad", "optimizer"),
        ("lr=1e400", "lr"),
        ("seed=-1", "seed"),
        ("dataset=plane&loss=bce", "loss"),
        ("nope=1", "nope"),
    ],
)
def test_bad_queries_are_a_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    r = client.get(f"/explore/trace.json?{query}")
    assert r.status_code == 422 and field in r.json()["detail"], r.text
    page = client.get(f"/explore?{query}")
    assert page.status_code == 422 and 'id="explore-error"' in page.text


def test_lessons_that_need_it_link_to_the_explorer(client: TestClient) -> None:
    for slug in ("backprop", "vanishing-gradients", "zero-init"):
        page = client.get(f"/lessons/{slug}")
        assert page.status_code == 200, slug
        assert re.search(r'<a [^>]*href="/explore\?[^"]*"', page.text), slug
