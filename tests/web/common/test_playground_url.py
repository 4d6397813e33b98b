"""The playground's link defaults: Play trains until paused at the page's pace, unless a
link names its epochs, says up=0, or names another pace; links round-trip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.nn.spec.experiment import validate_spec
from app.nn.spec.url import from_query
from app.web.common.playground_url import PAGE_PACE, page_query, with_page_defaults
from tests.web.service import app_client, make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("links"))) as c:
        yield c


def reopen(query: dict[str, str]) -> dict[str, object]:
    return validate_spec(with_page_defaults(query, from_query(query))).model_dump()


@pytest.mark.parametrize(
    ("link", "until_paused", "epochs", "pace"),
    [
        ({}, True, 10_000, PAGE_PACE),
        ({"ep": "300"}, False, 300, PAGE_PACE),
        ({"up": "0"}, False, 100, PAGE_PACE),
        ({"pc": "0"}, True, 10_000, 0.0),
        ({"up": "1", "ep": "5", "pc": "15"}, True, 10_000, 15.0),
    ],
)
def test_a_link_opens_with_the_page_defaults_where_it_is_silent(
    link: dict[str, str], until_paused: bool, epochs: int, pace: float
) -> None:
    spec = validate_spec(with_page_defaults(link, from_query(link)))
    assert (spec.train.until_paused, spec.train.epochs, spec.stream.pace) == (
        until_paused,
        epochs,
        pace,
    )
    assert reopen(page_query(spec)) == spec.model_dump()


def test_a_bounded_spec_at_the_default_epochs_says_so_in_its_link() -> None:
    spec = validate_spec({"stream": {"pace": PAGE_PACE}})
    assert page_query(spec) == {"up": "0"}


def test_the_page_trains_until_paused_and_its_address_stays_short(client: TestClient) -> None:
    html = client.get("/").text
    assert 'name="train.until_paused" value="on" checked' in html
    assert f'<option value="{PAGE_PACE:g}" selected>' in html
    html = client.get("/?d=spiral&ep=300&pc=15").text
    assert 'name="train.until_paused" value="on" checked' not in html
    assert '<option value="15" selected>' in html
    link = {"d": "spiral", "ep": "300", "pc": "15"}
    assert page_query(validate_spec(with_page_defaults(link, from_query(link)))) == link
