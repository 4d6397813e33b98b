"""The playground animates: frames arrive and are drawn, with no console errors."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import BOUNDARY_PAINTED, wait_js
from tests.web.service import LiveServer

READ = """(() => ({ t: performance.now(), bp: Object.assign({}, window.__bp),
  net: Object.assign({}, window.__bpNetwork),
  step: parseInt(document.getElementById('step').textContent) }))()"""


def test_pictures_curves_and_counters_follow_the_run(page: Any, server: LiveServer) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(server.http + "/?d=spiral&ep=5000")
    page.wait_for_selector("#plot-boundary .main-svg")
    page.click("#btn-play")
    wait_js(page, "window.__bp.snapshots > 3 && window.__bp.chartFrames > 3", 90_000)
    wait_js(page, BOUNDARY_PAINTED)
    a = page.evaluate(READ)
    page.wait_for_timeout(2000)
    b = page.evaluate(READ)
    # While it trains, new pictures and curve points keep arriving and being drawn ...
    assert b["bp"]["snapshots"] > a["bp"]["snapshots"]
    assert b["bp"]["pictures"] > a["bp"]["pictures"]
    assert b["bp"]["chartFrames"] > a["bp"]["chartFrames"]
    assert b["step"] > a["step"] > 0
    # ... the network diagram is restyled in place and, on screen, its neuron pictures come.
    assert b["net"]["updates"] > a["net"]["updates"]
    assert b["net"]["visible"] and b["net"]["thumbs"] > 0
    units = page.evaluate("document.getElementById('network').bpMeta.units.slice(0, -1)")
    assert page.locator("#network canvas.thumb").count() == sum(units)  # inputs and hidden
    # The curves hold every frame's point (Plotly's, up to its last sync, never reset).
    loss = page.evaluate("document.getElementById('chart-loss').data[0].x.length")
    assert loss >= b["bp"]["chartFrames"] > 0 or loss > 100
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    assert console == [], console


def test_play_paints_over_the_previewed_points_without_replotting(
    page: Any, server: LiveServer
) -> None:
    """The first update after Play is one canvas paint: the run trains on the data the
    page previews, so its points stay plotted (a Plotly re-plot cost ~50 ms of it)."""
    page.goto(server.http + "/?d=spiral&ep=5000")
    wait_js(page, "window.__bpBoundary.layouts > 0")
    plotted = page.evaluate("window.__bpBoundary.layouts")
    page.click("#btn-play")
    wait_js(page, "window.__bp.firstFrameAt !== null && window.__bpBoundary.pictures > 0")
    wait_js(page, BOUNDARY_PAINTED)
    assert page.evaluate("window.__bpBoundary.layouts") == plotted
    page.click("#opt-test")  # other points on show: re-plotted
    wait_js(page, f"window.__bpBoundary.layouts > {plotted}")
    # A second run on the same data: still the same points, still no re-plot.
    page.click("#btn-reset")
    wait_js(page, "document.getElementById('transport').dataset.run === ''")
    page.click("#btn-play")
    wait_js(page, "document.getElementById('transport').dataset.run !== ''")
    wait_js(page, "window.__bp.firstFrameAt !== null")
    assert page.evaluate("window.__bpBoundary.layouts") == plotted + 1
    page.click("#btn-pause")
