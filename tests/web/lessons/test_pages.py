"""The lessons gallery and lesson pages over plain HTTP: every lesson renders, every link
opens exactly the lesson's experiment, unknown slugs are a 404 with a way back."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient

from app.lessons.registry import LESSONS, WATCH, member_specs
from app.nn.spec.experiment import validate_spec
from app.nn.spec.url import from_query
from app.settings import Settings
from app.web.lessons import pages as pages_lessons


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    app.state.templates = Jinja2Templates(directory="templates")
    app.state.settings = Settings()
    app.include_router(pages_lessons.router)
    with TestClient(app) as c:
        yield c


def text_of(page: str) -> str:
    """Visible text, whitespace collapsed (enough to find sentences in the page)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def hrefs(page: str, marker: str) -> list[str]:
    """The href of every <a> carrying `marker` (an id="..." or class="..." attribute)."""
    tags = re.findall(r"<a [^>]*>", page)
    return [
        html.unescape(re.search(r'href="([^"]*)"', t).group(1))  # type: ignore[union-attr]
        for t in tags
        if marker in t
    ]


def spec_of(link: str, slug: str) -> object:
    """The spec a playground link opens; it must carry the lesson in its fragment."""
    parts = urlsplit(link)
    assert parts.path == "/" and parts.fragment.startswith(f"lesson={slug}"), link
    return validate_spec(from_query(dict(parse_qsl(parts.query, keep_blank_values=True))))


def test_the_gallery_lists_every_lesson_once_in_sections(client: TestClient) -> None:
    r = client.get("/lessons")
    assert r.status_code == 200
    page = r.text
    cards = re.findall(r'<a class="lesson-card" href="/lessons/([a-z0-9-]+)"', page)
    assert sorted(cards) == sorted(LESSONS) and len(cards) == len(LESSONS) >= 24
    text = text_of(page)
    for lesson in LESSONS.values():
        assert lesson.title in text and lesson.summary in text
    # Grouped by theme: several sections, none of them empty, cards in concept order.
    sections = re.findall(r'<section class="lesson-group"(.*?)</section>', page, re.S)
    assert len(sections) >= 5
    assert all("lesson-card" in s for s in sections)
    for section in sections:
        numbers = [int(n) for n in re.findall(r'<span class="lesson-number">(\d+)</span>', section)]
        assert numbers == sorted(numbers) and numbers
    assert 'href="/lessons" aria-current="page"' in page


@pytest.mark.parametrize("slug", list(LESSONS))
def test_every_lesson_page_explains_and_opens_its_experiment(client: TestClient, slug: str) -> None:
    lesson = LESSONS[slug]
    r = client.get(f"/lessons/{slug}")
    assert r.status_code == 200
    page, text = r.text, text_of(r.text)
    ex = lesson.explanation
    for sentence in (lesson.title, ex.try_it, ex.see, ex.why):
        assert sentence in text
    for key in lesson.watch:
        assert WATCH[key] in text
        assert f'data-watch="{key}"' in page
    members = member_specs(lesson)
    if lesson.comparison is None:
        (link,) = hrefs(page, 'id="open-lesson"')
        assert spec_of(link, slug) == members[0][1]
        (play,) = hrefs(page, 'id="play-lesson"')
        assert play.endswith("&autoplay") and spec_of(play, slug) == members[0][1]
    else:
        assert hrefs(page, 'id="open-lesson"') == [f"/compare?lesson={slug}"]
        opened = [spec_of(link, slug) for link in hrefs(page, 'class="open-member"')]
        assert opened == [spec for _, spec in members]
        for label, _ in members:
            assert label in text


def test_lesson_pages_link_to_their_neighbours(client: TestClient) -> None:
    slugs = list(LESSONS)
    page = client.get(f"/lessons/{slugs[1]}").text
    assert f'href="/lessons/{slugs[0]}" rel="prev"' in page
    assert f'href="/lessons/{slugs[2]}" rel="next"' in page
    assert 'rel="prev"' not in client.get(f"/lessons/{slugs[0]}").text
    assert 'rel="next"' not in client.get(f"/lessons/{slugs[-1]}").text


@pytest.mark.parametrize("slug", ["no-such-lesson", "Zero-Init", "<b>x", "zero-init-"])
def test_an_unknown_lesson_is_a_404_page_with_a_way_back(client: TestClient, slug: str) -> None:
    r = client.get(f"/lessons/{slug}")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert hrefs(r.text, 'id="back-to-gallery"') == ["/lessons"]
    assert "<b>x" not in r.text  # the slug is echoed escaped
    assert "No lesson called" in text_of(r.text)


def test_the_playground_banner_fragment(client: TestClient) -> None:
    r = client.get("/lessons/zero-init/banner")
    assert r.status_code == 200
    lesson = LESSONS["zero-init"]
    assert lesson.title in text_of(r.text)
    targets = re.findall(r'data-target="([a-z-]+)"', r.text)
    assert len(targets) == len(lesson.watch) and "diagnostics" in targets
    assert "<html" not in r.text  # a fragment, not a page
    assert client.get("/lessons/nope/banner").status_code == 404
