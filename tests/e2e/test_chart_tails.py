"""The training curves' live tails (static/js/chart_tail.js): new points are stroked
on a canvas over the plot at Plotly's own coordinates between syncs, every point reaches
Plotly, a finished run's axes fit its data, and a range the user zoomed to is kept."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

# The newest point the tail canvas drew for the loss chart's first trace (batch loss),
# its pixel by Plotly's axis mapping, and the canvas's alpha around that pixel.
TAIL_POINT = """(() => {
  const el = document.getElementById('chart-loss'), st = el.__tail, fl = el._fullLayout;
  if (!st || !st.canvas || !st.drawn) return null;
  const drawn = parseInt(st.drawn.split(',')[0]);
  if (!(drawn > st.lens[0] + 1)) return null;  // no tail beyond the joining point
  const t = window.__bpCharts.traces('chart-loss')[0];
  const k = drawn - 1, x = t.x[k], y = t.y[k];
  const px = fl.xaxis._offset + fl.xaxis.c2p(x), py = fl.yaxis._offset + fl.yaxis.c2p(y);
  const dpr = window.devicePixelRatio || 1, c = st.canvas.getContext('2d');
  const img = c.getImageData(Math.round(px * dpr) - 2, Math.round(py * dpr) - 2, 5, 5).data;
  let alpha = 0;
  for (let i = 3; i < img.length; i += 4) alpha = Math.max(alpha, img[i]);
  const far = c.getImageData(Math.round(px * dpr) + 40, 2, 1, 1).data[3];  // right of the tail, top
  const inside = px >= fl.xaxis._offset && px <= fl.xaxis._offset + fl.xaxis._length
    && py >= fl.yaxis._offset && py <= fl.yaxis._offset + fl.yaxis._length;
  return inside ? { k, plotly: el.data[0].x.length, alpha, far } : null;  // else a sync is due
})()"""

CAUGHT_UP = """(() => {
  const el = document.getElementById('chart-loss');
  const t = window.__bpCharts.traces('chart-loss');
  return el.data && t.length && el.data[0].x.length === t[0].x.length;
})()"""


def test_new_points_are_stroked_on_the_tail_until_plotly_takes_them(
    page: Any, server: LiveServer
) -> None:
    page.goto(server.http + "/?d=spiral&ep=5000&pc=300")
    page.click("#btn-play")
    point = wait_js(page, TAIL_POINT, 60_000)
    assert point["k"] >= point["plotly"]  # a point Plotly does not have yet
    assert point["alpha"] > 0  # ... drawn where Plotly would draw it
    assert point["far"] == 0  # and nothing where there is no point
    # Within a second or so the tail goes into Plotly (hover and the legend see it).
    wait_js(page, f"document.getElementById('chart-loss').data[0].x.length > {point['k']}", 10_000)
    page.click("#btn-pause")
    wait_js(page, "document.getElementById('status').dataset.status === 'paused'")
    wait_js(page, CAUGHT_UP, 10_000)


def test_a_finished_run_shows_every_point_on_axes_that_fit_them(
    page: Any, server: LiveServer
) -> None:
    page.goto(server.http + "/?d=circle&up=0&ep=40")
    page.click("#btn-play")
    wait_js(page, "document.getElementById('status').dataset.status === 'finished'", 60_000)
    wait_js(page, CAUGHT_UP, 10_000)
    fit = page.evaluate("""(() => {
      const el = document.getElementById('chart-loss');
      const xs = window.__bpCharts.traces('chart-loss').flatMap((t) => t.x);
      const r = el._fullLayout.xaxis.range;
      return { lo: r[0], hi: r[1], min: Math.min(...xs), max: Math.max(...xs) };
    })()""")
    # Plotly's autorange on the data (a marker's padding at most): not the live view's 20%
    # headroom.
    assert fit["hi"] >= fit["max"] and fit["hi"] - fit["max"] < 0.1 * (fit["max"] - fit["min"])


def test_a_zoomed_range_stays_while_the_run_goes_on(page: Any, server: LiveServer) -> None:
    page.goto(server.http + "/?d=spiral&ep=5000&pc=300")
    page.click("#btn-play")
    wait_js(page, "(document.getElementById('chart-loss').data || []).length > 0", 60_000)
    page.evaluate("Plotly.relayout('chart-loss', {'xaxis.range': [0, 40]})")  # as a drag-zoom
    synced = page.evaluate("document.getElementById('chart-loss').data[0].x.length")
    wait_js(page, f"document.getElementById('chart-loss').data[0].x.length > {synced}", 10_000)
    assert page.evaluate("document.getElementById('chart-loss')._fullLayout.xaxis.range") == [0, 40]
    page.evaluate("Plotly.relayout('chart-loss', {'xaxis.autorange': true})")  # double-click
    # Following the curve again: the next sync leaves headroom right of the newest point.
    wait_js(
        page,
        """(() => { const el = document.getElementById('chart-loss');
      const x = el.data[0].x; return el._fullLayout.xaxis.range[1] > x[x.length - 1] + 1; })()""",
        10_000,
    )
    page.click("#btn-pause")
