"""Architecture comparisons through the real app (issues 17, 19): the API round trip of an
MLP-vs-CNN comparison on the digits (workers, events, member runs), its 422s naming the
member field, and the compare page's model choice with its shareable link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.nn.families.registry import trainer_for
from app.nn.spec.experiment import validate_spec
from tests.nn.compare.test_architectures import DIGITS as ENGINE_DIGITS
from tests.web.compare.test_api import comparison_events, wait_comparison
from tests.web.service import TERMINAL, app_client, make_settings

DIGITS = {**ENGINE_DIGITS, "seed": 2}  # the engine test's small digits, another seed


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("arch"))) as c:
        yield c


def test_mlp_vs_cnn_round_trips_through_the_api(client: TestClient) -> None:
    body = {"base": DIGITS, "members": [{}, {"overrides": {"family": "mlp"}}]}
    created = client.post("/api/comparisons", json=body)
    assert created.status_code == 201, created.text
    view = wait_comparison(client, created.json()["id"], TERMINAL)
    assert view["status"] == "finished" and view["mode"] == "independent", view
    assert "independent initial weights" in view["mode_reason"]
    assert view["spec"]["members"][1]["overrides"] == {"family": "mlp"}  # as asked
    assert [m["label"] for m in view["members"]] == ["CNN 2 conv", "MLP 32x32"]
    runs = [client.get(f"/api/runs/{m['run_id']}").json() for m in view["members"]]
    assert runs[1]["spec"]["family"] == "cnn" and runs[1]["spec"]["cnn"]["conv"] == []
    # Parameter counts: what each member's own spec builds, in the final table and the
    # start events.
    want = [
        sum(p.numel() for p in trainer_for(validate_spec(r["spec"])).model.parameters())
        for r in runs
    ]
    rows = view["summary"]["members"]
    assert [r["params"] for r in rows] == want and want[0] != want[1]
    assert [r["initial_weights"] for r in rows] == ["shared", "independent"]
    starts = [e for e in comparison_events(client, view["id"]) if e["type"] == "start"]
    assert sorted((e["member"], e["params"], e["initial_weights"]) for e in starts) == [
        (0, want[0], "shared"),
        (1, want[1], "independent"),
    ]


@pytest.mark.parametrize(
    ("base", "overrides", "field"),
    [
        ({"data": {"samples": 50}}, {"family": "cnn"}, "members.1.family"),
        ({"family": "transformer"}, {"rnn": {"cell": "gru"}}, "members.1.rnn"),
        ({"family": "rnn"}, {"rnn": {"cell": "nope"}}, "members.1.rnn.cell"),
    ],
)
def test_incompatible_members_are_422_naming_the_member_field(
    client: TestClient, base: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/comparisons", json={"base": base, "members": [{}, {"overrides": overrides}]}
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["detail"]] == [field]


def _form(page: str) -> list[tuple[str, str]]:
    """The compare form's fields as a browser would post them (inputs, checked boxes and
    selected options)."""
    items = []
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if not name or not value or name.group(1).startswith("ui.action"):
            continue
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        items.append((name.group(1), value.group(1)))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        first = re.search(r'<option value="([^"]*)"', body)
        value = chosen or first
        items.append((name, value.group(1) if value else ""))
    return items


def test_the_page_offers_the_base_familys_models_and_links_them(client: TestClient) -> None:
    base = "fam=rnn&rnn=dataset:parity,length:6,samples:40&ep=1"
    page = client.get(f"/compare?{base}&m=-&m=-").text
    select = re.search(r'name="members\.1\.model"[^>]*>(.*?)</select>', page, re.S)
    assert select and re.findall(r'<option value="([^"]*)"', select.group(1)) == [
        "",
        "cell:rnn_tanh",
        "cell:rnn_relu",
        "cell:gru",
    ]
    posted = post_form(client, [*_without(page), ("members.1.model", "cell:gru")])
    assert posted.status_code == 200, posted.text
    url = posted.headers["hx-replace-url"]
    members = [v for k, v in parse_qsl(urlsplit(url).query) if k == "m"]
    assert members[0] == "-" and "cell:gru" in members[1]
    # The link reopens the same comparison: GRU chosen in member 2's select, its label.
    again = client.get(url).text
    chosen = re.search(r'name="members\.1\.model"[^>]*>.*?value="([^"]+)" selected', again, re.S)
    assert chosen and chosen.group(1) == "cell:gru"
    assert 'placeholder="GRU"' in again and 'placeholder="LSTM"' in again
    # Back to the base model: the member's override goes.
    back = post_form(client, [*_without(again), ("members.1.model", "")])
    back_url = back.headers["hx-replace-url"]
    assert [v for k, v in parse_qsl(urlsplit(back_url).query) if k == "m"] == ["-", "-"]


def _without(page: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in _form(page) if k != "members.1.model"]


def test_a_cnn_base_offers_the_mlp_on_the_pixels(client: TestClient) -> None:
    page = client.get("/compare?fam=cnn&ep=1&m=-&m=-").text
    posted = post_form(client, [*_without(page), ("members.1.model", "mlp")])
    url = posted.headers["hx-replace-url"]
    member = [v for k, v in parse_qsl(urlsplit(url).query) if k == "m"][1]
    assert "cnn.conv~[]" in member  # the link spells the network, not the choice
    again = client.get(url).text
    assert 'placeholder="MLP 32x32"' in again and 'placeholder="CNN 2 conv"' in again
    chosen = re.search(r'name="members\.1\.model"[^>]*>.*?value="([^"]+)" selected', again, re.S)
    assert chosen and chosen.group(1) == "mlp"


def post_form(client: TestClient, items: list[tuple[str, str]]) -> Any:
    """Post repeated names in order, as a browser does (the last value of a name wins)."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return client.post("/ui/compare/form", content=urlencode(items), headers=headers)


def test_model_choices_follow_the_servers_limits(tmp_path: Path) -> None:
    """A base valid only under raised limits (200 units) still offers choices made from
    it ("one more layer" repeats its 200-unit layer), not from the default spec."""
    with app_client(make_settings(tmp_path, max_units=256)) as wide:
        page = wide.get("/compare?l=200:tanh&ep=1&m=-&m=-").text
        posted = post_form(wide, [*_without(page), ("members.1.model", "deeper")])
        member = [
            v for k, v in parse_qsl(urlsplit(posted.headers["hx-replace-url"]).query) if k == "m"
        ][1]
        assert member == "l~200:tanh,200:tanh"
