"""Every page is usable on a phone (390x844) and a desktop (1920x1080): nothing overflows
sideways and the main controls are on screen (issue 14: main was 798 px wide and /runs 979 px
on a 390 px phone)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import wait_js
from tests.web.service import TERMINAL, LiveServer, wait_for

VIEWPORTS = {"phone": (390, 844), "desktop": (1920, 1080)}
# What sticks out past the right edge (the widest few), for the failure message.
OVERFLOW = """(() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 1) {
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' && p.getBoundingClientRect().right <= w + 1) {
          clipped = true; break;
        }
      }
      if (!clipped) out.push([el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''),
        Math.round(r.right)]);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: w, out: out.slice(0, 8)};
})()"""


@pytest.fixture(scope="module")
def finished_run(server: LiveServer) -> str:
    spec = {"data": {"samples": 100}, "train": {"epochs": 5}}
    run_id: str = httpx.post(server.http + "/api/runs", json=spec).json()["id"]

    def ended() -> bool:
        return httpx.get(f"{server.http}/api/runs/{run_id}").json()["status"] in TERMINAL

    wait_for(ended, 90, "the run to finish")
    return run_id


@pytest.fixture(params=list(VIEWPORTS))
def sized(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def pages(run_id: str) -> list[str]:
    return [
        "/",
        "/?d=sine&l=8:tanh",
        "/compare",
        "/race",
        "/lessons",
        "/lessons/momentum",
        "/runs",
        f"/runs/{run_id}",
        "/docs",
        "/explore",
    ]


def no_sideways_overflow(page: Any, path: str) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"] and not found["out"], (path, found)


@pytest.mark.slow
def test_no_page_overflows_sideways(sized: Any, server: LiveServer, finished_run: str) -> None:
    for path in pages(finished_run):
        sized.goto(server.http + path)
        sized.wait_for_load_state("networkidle")
        if path == "/docs":
            wait_js(sized, "document.querySelectorAll('.opblock').length")
        sized.wait_for_timeout(300)  # plots size themselves to their cards
        no_sideways_overflow(sized, path)


def test_the_playground_is_usable_at_both_sizes(sized: Any, server: LiveServer) -> None:
    sized.goto(server.http + "/?ep=3000&n=100")
    width = sized.viewport_size["width"]
    for selector in ("#btn-play", "#btn-reset", "#plot-boundary", "#chart-loss", "#controls"):
        box = sized.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
    sized.click("#btn-play")
    wait_js(sized, "document.getElementById('status').dataset.status === 'running'", 90_000)
    sized.wait_for_timeout(1500)  # live drawing must not widen anything either
    no_sideways_overflow(sized, "/ (training)")
    sized.click("#btn-reset")
    wait_js(sized, "document.getElementById('transport').dataset.run === ''")
