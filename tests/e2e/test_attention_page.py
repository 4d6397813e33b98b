"""The transformer family on the playground in headless Chromium: the family choice swaps
the controls and the views, Play draws attention maps live (uint8 maps painted on canvases),
the example buttons and the temperature slider steer the run's view, and the link keeps it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_js
from tests.e2e.test_playground import settle
from tests.web.service import LiveServer

PAINTED = """(() => { const c = document.querySelector('#attn-maps canvas');
  if (!c || !c.width) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let blue = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255 && d[i] < 250) blue++;
  return blue; })()"""


def visible(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).display !== 'none'")
    )


def test_choose_the_family_train_and_watch_the_maps(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/")
    assert visible(page, ".boundary-card") and not visible(page, "#attn-card")
    page.select_option("select[name='family']", "transformer")
    page.wait_for_selector("#panel-transformer")
    wait_js(page, "location.search.includes('fam=transformer')")
    assert not visible(page, ".boundary-card") and visible(page, "#attn-card")
    assert page.input_value("select[name='train.optimizer.name']") == "adamw"  # its default
    page.fill("input[name='transformer.length']", "6")
    page.dispatch_event("input[name='transformer.length']", "change")
    wait_js(page, "location.search.includes('length:6')")
    page.fill("input[name='transformer.d_model']", "30")  # 30 does not divide into 4 heads
    page.fill("input[name='transformer.heads']", "4")
    page.dispatch_event("input[name='transformer.heads']", "change")
    error = page.wait_for_selector(".error[data-field='transformer.heads']")
    assert "divisible" in error.inner_text()
    page.fill("input[name='transformer.d_model']", "32")
    page.dispatch_event("input[name='transformer.d_model']", "change")
    wait_js(page, "!document.querySelector(\".error[data-field='transformer.heads']\")")
    settle(page)
    shared = page.url

    page.click("#btn-play")
    wait_js(page, "window.__bpAttention && window.__bpAttention.maps >= 3")
    last = page.evaluate("window.__bpAttention.last")
    assert last["shape"] == [2, 4, 6, 6]
    assert page.locator("#attn-maps canvas").count() == 8  # 2 blocks x 4 heads
    assert wait_js(page, PAINTED) > 0
    wait_js(page, "window.__bpAttention.evals >= 1")  # per-position accuracy drawn
    assert "sequence accuracy" in page.inner_text("#attn-seq")
    # The maps' drawing rate while training (the note's figure).
    before = page.evaluate("window.__bpAttention.maps")
    page.wait_for_timeout(2000)
    maps_per_s = (page.evaluate("window.__bpAttention.maps") - before) / 2.0
    page.click("#attn-examples button[data-example='2']")
    wait_js(page, "window.__bpAttention.last && window.__bpAttention.last.example === 2")
    assert page.get_attribute("#attn-examples button[data-example='2']", "aria-pressed") == "true"
    page.screenshot(path=str(artifacts / "attention-playing.png"), full_page=True)
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    (artifacts / "attention-figures.json").write_text(json.dumps({"maps_per_s": maps_per_s}))
    assert maps_per_s >= 2, maps_per_s

    other = page.context.new_page()
    other.goto(shared)
    assert other.input_value("select[name='family']") == "transformer"
    assert other.input_value("input[name='transformer.length']") == "6"
    assert other.input_value("input[name='transformer.heads']") == "4"


def test_sampling_follows_the_temperature(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?fam=transformer&transformer=dataset:text,causal:1,length:12")
    page.wait_for_selector("#panel-transformer")
    page.click("#btn-play")
    wait_js(page, "document.getElementById('attn-sample').textContent.includes('greedy')")
    page.fill("#attn-temperature", "0.3")
    page.dispatch_event("#attn-temperature", "input")
    wait_js(page, "window.__bpAttention.patches >= 1")
    wait_js(page, "document.getElementById('attn-sample').textContent.includes('T = 0.30')")
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
