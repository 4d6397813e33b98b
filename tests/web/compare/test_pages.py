"""The Compare and race pages server-side: links, lessons, form round trips, presets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.nn.compare.spec import MAX_MEMBERS
from app.web.compare.pages import COLORS
from tests.web.service import app_client, make_settings

ROOT = Path(__file__).resolve().parents[3]
NOTICE = re.compile(r'class="notice" role="status">([^<]*)<')


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("pages"))) as c:
        yield c


def member_form(**extra: str) -> dict[str, str]:
    form = {
        "ui.members": "2",
        "members.0.optimizer.name": "sgd",
        "members.0.optimizer.lr": "0.1",
        "members.1.optimizer.name": "momentum",
        "members.1.optimizer.lr": "0.1",
        "members.1.optimizer.momentum": "0.8",
        "members.1.optimizer.dampening": "0",
        "data.dataset": "xor",
        "ui.layers": "1",
        "model.layers.0.units": "4",
        "model.layers.0.activation": "tanh",
    }
    return {**form, **extra}


def test_the_bare_page_redirects_to_an_explicit_shareable_default(client: TestClient) -> None:
    response = client.get("/compare", follow_redirects=False)
    assert response.status_code == 307
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and not NOTICE.search(page.text)
    assert page.text.count('name="members.') > 0
    assert len(re.findall(r'name="members\.\d+\.optimizer\.name"', page.text)) == 3


def test_a_link_restores_the_comparison_and_a_bad_one_says_why(client: TestClient) -> None:
    page = client.get("/compare?d=moons&ep=7&m=o~adam!label~Mine&m=o~rmsprop!lr~0.002")
    assert not NOTICE.search(page.text)
    assert 'value="Mine"' in page.text and 'value="0.002"' in page.text
    assert re.search(r'<option value="moons"|value="moons" checked', page.text)
    bad = client.get("/compare?d=moons&m=o~adam&m=o~adam!lr~100")
    notice = NOTICE.search(bad.text)
    assert notice and "member 2" in notice.group(1) and "must be between" in notice.group(1)
    assert "showing the default comparison" in notice.group(1)
    assert "unknown URL key" in NOTICE.search(client.get("/compare?zz=1&m=-&m=-").text).group(1)  # type: ignore[union-attr]


def test_lessons_open_with_their_members_and_overrides(client: TestClient) -> None:
    page = client.get("/compare?lesson=momentum")
    assert "Lesson 11" in NOTICE.search(page.text).group(1)  # type: ignore[union-attr]
    labels = re.findall(r'name="members\.\d+\.label" value="([^"]*)"', page.text)
    assert labels == ["SGD", "momentum", "Nesterov"]
    arch = client.get("/compare?lesson=nonlinearity")
    # The base is the first member (linear); the other keeps its model override.
    assert "activation=tanh (layers 1, 2, 3)" in arch.text
    for slug, words in (("nope", "unknown lesson"), ("softmax-temperature", "single experiment")):
        text = NOTICE.search(client.get(f"/compare?lesson={slug}").text)
        assert text and words in text.group(1), (slug, text)


def test_a_lessons_base_experiment_is_one_its_members_train(client: TestClient) -> None:
    """The base shown for a lesson is its first member: no activation no member uses."""
    from app.lessons.registry import LESSONS, member_specs

    for slug, lesson in LESSONS.items():
        if lesson.comparison is None or not member_specs(lesson)[0][1].model.layers:
            continue
        page = client.get(f"/compare?lesson={slug}").text
        select = re.search(r'name="model\.layers\.0\.activation"[^>]*>(.*?)</select>', page, re.S)
        assert select, slug
        shown = re.search(r'<option value="([a-z_]+)"[^>]*selected', select.group(1))
        first = member_specs(lesson)[0][1].model.layers[0].activation
        assert shown and shown.group(1) == first, (slug, shown and shown.group(1), first)


def test_the_form_validates_members_by_field_and_writes_the_link(client: TestClient) -> None:
    bad = client.post("/ui/compare/form", data=member_form(**{"members.1.optimizer.lr": "100"}))
    assert bad.status_code == 200 and "hx-replace-url" not in bad.headers
    assert 'data-field="members.1.optimizer.lr"' in bad.text and 'value="100"' in bad.text
    good = client.post("/ui/compare/form", data=member_form())
    url = good.headers["hx-replace-url"]
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert ("d", "xor") in query and ("m", "lr~0.1!o~momentum!op~momentum:0.8") in query
    # Switching a member's optimizer drops the old optimizer's parameters.
    switched = client.post(
        "/ui/compare/form",
        data=member_form(**{"members.1.optimizer.name": "adam", "members.1.optimizer.lr": "0.01"}),
    )
    assert 'name="members.1.optimizer.beta1"' in switched.text
    assert 'name="members.1.optimizer.momentum"' not in switched.text


def test_presets_add_and_remove_members(client: TestClient) -> None:
    sweep = client.post("/ui/compare/form", data=member_form(**{"ui.action": "preset:lr-sweep"}))
    assert len(re.findall(r'name="members\.\d+\.optimizer\.name"', sweep.text)) == 4
    assert 'value="lr=0.003"' in sweep.text
    adamw = client.post("/ui/compare/form", data=member_form(**{"ui.action": "preset:adam-adamw"}))
    assert (
        'value="AdamW"' in adamw.text
        and 'name="members.1.weight_decay" step="any" value="0.01"' in adamw.text
    )
    added = client.post("/ui/compare/form", data=member_form(**{"ui.action": "add_member"}))
    assert 'name="ui.members" value="3"' in added.text
    removed = client.post("/ui/compare/form", data=member_form(**{"ui.action": "remove_member:0"}))
    assert 'name="ui.members" value="2"' in removed.text  # two is the minimum
    full = member_form(**{"ui.members": str(MAX_MEMBERS), "ui.action": "add_member"})
    assert (
        f'name="ui.members" value="{MAX_MEMBERS}"'
        in client.post("/ui/compare/form", data=full).text
    )


def test_play_with_errors_is_refused_in_the_panel(client: TestClient) -> None:
    response = client.post("/ui/compare/play", data=member_form(**{"members.0.optimizer.lr": "-1"}))
    assert response.status_code == 422 and "Fix the highlighted settings" in response.text


def test_race_page_and_form(client: TestClient) -> None:
    page = client.get("/race")
    assert page.status_code == 200 and 'id="race-contour"' in page.text
    form = {
        "function": "rosenbrock",
        "steps": "100",
        "ui.racers": "2",
        "racers.0.name": "sgd",
        "racers.0.lr": "0.001",
    }
    form |= {"racers.1.name": "adam", "racers.1.lr": "-3", "start.0": "", "start.1": ""}
    bad = client.post("/ui/race/form", data=form)
    assert 'data-field="racers.1.lr"' in bad.text
    good = client.post(
        "/ui/race/form", data={**form, "racers.1.lr": "0.01", "ui.action": "add_racer"}
    )
    assert 'name="ui.racers" value="3"' in good.text and "(-1.5, 2)" in good.text  # its own start


def test_member_colours_are_one_list(client: TestClient) -> None:
    css = (ROOT / "static" / "compare.css").read_text()
    for i, color in enumerate(COLORS):
        assert f'[data-member="{i}"], [data-racer="{i}"] {{ --member: {color}; }}' in css
