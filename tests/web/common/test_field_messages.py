"""Error messages on the pages name the control by its label in a plain sentence; the API
keeps the spec path (issue 14: "train.optimizer.lr expected a number, got ''")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from app.web.common.field_messages import label_of, plain
from tests.web.service import app_client, make_settings

BASE = [
    ("ui.layers", "1"),
    ("data.dataset", "circle"),
    ("data.features", ""),
    ("data.features", "x1"),
    ("data.features", "x2"),
    ("model.layers.0.units", "4"),
    ("model.layers.0.activation", "tanh"),
    ("train.optimizer.name", "adam"),
    ("train.optimizer.lr", "0.03"),
]
INTERNAL = re.compile(r"Input should|expected a number|got ''|train\.|data\.|model\.|value_error")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("messages"))) as c:
        yield c


def post(client: TestClient, *changes: tuple[str, str]) -> str:
    replaced = {k for k, _ in changes}
    items = [(k, v) for k, v in BASE if k not in replaced] + list(changes)
    response = client.post(
        "/ui/controls",
        content=urlencode(items),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    return response.text


def shown(html: str) -> list[str]:
    """The texts a person reads: the summary's items and the messages by the controls."""
    found = re.findall(r'<li data-field="[^"]+">(.*?)</li>', html)
    found += re.findall(r'<small class="error"[^>]*>(.*?)</small>', html)
    return [unescape(t) for t in found]


def test_an_empty_learning_rate_reads_as_a_sentence(client: TestClient) -> None:
    html = post(client, ("train.optimizer.lr", ""))
    assert shown(html) == ["Learning rate is empty: enter a number."] * 2
    assert 'data-field="train.optimizer.lr"' in html  # the control is still marked
    # The API keeps the path and the validator's own words.
    api = client.post("/api/runs", json={"train": {"optimizer": {"name": "adam", "lr": ""}}})
    assert api.status_code == 422
    assert api.json()["detail"] == [
        {"field": "train.optimizer.lr", "message": "expected a number, got ''"}
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("data.samples", "x"), "Samples must be a whole number."),
        (("data.noise", "5"), "Noise must be at most 1."),
        (("seed", "-1"), "Seed must be at least 0."),
        (("model.layers.0.units", "999"), "Units of layer h1 must be between 1 and 128"),
        (("train.batch_size", "0"), "Batch size must be between 1 and 5000"),
        (("train.epochs", "1.5"), "Epochs must be a whole number."),
        (("train.optimizer.beta1", "2"), "beta1 (optimizer) must be between"),
        (("train.optimizer.lr", "abc"), "Learning rate must be a number, not 'abc'."),
        (("data.val_fraction", "0.9"), "Validation share: train_fraction + val_fraction"),
    ],
)
def test_page_messages_name_the_control(
    client: TestClient, change: tuple[str, str], expected: str
) -> None:
    texts = shown(post(client, change))
    assert texts and all(t.startswith(expected) for t in texts), texts
    assert not any(INTERNAL.search(t) for t in texts if not t.startswith("Validation")), texts


def test_every_control_of_the_playground_has_its_own_label(client: TestClient) -> None:
    """label_of agrees with the label each control shows (so messages and page match)."""
    on = [
        ("train.grad_clip.enabled", "on"),
        ("train.early_stopping.enabled", "on"),
        ("data.val_fraction", "0.2"),
    ]
    html = post(client, *on)
    pairs = re.findall(
        r'<label class="field[^"]*"[^>]*>\s*<span>([^<]+)</span>\s*'
        r'(?:\{%[^%]*%\})?\s*<(?:input|select)[^>]*name="([^"]+)"',
        html,
    )
    assert len(pairs) >= 20, pairs
    checks = re.findall(
        r'<input type="checkbox" name="([^"]+)" value="on"[^>]*>\s*<span>([^<]+)', html
    )
    assert len(checks) >= 4, checks
    for name, shown_label in [(n, lab) for lab, n in pairs] + checks:
        name = name.removesuffix(".enabled")  # the on/off box of an optional group
        if name.startswith("model.layers."):
            assert label_of(name).startswith(shown_label), (name, shown_label)
        elif name.startswith(("train.optimizer.", "train.schedule.")) and shown_label not in (
            "Optimizer",
            "Learning rate",
            "LR schedule",
        ):  # a parameter of the chosen one, shown by its own name
            what = "optimizer" if name.startswith("train.optimizer.") else "LR schedule"
            assert label_of(name) == f"{shown_label} ({what})", name
        else:
            assert label_of(name) == shown_label, name


def test_a_broken_link_names_controls_too(client: TestClient) -> None:
    html = client.get("/?n=abc").text
    notice = unescape(re.search(r'<div class="notice"[^>]*>(.*?)</div>', html, re.S).group(1))
    assert "Samples must be a whole number." in notice and "Input should" not in notice


def test_members_and_racers_are_named() -> None:
    assert label_of("members.1.optimizer.lr") == "Member 2: Learning rate"
    assert label_of("racers.0.beta1") == "Racer 1: beta1"
    assert plain("base.train.epochs", "0 is out of range [1, 10000]") == (
        "Epochs must be between 1 and 10000 (it is 0)."
    )
