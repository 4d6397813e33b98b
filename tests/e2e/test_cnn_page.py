"""The convolutional family in headless Chromium: choose it on the page, build, Play, and
watch its live views (filters, feature maps, probabilities, confusion matrix, misclassified
strip, saliency); clicking a test image makes the worker look at that one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_js
from tests.e2e.test_playground import settle
from tests.web.service import LiveServer

CANVAS_INKED = """(id => { const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) dark++; return dark; })"""


def test_choose_the_family_build_play_and_watch(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/")
    page.select_option("select[name='family']", "cnn")  # the page reloads with its views
    page.wait_for_selector("#cnn-filters", state="visible")
    assert "fam=cnn" in page.url and not page.is_visible("#plot-boundary")
    # Its controls round-trip: two more conv layers pool 8x8 down to 1x1, then fail to.
    page.click("button[value='add_conv']")
    page.wait_for_selector("input[name='cnn.conv.2.channels']")
    settle(page)
    page.click("button[value='add_conv']")
    error = page.wait_for_selector(".error[data-field='cnn.conv.3.pool']")
    assert "conv layer 4" in error.inner_text()
    page.click("button[value='remove_conv:3']")
    wait_js(page, "!document.querySelector(\".error[data-field='cnn.conv.3.pool']\")")
    settle(page)
    page.click("button[value='remove_conv:2']")
    wait_js(page, "!document.querySelector(\"input[name='cnn.conv.2.channels']\")")
    settle(page)  # Play trains until paused (the page's default)

    page.click("#btn-play")
    wait_js(page, "window.__cnn && window.__cnn.pictures >= 3 && window.__cnn.step > 0")
    # Filters: 8 of 1x3x3 then 16 of 8x3x3; feature maps of the first test image.
    assert page.locator("#cnn-filters .cnn-layer").count() == 2
    assert page.locator("#cnn-filters canvas").count() == 8 + 16 * 8
    assert page.locator("#cnn-maps canvas").count() == 8 + 16
    assert page.locator("#cnn-probs .cnn-prob").count() == 10
    assert page.locator("#cnn-confusion td").count() == 100
    assert page.evaluate(CANVAS_INKED + "('cnn-input')") > 0  # the digit is drawn
    assert page.evaluate(CANVAS_INKED + "('cnn-saliency')") > 0
    cells = "[...document.querySelectorAll('#cnn-confusion td')]"
    total = page.evaluate(f"{cells}.reduce((a, td) => a + (+td.textContent || 0), 0)")
    assert total == 899  # every test digit counted once (half of the 1,797 are for testing)
    # Click the seventh test image: the next pictures look at it.
    page.click("#cnn-gallery figure[data-index='6']")
    wait_js(page, "window.__cnn.viewed === 6")
    assert "test image 6" in page.inner_text("#cnn-input-caption")
    # The gallery shows a page of 120 test digits at a time; the next page's are choosable.
    assert page.locator("#cnn-gallery figure").count() == 120
    shown = page.inner_text("#cnn-gallery-range")
    assert shown.startswith("1–120 of ") and int(shown.split(" of ")[1]) > 240, shown
    page.click("#cnn-gallery-next")
    page.wait_for_selector("#cnn-gallery figure[data-index='130']")
    assert page.inner_text("#cnn-gallery-range").startswith("121–240 of ")
    page.click("#cnn-gallery figure[data-index='130']")
    wait_js(page, "window.__cnn.viewed === 130")
    wait_js(page, "!!document.querySelector(\"#cnn-gallery figure.chosen[data-index='130']\")")
    wait_js(page, "window.__cnn.acc > 0.5", 120_000)  # it learns while we watch
    # The page's picture rate over 3 s of training (a figure, bench/images.py's companion).
    before = page.evaluate("[window.__cnn.pictures, performance.now(), window.__cnn.drawMs]")
    page.wait_for_timeout(3000)
    after = page.evaluate("[window.__cnn.pictures, performance.now(), window.__cnn.drawMs]")
    seconds = (after[1] - before[1]) / 1000
    figures = {
        "pictures_per_s": round((after[0] - before[0]) / seconds, 1),
        "draw_ms_per_picture": round((after[2] - before[2]) / max(1, after[0] - before[0]), 2),
    }
    (artifacts / "cnn-page-figures.json").write_text(json.dumps(figures))
    assert figures["pictures_per_s"] > 0, figures
    page.screenshot(path=str(artifacts / "cnn-page.png"), full_page=True)
    assert page.locator("#cnn-wrong figure, #cnn-wrong p").count() >= 1
    page.click("#btn-pause")
