"""The recurrent family's controls: each one's label is the one its messages use, a bad value
is named by its label, and choosing another family answers with the page for its defaults."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from app.web.common.field_messages import label_of
from tests.web.common.test_field_messages import shown
from tests.web.service import app_client, make_settings

RNN = [("family", "rnn"), ("ui.family", "rnn"), ("ui.layers", "0"), ("rnn.cell", "lstm")]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("rnn-controls"))) as c:
        yield c


def post(client: TestClient, items: list[tuple[str, str]]) -> tuple[int, str, dict[str, str]]:
    response = client.post(
        "/ui/controls",
        content=urlencode(items),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return response.status_code, response.text, dict(response.headers)


def test_every_recurrent_control_has_its_own_label(client: TestClient) -> None:
    status, html, headers = post(client, RNN)
    assert status == 200 and headers["hx-replace-url"].startswith("/?fam=rnn")
    control = r'<(?:input|select)[^>]*name="(rnn\.[^"]+|family)"'
    pairs = re.findall(r'<label class="field[^"]*"[^>]*>\s*<span>([^<]+)</span>\s*' + control, html)
    checks = re.findall(
        r'<input type="checkbox" name="(rnn\.[^"]+)" value="on"[^>]*>\s*<span>([^<]+)', html
    )
    assert len(pairs) >= 9 and checks == [("rnn.layer_norm", "LayerNorm")], pairs
    for shown_label, name in pairs:
        assert label_of(name) == shown_label, name
    assert 'name="data.features"' not in html  # the points' controls are not the family's
    status, html, _ = post(client, [*RNN, ("rnn.length", "500"), ("rnn.cell", "gru")])
    assert status == 200
    assert "Length T must be between 1 and 200 (it is 500)." in shown(html)


def test_choosing_another_family_opens_its_defaults_with_the_seed_kept(client: TestClient) -> None:
    status, _, headers = post(client, [("family", "rnn"), ("ui.family", "mlp"), ("seed", "7")])
    assert status == 200 and headers["hx-redirect"] == "/?s=7&fam=rnn"
    page = client.get("/?s=7&fam=rnn")
    assert 'id="sequence-card"' in page.text and 'name="rnn.cell"' in page.text
    status, _, headers = post(client, [*RNN, ("family", "mlp")])
    assert headers["hx-redirect"] == "/"


def test_an_unknown_family_is_a_field_message_not_a_switch(client: TestClient) -> None:
    status, html, headers = post(client, [("family", "capsule"), ("ui.family", "mlp")])
    assert status == 200 and "hx-redirect" not in headers
    assert any(t.startswith("Model family") for t in shown(html)), shown(html)


@pytest.mark.parametrize("family", ["mlp", "cnn", "rnn", "transformer"])
def test_the_network_panel_shows_for_the_families_that_end_in_dense_layers(
    client: TestClient, family: str
) -> None:
    """The Network panel edits spec.model.layers: the dense head of the MLP, the CNN and the
    recurrent nets. A transformer has none, so the panel is hidden (its fields stay, so the
    form still round-trips)."""
    from app.nn.families.registry import FAMILIES
    from app.nn.spec.experiment import validate_spec

    page = client.get(f"/?fam={family}").text
    tag = re.search(r'<section class="panel" id="panel-network"[^>]*>', page)
    assert tag is not None
    assert ("hidden" in tag.group(0)) == (not FAMILIES[family].dense_head)

    # The flag says what the family's model does: another head changes its parameters
    # exactly when the family has one.
    def params(extra: dict[str, object]) -> int:
        trainer = FAMILIES[family].trainer(validate_spec({"family": family, **extra}))  # type: ignore[misc]
        return sum(p.numel() for p in trainer.model.parameters())

    other_head = {"model": {"layers": [{"units": 7}, {"units": 5}]}}
    assert (params(other_head) != params({})) == FAMILIES[family].dense_head
