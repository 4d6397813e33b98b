"""Data tools and the loss landscape in headless Chromium: import a TF Playground link through
the page, draw (and remove) a point on the output plot, train on the drawn data, compute
the landscape of the finished run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import landscape_of_finished_run, wait_js
from tests.nn.spec.test_tfp import SPIRAL_LINK
from tests.web.service import LiveServer

SHOWN = (
    "document.getElementById('plot-boundary').data"
    "?.filter(t => t.type === 'scatter' && t.name !== 'drawn' && t.visible !== false)"
    ".reduce((n, t) => n + t.x.length, 0)"
)


def wait_past_navigation(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """wait_js that tolerates the page navigating meanwhile (the import opens a new page)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression)
        except PlaywrightError:  # the execution context went with the old page
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def settle(page: Any) -> None:
    wait_js(page, "!document.querySelector('.htmx-request')", 30_000)
    page.wait_for_timeout(150)


def click_plot(page: Any, fx: float, fy: float, shift: bool = False) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the plot sits at the top, under the toolbar
    box = page.locator("#plot-boundary .nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(x, y)
    if shift:
        page.keyboard.up("Shift")


def test_import_a_tfp_link_draw_points_train_and_see_the_landscape(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(server.http + "/")
    # A bad link: the message names the key, and the experiment on show stays.
    page.fill("#tfp-link", "https://playground.tensorflow.org/#learningRate=abc")
    page.click("#btn-tfp")
    error = wait_js(page, "document.querySelector('#import-result .tool-errors')?.innerText")
    assert "learningRate='abc'" in error and page.url == server.http + "/"

    # A real link opens as the equivalent experiment, with what differs listed.
    page.fill("#tfp-link", SPIRAL_LINK)
    page.click("#btn-tfp")
    wait_past_navigation(
        page, "location.search.includes('d=spiral') && !location.search.includes('tfp=')"
    )
    notes = page.inner_text("#import-result")
    assert "Imported from TensorFlow Playground" in notes and "seed" in notes
    assert page.is_checked("input[name='data.dataset'][value='spiral']")
    units = [page.input_value(f"input[name='model.layers.{i}.units']") for i in range(3)]
    assert units == ["8", "8", "5"]
    assert page.input_value("select[name='train.optimizer.name']") == "sgd"
    assert page.input_value("input[name='train.optimizer.lr']") == "0.01"
    assert wait_js(page, SHOWN) == 500

    # Draw: a click adds a point of the chosen label where it lands.
    page.fill("input[name='train.epochs']", "5")
    page.dispatch_event("input[name='train.epochs']", "change")
    wait_js(page, "location.search.includes('ep=5')")
    settle(page)
    page.click("#btn-draw")
    page.select_option("#draw-label", "0")
    click_plot(page, 0.75, 0.25)  # upper right: x > 0, y > 0
    wait_js(page, "location.search.includes('d=custom') && location.search.includes('pts=')")
    wait_js(page, f"({SHOWN}) === 501")
    key = page.evaluate("window.__bpDraw.key")
    stored = page.request.get(f"{server.http}/api/datasets/{key}").json()
    x, y, label = stored["points"][-1]
    assert x > 1 and y > 1 and label == 0 and stored["count"] == 501
    assert page.is_checked("input[name='data.dataset'][value='custom']")
    settle(page)
    # Shift-click on it removes it again: back to the 500 points of the spiral.
    click_plot(page, 0.75, 0.25, shift=True)
    wait_js(page, "window.__bpDraw.points === 500")
    wait_js(page, f"({SHOWN}) === 500")
    settle(page)
    click_plot(page, 0.25, 0.75)  # lower left, label 0 again
    wait_js(page, f"({SHOWN}) === 501")
    settle(page)
    page.click("#btn-draw")  # draw mode off
    assert "pts=" in page.url

    # Play trains on the drawn data; the finished run's landscape is drawn.
    page.click("#btn-play")
    wait_js(page, "document.getElementById('status').dataset.status === 'finished'", 90_000)
    run_id = page.evaluate("document.getElementById('transport').dataset.run")
    run = page.request.get(f"{server.http}/api/runs/{run_id}").json()
    assert run["spec"]["data"]["dataset"] == "custom" and len(run["spec"]["data"]["points"]) == 501
    assert page.locator(f"#downloads a[href='/api/runs/{run_id}/weights.pt']").count() == 1
    traces = landscape_of_finished_run(page, run, tol=1e-6)
    assert traces[0] == "contour" and len(traces) == 3  # surface, trajectory, current weights
    assert "centre loss" in page.inner_text("#ls-status")
    page.screenshot(path=str(artifacts / "data-tools-landscape.png"), full_page=True)
